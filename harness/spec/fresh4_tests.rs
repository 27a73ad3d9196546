//! Fresh-user findings 1, 6, 9 and 10 (wave 4): names and steps `validate` let through,
//! which the run then read as a Raft failure or did nothing with; and errors pointed at the
//! wrong place or shown only in a second round.
use super::tests::{assert_all, assert_none, errors_with};

/// Kinds `rust`, `python`, `java` (no node of it below) and `old` (plain `HOST:PORT` peers).
const KINDS: &str = "[kind.rust]\ncommand = [\"bin/r\", \"{id}\", \"{peers}\"]\n\
                     [kind.python]\ncommand = [\"bin/p\", \"{id}\", \"{peers}\"]\n\
                     [kind.java]\ncommand = [\"bin/j\", \"{id}\", \"{peers}\"]\n\
                     [kind.old]\ncommand = [\"bin/o\", \"{id}\", \"{peer_addrs}\"]\n";

/// `[cluster]` with `cluster` (one line) and nodes 1.. of `kinds`, from line 2; the steps
/// after them start on line `4 + 3 * kinds.len()`.
fn suite(cluster: &str, kinds: &[&str], steps: &str) -> String {
    let nodes: String = kinds
        .iter()
        .enumerate()
        .map(|(i, k)| format!("[[node]]\nid = {}\nkind = \"{k}\"\n", i + 1))
        .collect();
    format!("[cluster]\n{cluster}\n{nodes}{steps}")
}

/// The rendered errors of `body` (after the include of [`KINDS`]), or "" when it loads.
fn errors_of(body: &str) -> String {
    errors_with(KINDS, body)
}

const RPY: &[&str] = &["rust", "rust", "python"];

/// The rendered errors of [`RPY`] nodes on RPC-aware links, then `steps` (from line 13).
fn rpc(steps: &str) -> String {
    errors_of(&suite("network = \"rpc\"", RPY, steps))
}

#[test]
fn a_leader_wait_of_a_kind_no_node_has_is_refused_at_the_kind_naming_the_cluster_kinds() {
    // Finding 1: no kind `cobol` at all; the run would fail liveness (exit 1).
    let wait = |kind: &str| format!("[[step]]\nwait = \"leader\"\nkind = \"{kind}\"\n");
    let e = errors_of(&suite("", RPY, &wait("cobol")));
    assert_all(
        &e,
        &[
            "s.toml:15:8: no node of the cluster has kind \"cobol\", so no such node can lead",
            "help: the cluster's node kinds: python, rust",
            "1 error in the spec",
        ],
    );
    // A near miss gets a did-you-mean; a kind defined but on no node is refused too.
    let e = errors_of(&suite("", RPY, &wait("pyhton")));
    assert_all(&e, &["kind \"pyhton\"", "did you mean \"python\"?"]);
    let e = errors_of(&suite("", RPY, &wait("java")));
    assert_all(
        &e,
        &["s.toml:15:8: no node of the cluster has kind \"java\""],
    );
    // Inside a repeat too.
    let e = errors_of(&suite(
        "",
        RPY,
        "[[step]]\nrepeat = 2\nsteps = [{ wait = \"leader\", kind = \"jav\" }]\n",
    ));
    assert_all(&e, &["no node of the cluster has kind \"jav\""]);
    // The kinds of the nodes load.
    for k in ["rust", "python"] {
        assert_eq!(errors_of(&suite("", RPY, &wait(k))), "", "{k}");
    }
    // A node that did not read is reported alone: its kind may be the one the wait names.
    let e = errors_of(&suite("", &["rust", "pythn"], &wait("python")));
    assert_all(&e, &["unknown node kind \"pythn\"", "1 error in the spec"]);
}

#[test]
fn peer_addrs_through_rpc_links_is_refused_at_the_setting_the_user_wrote() {
    // Finding 6: the caret was at 1:1 and the message named `proxies`, never written.
    let nodes = &["old", "rust", "rust"];
    let e = errors_of(&suite("network = \"rpc\"", nodes, ""));
    assert_all(
        &e,
        &[
            "s.toml:3:11: `network = \"rpc\"` (its links are proxies too) with `{peer_addrs}` (nodes 1 (old))",
            "run them without `proxies` and `network = \"rpc\"`",
        ],
    );
    assert_none(&e, &["`proxies = true` with", ":1:1:"]);
    let e = errors_of(&suite("proxies = true", nodes, ""));
    assert_all(
        &e,
        &["s.toml:3:11: `proxies = true` with `{peer_addrs}` (nodes 1 (old))"],
    );
    // Both written: at `proxies`, on its own line.
    let e = errors_of(&suite("network = \"rpc\"\nproxies = true", nodes, ""));
    assert_all(&e, &["s.toml:4:11: `proxies = true` with"]);
    // Direct calls (no links) or `{peers}` servers load.
    assert_eq!(errors_of(&suite("network = \"tcp\"", nodes, "")), "");
    assert_eq!(rpc(""), "");
}

/// A `msg` step on RPC links with `ends` (TOML lines: `from`, `to`).
fn msg(ends: &str) -> String {
    format!("[[step]]\nmsg = \"drop-request\"\n{ends}")
}

#[test]
fn a_msg_step_whose_ends_leave_no_link_is_refused_at_its_ends() {
    // Finding 9: the run printed "no link between the targets: nothing done".
    let e = rpc(&msg("from = 1\nto = 1\n"));
    assert_all(
        &e,
        &[
            "s.toml:16:6: this step would do nothing: from nodes [1] to nodes [1] there is no link between two different nodes",
            "give `from` and `to` different nodes",
        ],
    );
    // `to` absent: at `from`; an empty id list; a one-node cluster's default ends (at `msg`).
    let e = errors_of(&suite("network = \"rpc\"", &["rust"], &msg("from = [1]\n")));
    assert_all(
        &e,
        &["s.toml:9:8: this step would do nothing: from nodes [1] to nodes [1]"],
    );
    let e = rpc(&msg("from = []\n"));
    assert_all(&e, &["from nodes [] to nodes [1, 2, 3] there is no link"]);
    let e = errors_of(&suite("network = \"rpc\"", &["rust"], &msg("")));
    assert_all(&e, &["s.toml:8:7: this step would do nothing"]);
    // A label known to name one node, as both ends.
    let e = rpc(
        "[[step]]\nfault = \"pause\"\ntarget = 2\nlabel = \"p\"\n[[step]]\nfault = \"resume\"\n\
         [[step]]\nmsg = \"delay\"\ndelay_ms = 5\nfrom = \"@p\"\nto = 2\n",
    );
    assert_all(&e, &["from nodes [2] to nodes [2] there is no link"]);
    // Ends known only at run time, or with a link between two nodes, load.
    for ends in [
        "from = 1\nto = 2\n",
        "from = [1, 2]\nto = [1, 2]\n",
        "from = 1\n",
        "from = \"leader\"\nto = 1\n",
        "",
    ] {
        let e = rpc(&msg(ends));
        assert_eq!(e, "", "{ends}");
    }
}

/// `steps`, then `wait = "new-leader"`.
fn then_new_leader(steps: &str) -> String {
    let body = format!("{steps}[[step]]\nwait = \"new-leader\"\n");
    rpc(&body)
}

#[test]
fn a_new_leader_wait_with_no_earlier_fault_that_can_depose_a_leader_is_refused() {
    // Finding 9: it "passed in 0 ms" (any leader is new when nothing was hit).
    let e = then_new_leader("[[step]]\nwait = \"leader\"\n");
    assert_all(
        &e,
        &[
            "s.toml:16:8: `wait = \"new-leader\"` has no earlier step that can depose a leader",
            "help: put a `fault` (kill, stop, pause, crash-all)",
            "1 error in the spec",
        ],
    );
    // Steps that record no fault for it: flaky links, a message fault, a restart, a resume,
    // a nemesis of restarts and message faults only, a kill in a `repeat` run once after it.
    for steps in [
        "[[step]]\nnet = \"flaky\"\nloss = 0.1\n",
        "[[step]]\nmsg = \"drop-reply\"\n",
        "[[step]]\nfault = \"restart\"\ntarget = 1\n",
        "[[step]]\nfault = \"resume\"\ntarget = 1\n",
        "[[step]]\nnemesis = true\nfaults = [\"restart\", \"duplicate\", \"flaky\"]\n",
        "[[step]]\nrepeat = 1\nsteps = [{ wait = \"new-leader\" }, { fault = \"kill\", target = 1 }]\n",
    ] {
        let e = then_new_leader(steps);
        assert!(e.contains("has no earlier step that can depose a leader"), "{steps}\n{e}");
    }
    // A fault before it, a nemesis that can supply one, a kind wait (it kills leaders), or a
    // `repeat` whose later kill covers its wait from the second round on.
    for steps in [
        "[[step]]\nfault = \"kill\"\ntarget = \"leader\"\n",
        "[[step]]\nfault = \"stop\"\ntarget = 1\n",
        "[[step]]\nfault = \"pause\"\ntarget = 1\n",
        "[[step]]\nfault = \"crash-all\"\n",
        "[[step]]\nnet = \"isolate\"\ntarget = \"leader\"\n",
        "[[step]]\nnemesis = true\nfaults = [\"restart\", \"halves\"]\n",
        "[[step]]\nwait = \"leader\"\nkind = \"python\"\n",
        "[[step]]\nrepeat = 2\nsteps = [{ fault = \"kill\", target = 1 }, { fault = \"restart\" }]\n",
        "[[step]]\nrepeat = 3\nsteps = [{ wait = \"new-leader\" }, { fault = \"kill\", target = 1 }]\n",
    ] {
        assert_eq!(then_new_leader(steps), "", "{steps}");
    }
}

#[test]
fn an_unknown_required_check_is_pointed_at_its_entry() {
    // Finding 10: the caret was under the whole array.
    let body = suite(
        "",
        RPY,
        "[[step]]\nwait = \"leader\"\n[checks]\nrequired = [\"liveness\", \"livenes\"]\n",
    );
    let e = errors_of(&body);
    assert_all(
        &e,
        &[
            "s.toml:16:25: unknown check \"livenes\" in `required`",
            "did you mean \"liveness\"?",
        ],
    );
    assert_none(&e, &["\"liveness\" in `required`"]);
}

#[test]
fn a_duplicate_label_is_reported_with_the_other_errors_of_its_steps() {
    // Finding 10: a bad value in the labelled step hid the duplicate until it was fixed.
    let e = rpc("[[step]]\nfault = \"kil\"\ntarget = 1\nlabel = \"x\"\n\
         [[step]]\nfault = \"kill\"\ntarget = 2\nlabel = \"x\"\n\
         [[step]]\nmsg = \"delay\"\ndelay_ms = 5\ncount = 1\nrate = 0.5\nfrom = 2\nto = 2\n\
         [[step]]\nfault = \"restart\"\ntarget = \"@x\"\n");
    assert_all(
        &e,
        &[
            "s.toml:14:9: `fault` cannot be \"kil\"",
            "s.toml:20:9: label \"x\" is already defined on line 16",
            "s.toml:25:1: a `msg` step has `count` or `rate`, not both",
            "s.toml:27:6: this step would do nothing: from nodes [2] to nodes [2]",
            "4 errors in the spec",
        ],
    );
    // The label of the step with the bad value still names it for `@x`.
    assert_none(&e, &["unknown label"]);
}

#[test]
fn a_previous_target_with_no_earlier_step_that_hits_nodes_is_refused_at_the_value() {
    // `"previous"` is resolved at run time against the steps run so far: with none it names
    // no node and the step is skipped ("no node to Restart; skipped").
    let e =
        rpc("[[step]]\nwait = \"leader\"\n[[step]]\nfault = \"restart\"\ntarget = \"previous\"\n");
    assert_all(
        &e,
        &[
            "s.toml:17:10: \"previous\" names the nodes the last `fault`, `net` or `msg` step hit, and no such step comes before this one",
            "1 error in the spec",
        ],
    );
    // In `from`/`to` of a msg step (itself no earlier step).
    let e =
        rpc("[[step]]\nmsg = \"delay\"\ndelay_ms = 5\nfrom = \"previous\"\nto = \"previous\"\n");
    assert_all(
        &e,
        &[
            "s.toml:16:8: \"previous\"",
            "s.toml:17:6: \"previous\"",
            "2 errors",
        ],
    );
    // A `repeat` run once whose kill comes after it.
    let e = errors_of(&suite(
        "",
        RPY,
        "[[step]]\nrepeat = 1\nsteps = [{ fault = \"pause\", target = \"previous\" }, { fault = \"kill\", target = 1 }]\n",
    ));
    assert_all(&e, &["s.toml:15:38: \"previous\" names", "1 error"]);
    // After a step that hits nodes, or in a repeat whose later step covers it from round 2.
    for steps in [
        "[[step]]\nfault = \"kill\"\ntarget = 1\n",
        "[[step]]\nnet = \"isolate\"\ntarget = 2\n",
        "[[step]]\nmsg = \"drop-reply\"\nto = 2\n",
        "[[step]]\nnemesis = true\nfaults = [\"pause\"]\n",
    ] {
        let body = format!("{steps}[[step]]\nfault = \"restart\"\ntarget = \"previous\"\n");
        assert_eq!(rpc(&body), "", "{steps}");
    }
    let body = "[[step]]\nrepeat = 2\nsteps = [{ fault = \"restart\", target = \"previous\" }, { fault = \"kill\", target = 1 }]\n";
    assert_eq!(rpc(body), "");
}

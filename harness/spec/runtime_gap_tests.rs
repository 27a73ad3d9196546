//! Suites that validated and then failed only at run time (fresh-user findings: a stop at a
//! step, exit 3; a required check never judged, exit 4; a setting that does nothing), now
//! refused (or warned about) by `validate`, at the line of the value.
use super::tests::{assert_all, assert_none, errors_with, ONE_KIND};

/// Three `rust` nodes on RPC-aware links, then `body`.
fn rpc3(body: &str) -> String {
    let nodes: String = (1..=3)
        .map(|i| format!("[[node]]\nid = {i}\nkind = \"rust\"\n"))
        .collect();
    format!("[cluster]\nnetwork = \"rpc\"\n{nodes}{body}")
}

/// The rendered errors of `body` (after the kinds include), or "" when it loads.
fn errors_of(body: &str) -> String {
    errors_with(ONE_KIND, body)
}

const MSG_EVERY: &str = "[[step]]\nmsg = \"delay\"\ndelay_ms = 5\nlabel = \"slow\"\n";

#[test]
fn isolating_a_label_of_every_node_is_refused_at_the_target() {
    // The msg step has no `from`/`to`: its label names its callers, every node.
    let e = errors_of(&rpc3(&format!(
        "{MSG_EVERY}[[step]]\nnet = \"isolate\"\ntarget = \"@slow\"\n"
    )));
    assert!(
        e.contains("s.toml:19:10: this step cannot run: \"@slow\" names the nodes its step hit (labelled on line 16), and it would isolate every node"),
        "{e}"
    );
    // The same with `one_way`, and through a label of the label (a kill of `@slow`).
    let e = errors_of(&rpc3(&format!(
        "{MSG_EVERY}[[step]]\nfault = \"pause\"\ntarget = \"@slow\"\nlabel = \"still\"\n\
         [[step]]\nnet = \"isolate\"\none_way = true\ntarget = \"@still\"\n"
    )));
    assert!(
        e.contains("\"@still\" names the nodes its step hit (labelled on line 20)"),
        "{e}"
    );
    // A `net` step's label is its target, `all` by default for a split.
    let e = errors_of(&rpc3(
        "[[step]]\nnet = \"halves\"\nlabel = \"h\"\n[[step]]\nheal = true\n\
         [[step]]\nnet = \"isolate\"\ntarget = \"@h\"\n",
    ));
    assert!(
        e.contains("\"@h\" names the nodes its step hit (labelled on line 15)"),
        "{e}"
    );
    // A msg step between one node and itself hits no node.
    let e = errors_of(&rpc3(
        "[[step]]\nmsg = \"drop-reply\"\nfrom = 2\nto = 2\nlabel = \"none\"\n\
         [[step]]\nnet = \"isolate\"\ntarget = \"@none\"\n",
    ));
    assert!(
        e.contains(
            "\"@none\" names the nodes its step hit (labelled on line 17), and it names no node"
        ),
        "{e}"
    );
}

#[test]
fn labels_that_can_name_a_proper_subset_still_load() {
    for body in [
        // Receivers `to`: node 2 only.
        "[[step]]\nmsg = \"delay\"\ndelay_ms = 5\nto = 2\nlabel = \"l\"\n",
        // Callers: the leader (known at run time only).
        "[[step]]\nmsg = \"delay\"\ndelay_ms = 5\nfrom = \"leader\"\nlabel = \"l\"\n",
        // To every node but from the leader: every node but the leader.
        "[[step]]\nmsg = \"delay\"\ndelay_ms = 5\nfrom = \"leader\"\nto = [1, 2, 3]\nlabel = \"l\"\n",
        "[[step]]\nfault = \"kill\"\ntarget = \"minority\"\nlabel = \"l\"\n",
    ] {
        let e = errors_of(&rpc3(&format!(
            "{body}[[step]]\nnet = \"isolate\"\ntarget = \"@l\"\n"
        )));
        assert_eq!(e, "", "{body}");
    }
    // A label of every node serves targets that may be every node.
    for later in [
        "[[step]]\nnet = \"flaky\"\ntarget = \"@slow\"\ndelay_ms = 5\n",
        "[[step]]\nfault = \"kill\"\ntarget = \"@slow\"\n",
        "[[step]]\nmsg = \"drop-request\"\nfrom = \"@slow\"\nto = \"@slow\"\n",
    ] {
        let e = errors_of(&rpc3(&format!("{MSG_EVERY}{later}")));
        assert_none(&e, &["cannot run"]);
        assert_eq!(e, "", "{later}");
    }
}

/// One `rust` node, then `body`.
fn one(body: &str) -> String {
    format!("[[node]]\nid = 1\nkind = \"rust\"\n{body}")
}

#[test]
fn hold_s_without_a_composed_fault_is_refused_at_its_key() {
    let e = errors_of(&one(
        "[explore]\nfaults = [\"kill\"]\nhold_s = [1.0, 2.0]\n",
    ));
    assert_all(
        &e,
        &[
            "s.toml:7:1: `hold_s` applies to composed faults only, and `faults` has none",
            "add a composed fault (lag, deposed-leader, partial-replication, stale-appends)",
        ],
    );
    // The default faults (kill, pause, crash-all) have none either.
    let e = errors_of(&one("[explore]\nhold_s = [1.0, 2.0]\n"));
    assert_all(
        &e,
        &["s.toml:6:1: `hold_s` applies to composed faults only, and the default"],
    );
    // With a composed fault it loads.
    let ok =
        "[cluster]\nproxies = true\n[explore]\nfaults = [\"kill\", \"lag\"]\nhold_s = [1.0, 2.0]\n";
    assert_eq!(errors_of(&one(ok)), "");
}

#[test]
fn a_huge_hold_s_is_printed_in_exponent_form() {
    let e = errors_of(&one(
        "[cluster]\nproxies = true\n[explore]\nfaults = [\"lag\"]\nhold_s = [1.0, 1e300]\n",
    ));
    assert_all(&e, &["`hold_s` = [1, 1e300]: need 0 < min <= max <= 600"]);
    assert_none(&e, &["00000000000000000000"]);
}

/// `required = [check]` after `steps` (three `rust` nodes, a register workload).
fn requiring(check: &str, steps: &str) -> String {
    let nodes: String = (1..=3)
        .map(|i| format!("[[node]]\nid = {i}\nkind = \"rust\"\n"))
        .collect();
    errors_of(&format!(
        "{nodes}[cluster]\nproxies = true\n[workload]\ntype = \"register\"\n{steps}\
         [checks]\nrequired = [\"{check}\"]\n"
    ))
}

#[test]
fn required_checks_the_schedule_can_never_judge_are_refused_at_required() {
    let start = "[[step]]\nworkload = \"start\"\n";
    let e = requiring("liveness", start);
    assert!(e.contains("s.toml:18:12: required check \"liveness\" can never be judged: the schedule has no `wait` step"), "{e}");
    assert!(e.contains("add a `wait` step"), "{e}");
    let e = requiring("restarts", "[[step]]\nfault = \"kill\"\ntarget = 1\n");
    assert!(
        e.contains("required check \"restarts\" can never be judged: no step restarts a node"),
        "{e}"
    );
    let e = requiring(
        "isolated_commits",
        "[[step]]\nnet = \"flaky\"\ndelay_ms = 5\n",
    );
    assert!(
        e.contains("required check \"isolated_commits\" can never be judged: no step cuts a link"),
        "{e}"
    );
    // Inside a repeat and in a nemesis, the steps count.
    for (check, steps) in [
        ("liveness", "[[step]]\nrepeat = 2\nsteps = [{ wait = \"leader\" }]\n"),
        ("liveness", "[[step]]\nwait = \"leader\"\nkind = \"rust\"\n"),
        ("restarts", "[[step]]\nfault = \"crash-all\"\n"),
        ("restarts", "[[step]]\nfault = \"restart\"\n"),
        ("restarts", "[[step]]\nnemesis = true\nfaults = [\"stop\"]\n"),
        // A nemesis restart stops a running node first (fresh-user pass 5: it was refused).
        ("restarts", "[[step]]\nnemesis = true\nfaults = [\"restart\", \"pause\"]\n"),
        ("restarts", "[[step]]\nwait = \"leader\"\nkind = \"rust\"\n"),
        ("isolated_commits", "[[step]]\nrepeat = 2\nsteps = [{ net = \"isolate\", target = \"leader\" }, { heal = true }]\n"),
        ("isolated_commits", "[[step]]\nnemesis = true\nfaults = [\"halves\"]\n"),
    ] {
        assert_eq!(requiring(check, steps), "", "{check}: {steps}");
    }
    // A nemesis that only pauses restarts nothing; one that only adds latency cuts nothing.
    assert!(requiring(
        "restarts",
        "[[step]]\nnemesis = true\nfaults = [\"pause\"]\n"
    )
    .contains("no step restarts"));
    assert!(requiring(
        "isolated_commits",
        "[[step]]\nnemesis = true\nfaults = [\"flaky\"]\n"
    )
    .contains("no step cuts"));
}

#[test]
fn a_kind_file_loaded_as_a_suite_is_said_to_be_one() {
    // `explore KINDS_FILE` loads it here (explore::gen::load_base), as `run` would refuse it.
    let (dir, loaded) = super::tests::load_files(ONE_KIND, b"include = [\"kinds.toml\"]\n");
    assert!(loaded.is_err());
    let kinds = dir.path().join("kinds.toml");
    let e = super::load(&kinds).unwrap_err().to_string();
    assert!(
        e.contains("kinds.toml:1:1: this is a kind file (only [kind.NAME] tables: how to build and start each node program), not a suite: it has no [[node]], [[step]] or [workload]"),
        "{e}"
    );
    assert!(
        e.contains("suites use it with `include = [\"kinds.toml\"]`"),
        "{e}"
    );
    assert_none(&e, &["the suite has no nodes"]);
    // A suite without nodes is still told to add some.
    let e = errors_of("[workload]\ntype = \"register\"\n");
    assert!(e.contains("the suite has no nodes"), "{e}");
}

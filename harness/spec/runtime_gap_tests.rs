//! Suites that validated and then failed only at run time (fresh-user findings: a stop at a
//! step, exit 3; a required check never judged, exit 4; a setting that does nothing), now
//! refused (or warned about) by `validate`, at the line of the value.
use super::tests::{assert_none, load_including, ONE_KIND};

/// Three `rust` nodes on RPC-aware links, then `body`.
fn rpc3(body: &str) -> String {
    let nodes: String = (1..=3)
        .map(|i| format!("[[node]]\nid = {i}\nkind = \"rust\"\n"))
        .collect();
    format!("[cluster]\nnetwork = \"rpc\"\n{nodes}{body}")
}

/// The rendered errors of `body` (after the kinds include), or "" when it loads.
fn errors_of(body: &str) -> String {
    match load_including(ONE_KIND, body).1 {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
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

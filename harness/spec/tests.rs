//! Spec parsing and validation: good suites load; every kind of mistake is
//! reported at its line and column, with a suggestion where one is obvious.
use super::*;
use std::path::Path;

const KINDS: &str = r#"
[kind.rust]
command = ["bin/node", "{id}", "{port}", "{peers}", "--journal", "{journal}"]
[kind.plain]
command = ["bin/other", "{id}", "{port}", "{peer_addrs}"]
"#;

fn load_text(suite: &str) -> Result<Spec, SpecErrors> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("kinds.toml"), KINDS).unwrap();
    let p = dir.path().join("s.toml");
    std::fs::write(&p, format!("include = [\"kinds.toml\"]\n{suite}")).unwrap();
    load(&p)
}

const NODES: &str =
    "[[node]]\nid = 1\nkind = \"rust\"\n[[node]]\nid = 2\nkind = \"plain\"\nport = 7002\n";

/// All messages, one string, without the temp dir's path.
fn errors(suite: &str) -> String {
    match load_text(suite) {
        Ok(_) => panic!("expected errors for:\n{suite}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_valid_suite_loads_with_defaults_and_overrides() {
    let s = load_text(&format!(
        "{NODES}[cluster]\nbase_port = 6000\nelection_timeout_ms = \"300-600\"\n\
         [workload]\ntype = \"set\"\n[[step]]\nwait = \"leader\"\n\
         [[step]]\nrepeat = 2\nsteps = [{{ fault = \"kill\", target = \"leader\" }}, {{ fault = \"restart\" }}]\n"
    ))
    .unwrap();
    assert_eq!(s.nodes[0].port, 6001, "base_port + id");
    assert_eq!(s.nodes[1].port, 7002);
    assert_eq!(s.cluster.timing.election_min_ms, 300);
    assert_eq!(s.cluster.timing.heartbeat_ms, 50);
    assert!(s.kinds["rust"].writes_journal());
    assert!(!s.kinds["plain"].writes_journal());
    assert_eq!(s.steps.len(), 2);
    match &s.steps[1].action {
        Action::Repeat { times, steps } => {
            assert_eq!(*times, 2);
            assert!(matches!(
                steps[1].action,
                Action::Fault {
                    fault: ProcFault::Restart,
                    target: Target::Down
                }
            ));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.steps[0].at, "s.toml:14", "the step's file:line");
}

#[test]
fn unknown_key_points_at_it_and_suggests_the_nearest() {
    let e = errors(&format!("{NODES}[cluster]\nheartbeet_ms = 50\n"));
    assert!(
        e.contains("s.toml:10:1: unknown key `heartbeet_ms` in [cluster]"),
        "{e}"
    );
    assert!(e.contains("did you mean `heartbeat_ms`?"), "{e}");
    assert!(e.contains("^^^^^^^^^^^^"), "{e}");
}

#[test]
fn timing_must_be_sane() {
    let e = errors(&format!(
        "{NODES}[cluster]\nelection_timeout_ms = [300, 300]\n"
    ));
    assert!(e.contains("must be above 0 and below the maximum"), "{e}");
    let e = errors(&format!(
        "{NODES}[cluster]\nelection_timeout_ms = [150, 300]\nheartbeat_ms = 100\n"
    ));
    assert!(
        e.contains("not well below the minimum election timeout"),
        "{e}"
    );
}

#[test]
fn nodes_are_checked() {
    let e = errors("[[node]]\nid = 1\nkind = \"rsut\"\n[[node]]\nid = 2\nkind = \"rust\"\nport = 6001\n[[node]]\nid = 2\nkind = \"rust\"\n");
    assert!(e.contains("unknown node kind \"rsut\""), "{e}");
    assert!(e.contains("did you mean \"rust\"?"), "{e}");
    assert!(e.contains("node id 2 is used twice"), "{e}");
    let e = errors("");
    assert!(e.contains("the suite has no nodes"), "{e}");
}

#[test]
fn steps_are_checked() {
    let e = errors(&format!("{NODES}[[step]]\nwiat = \"leader\"\n"));
    assert!(
        e.contains("unknown step action `wiat`") && e.contains("did you mean `wait`?"),
        "{e}"
    );
    let e = errors(&format!(
        "{NODES}[[step]]\nwait = \"leader\"\nsleep_s = 1\n"
    ));
    assert!(e.contains("a step has exactly one action"), "{e}");
    let e = errors(&format!("{NODES}[[step]]\nfault = \"kill\"\ntarget = 9\n"));
    assert!(e.contains("no node has id 9"), "{e}");
    let e = errors(&format!("{NODES}[[step]]\nfault = \"kill\"\n"));
    assert!(e.contains("needs a `target`"), "{e}");
    let e = errors(&format!(
        "{NODES}[[step]]\nnet = \"isolate\"\ntarget = \"leader\"\n"
    ));
    assert!(
        e.contains("network faults need the per-link proxies"),
        "{e}"
    );
    let e = errors(&format!("{NODES}[[step]]\nworkload = \"start\"\n"));
    assert!(e.contains("the suite has no [workload]"), "{e}");
    let e = errors(&format!(
        "{NODES}[[step]]\nnemesis = true\nfaults = [\"kil\"]\n"
    ));
    assert!(e.contains("did you mean \"kill\"?"), "{e}");
}

#[test]
fn kinds_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.toml");
    std::fs::write(
        &p,
        "[kind.x]\ncommand = [\"n\", \"{prot}\"]\nbuild = []\n[[node]]\nid = 1\nkind = \"x\"\n",
    )
    .unwrap();
    let e = load(&p).unwrap_err().to_string();
    assert!(
        e.contains("unknown placeholder `{prot}`") && e.contains("did you mean `{port}`?"),
        "{e}"
    );
    assert!(e.contains("`build` must not be empty"), "{e}");
}

#[test]
fn non_loopback_hosts_and_bad_checks_are_rejected() {
    let e = errors(&format!(
        "{NODES}[cluster]\nhost = \"10.0.0.1\"\n[checks]\nrequired = [\"linearisable\"]\n"
    ));
    assert!(e.contains("not a loopback address"), "{e}");
    assert!(e.contains("did you mean \"linearizable\"?"), "{e}");
}

#[test]
fn toml_syntax_errors_have_a_position() {
    let e = errors("x = [");
    assert!(e.contains("s.toml:2:"), "{e}");
    let missing = load(Path::new("/nonexistent/suite.toml"))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("cannot read the file"), "{missing}");
}

#[test]
fn workload_groups_load_and_bad_ones_are_named() {
    let s = load_text(&format!(
        "{NODES}[workload]\ntype = \"register\"\nrate = 30\ntargets = [1]\n\
         [[workload.group]]\nclients = 2\ntargets = [2]\n[[step]]\nwait = \"leader\"\n"
    ))
    .unwrap();
    let w = s.workload.unwrap();
    assert_eq!(w.groups.len(), 1);
    assert_eq!(
        (w.groups[0].clients, w.groups[0].targets.clone()),
        (2, vec![2])
    );
    assert_eq!(w.groups[0].rate, 30.0, "the workload's rate by default");
    let e = errors(&format!(
        "{NODES}[workload]\ntype = \"register\"\n\
         [[workload.group]]\nclient = 2\ntargets = [9]\n[[step]]\nwait = \"leader\"\n"
    ));
    assert!(
        e.contains("unknown key `client` in [[workload.group]]"),
        "{e}"
    );
    assert!(e.contains("no node has id 9"), "{e}");
    let e = errors(&format!(
        "{NODES}[workload]\ntype = \"register\"\ngroup = 3\n[[step]]\nwait = \"leader\"\n"
    ));
    assert!(e.contains("`group` must be an array of tables"), "{e}");
}

#[test]
fn peer_addrs_through_the_proxies_is_refused() {
    // Node 2's kind ("plain") passes {peer_addrs}: ids derived from proxy ports would be wrong.
    let e = errors(&format!(
        "{NODES}[cluster]\nproxies = true\n[[step]]\nwait = \"leader\"\n"
    ));
    assert!(
        e.contains("`proxies = true` with `{peer_addrs}` (nodes 2 (plain))"),
        "{e}"
    );
    assert!(e.contains("s.toml:"), "{e}");
    // Without proxies the same nodes are fine.
    load_text(&format!("{NODES}[[step]]\nwait = \"leader\"\n")).unwrap();
}

#[test]
fn check_settings_and_error_patterns_load_and_bad_ones_are_named() {
    let s = load_text(&format!(
        "{NODES}[[step]]\nwait = \"leader\"\n[checks]\nmax_new_terms = 5\nterm_window_s = 2.5\nnode_errors = \"warning\"\n"
    ))
    .unwrap();
    assert_eq!(s.checks.max_new_terms, 5);
    assert_eq!(s.checks.term_window_ms, Some(2500));
    assert!(s.checks.node_errors_warn);
    let d = load_text(&format!("{NODES}[[step]]\nwait = \"leader\"\n")).unwrap();
    assert_eq!((d.checks.max_new_terms, d.checks.term_window_ms), (3, None));
    assert!(!d.checks.node_errors_warn);
    let e = errors(&format!(
        "{NODES}[[step]]\nwait = \"leader\"\n[checks]\nnode_errors = \"warn\"\n"
    ));
    assert!(e.contains("node_errors"), "{e}");
    assert!(e.contains("expected one of: fail, warning"), "{e}");
    let e = errors(&format!(
        "[kind.bad]\ncommand = [\"x\"]\nerror_patterns = [\"^FATAL (\"]\n{NODES}[[step]]\nwait = \"leader\"\n"
    ));
    assert!(
        e.contains("invalid regular expression \"^FATAL (\" in `error_patterns`"),
        "{e}"
    );
}

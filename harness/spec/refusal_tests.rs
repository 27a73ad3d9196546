//! Findings of the fresh-user passes: suites that loaded with a confusing
//! error, or loaded at all, and are now refused once, at the right line.
use super::tests::{errors, NODES};

#[test]
fn a_duplicate_node_id_is_reported_once_without_a_port_clash_of_the_node_with_itself() {
    let e = errors("[[node]]\nid = 1\nkind = \"rust\"\n[[node]]\nid = 1\nkind = \"rust\"\n");
    assert!(e.contains("s.toml:6:6: node id 1 is used twice"), "{e}");
    assert!(!e.contains("used by nodes 1 and 1"), "{e}");
    assert!(e.contains("1 error in the spec"), "{e}");
}

#[test]
fn required_history_checks_without_a_workload_are_refused_at_required() {
    let e = errors(&format!(
        "{NODES}[checks]\nrequired = [\"election_safety\", \"linearizable\"]\n"
    ));
    assert!(
        e.contains("s.toml:10:12: required check \"linearizable\" can never be judged: the suite has no [workload]"),
        "{e}"
    );
    assert!(
        e.contains("use a [workload] with `type = \"register\"`"),
        "{e}"
    );
    assert!(!e.contains("\"election_safety\" can never"), "{e}");
    // Durability without a workload or a commit wait: no write to judge.
    let e = errors(&format!("{NODES}[checks]\nrequired = [\"durability\"]\n"));
    assert!(
        e.contains("required check \"durability\" can never be judged: the suite has no [workload] and no `wait = \"commit\"` step"),
        "{e}"
    );
    // Wire checks need RPC-aware links.
    let e = errors(&format!(
        "{NODES}[workload]\ntype = \"register\"\n[checks]\nrequired = [\"append_consistency\"]\n"
    ));
    assert!(
        e.contains("required check \"append_consistency\" can never be judged"),
        "{e}"
    );
    assert!(e.contains("network = \"rpc\""), "{e}");
}

#[test]
fn durability_with_commit_probes_only_loads() {
    // As suites/no-majority.toml: the probe writes of `wait = "commit"` are judged.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kinds.toml"),
        "[kind.rust]\ncommand = [\"bin/node\", \"{id}\", \"{port}\", \"{peers}\"]\n",
    )
    .unwrap();
    let p = dir.path().join("s.toml");
    let text = "include = [\"kinds.toml\"]\n[[node]]\nid = 1\nkind = \"rust\"\n\
                [[step]]\nrepeat = 2\nsteps = [{ wait = \"commit\" }]\n\
                [checks]\nrequired = [\"durability\"]\n";
    std::fs::write(&p, text).unwrap();
    assert!(super::load(&p).is_ok());
}

#[test]
fn required_checks_the_suite_can_judge_load() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kinds.toml"),
        "[kind.rust]\ncommand = [\"bin/node\", \"{id}\", \"{port}\", \"{peers}\"]\n",
    )
    .unwrap();
    let p = dir.path().join("s.toml");
    let text = "include = [\"kinds.toml\"]\n[[node]]\nid = 1\nkind = \"rust\"\n\
                [workload]\ntype = \"register\"\n[[step]]\nworkload = \"start\"\n\
                [checks]\nrequired = [\"linearizable\", \"durability\"]\n";
    std::fs::write(&p, text).unwrap();
    let s = super::load(&p).unwrap();
    assert_eq!(s.checks.required, vec!["linearizable", "durability"]);
}

#[test]
fn an_include_that_is_not_toml_is_reported_at_the_include_line_without_quoting_it() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "root:x:0:0:hunter2:/root:/bin/bash\n").unwrap();
    let p = dir.path().join("s.toml");
    std::fs::write(&p, format!("include = [\"{}\"]\n{NODES}", secret.display())).unwrap();
    let e = super::load(&p).unwrap_err().to_string();
    assert!(e.contains("s.toml:1:12: included file"), "{e}");
    assert!(e.contains("secret.txt is not TOML: line 1, column"), "{e}");
    assert!(!e.contains("hunter2"), "quotes the included file: {e}");
    assert!(
        e.contains("include = ["),
        "quotes the suite's include line: {e}"
    );
    // The unknown kinds that follow point back at the include, not at adding one.
    assert!(
        e.contains("no kinds were read: fix the `include` error above"),
        "{e}"
    );
    assert!(!e.contains("add `include = "), "{e}");
}

#[test]
fn a_suite_named_latest_is_refused_as_the_reports_folders_link() {
    // A run of a suite named `latest` followed REPORTS/latest into another suite's run.
    let e = errors(&format!("name = \"latest\"\n{NODES}"));
    assert!(
        e.contains("s.toml:2:8: `name` is reserved: `latest` is the reports folder's link"),
        "{e}"
    );
    assert!(super::tests::load_text(&format!("name = \"latest-run\"\n{NODES}")).is_ok());
}

//! Findings of the fresh-user passes: suites that loaded with a confusing
//! error, or loaded at all, and are now refused once, at the right line.
use super::tests::{assert_all, assert_none, load_including, refused, NODES, ONE_KIND};
use super::{Spec, SpecErrors};

/// Load `body` after an include of the one `rust` kind.
fn load_one_kind(body: &str) -> Result<Spec, SpecErrors> {
    load_including(ONE_KIND, body).1
}

#[test]
fn a_duplicate_node_id_is_reported_once_without_a_port_clash_of_the_node_with_itself() {
    let e = refused(
        "[[node]]\nid = 1\nkind = \"rust\"\n[[node]]\nid = 1\nkind = \"rust\"\n",
        &["s.toml:6:6: node id 1 is used twice", "1 error in the spec"],
    );
    assert_none(&e, &["used by nodes 1 and 1"]);
}

#[test]
fn required_history_checks_without_a_workload_are_refused_at_required() {
    let e = refused(
        &format!("{NODES}[checks]\nrequired = [\"election_safety\", \"linearizable\"]\n"),
        &[
            "s.toml:10:12: required check \"linearizable\" can never be judged: the suite has no [workload]",
            "use a [workload] with `type = \"register\"`",
        ],
    );
    assert_none(&e, &["\"election_safety\" can never"]);
    // Durability without a workload or a commit wait: no write to judge.
    refused(
        &format!("{NODES}[checks]\nrequired = [\"durability\"]\n"),
        &["required check \"durability\" can never be judged: the suite has no [workload] and no `wait = \"commit\"` step"],
    );
    // Wire checks need RPC-aware links.
    refused(
        &format!(
            "{NODES}[workload]\ntype = \"register\"\n[checks]\nrequired = [\"append_consistency\"]\n"
        ),
        &[
            "required check \"append_consistency\" can never be judged",
            "network = \"rpc\"",
        ],
    );
}

#[test]
fn durability_with_commit_probes_only_loads() {
    // As suites/no-majority.toml: the probe writes of `wait = "commit"` are judged.
    let text = "[[node]]\nid = 1\nkind = \"rust\"\n\
                [[step]]\nrepeat = 2\nsteps = [{ wait = \"commit\" }]\n\
                [checks]\nrequired = [\"durability\"]\n";
    assert!(load_one_kind(text).is_ok());
}

#[test]
fn required_checks_the_suite_can_judge_load() {
    let text = "[[node]]\nid = 1\nkind = \"rust\"\n\
                [workload]\ntype = \"register\"\n[[step]]\nworkload = \"start\"\n\
                [checks]\nrequired = [\"linearizable\", \"durability\"]\n";
    let s = load_one_kind(text).unwrap();
    assert_eq!(s.checks.required, vec!["linearizable", "durability"]);
}

#[test]
fn an_include_that_is_not_toml_is_reported_at_the_include_line_without_quoting_it() {
    let (dir, secret) =
        crate::testutil::temp_file("secret.txt", "root:x:0:0:hunter2:/root:/bin/bash\n");
    let p = dir.path().join("s.toml");
    std::fs::write(&p, format!("include = [\"{}\"]\n{NODES}", secret.display())).unwrap();
    let e = super::load(&p).unwrap_err().to_string();
    assert_all(
        &e,
        &[
            "s.toml:1:12: included file",
            "secret.txt is not TOML: line 1, column",
            // It quotes the suite's include line, never the included file.
            "include = [",
            // The unknown kinds that follow point back at the include, not at adding one.
            "no kinds were read: fix the `include` error above",
        ],
    );
    assert_none(&e, &["hunter2", "add `include = "]);
}

#[test]
fn a_suite_named_latest_is_refused_as_the_reports_folders_link() {
    // A run of a suite named `latest` followed REPORTS/latest into another suite's run.
    refused(
        &format!("name = \"latest\"\n{NODES}"),
        &["s.toml:2:8: `name` is reserved: `latest` is the reports folder's link"],
    );
    assert!(super::tests::load_text(&format!("name = \"latest-run\"\n{NODES}")).is_ok());
}

//! Findings of the hostile "new user" passes, each checked on the `raft-harness`
//! binary: ports are judged before anything is ended, a kind file given to `run`
//! says what it is, a required check no run can judge is refused by `validate`,
//! settling does not wait when no node runs, and a schedule that stops early (a
//! node that cannot be respawned) is exit 3. Ports 36400-36599.
mod support;
use predicates::prelude::*;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;
use support::kinds::{kind, write_kinds, NODE, NODE_ARGS};
use support::procs::{node_by_hand, stranger};
use support::suite::{
    assert_ports_free, cluster, harness, latest_report, nodes, refused_by, steps, write_suite,
    LEADER,
};
use support::{alive, port_open, wait_until};
use tempfile::TempDir;

/// Generous: the machine is shared and heavily loaded.
const LIMIT: Duration = Duration::from_secs(300);

/// A 3-node rust suite on base_port+1..+3 with `rest` (TOML) after the nodes, in a fresh
/// folder with the kinds file: the folder's guard and the suite's path.
fn rust_suite(name: &str, base_port: u16, rest: &str) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    write_kinds(dir.path(), &[]);
    let text = cluster(base_port, false, &nodes(3, "rust", "")) + rest;
    let spec = write_suite(dir.path(), name, &text);
    (dir, spec)
}

#[test]
fn a_stranger_on_one_port_refuses_the_run_before_a_hand_started_node_on_another_is_ended() {
    let (dir, spec) = rust_suite("mixed-holders", 36400, LEADER);
    // Port 36402: this suite's node program, started by hand for that port (ended when the run
    // may proceed). Port 36403: a process raft-harness must never touch.
    let by_hand = node_by_hand(2, 36402, "1=127.0.0.1:36401", None);
    let stranger = stranger(36403, 300);
    assert!(wait_until(Duration::from_secs(30), || port_open(36402)
        && port_open(36403)));
    harness(dir.path())
        .args(["run", spec.to_str().unwrap()])
        .timeout(LIMIT)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "port 36403 (node 3) is held by pid",
        ))
        .stderr(predicate::str::contains("nothing was ended"))
        .stderr(predicate::str::contains("ending pid").not());
    assert!(
        alive(by_hand.0.id()),
        "the hand-started node was ended although the run was refused"
    );
    assert!(alive(stranger.0.id()), "the stranger was ended");
    assert!(!port_open(36401), "a node was started");
}

#[test]
fn run_of_a_kind_file_says_it_is_a_kind_file_and_how_to_use_it() {
    let dir = tempfile::tempdir().unwrap();
    let kinds = write_kinds(dir.path(), &[]);
    let want = [
        "kinds.toml: this is a kind file",
        "not a suite",
        "include = [\"kinds.toml\"]",
    ];
    let unwanted = ["the suite has no nodes"];
    refused_by(dir.path(), &["run", "clean"], &kinds, &want, &unwanted);
}

#[test]
fn a_required_history_check_without_a_workload_is_refused_by_validate_and_run() {
    // Line 16 (include, 4 cluster lines, 9 node lines, [checks]); the list starts at column 12.
    let (dir, spec) = rust_suite(
        "no-history",
        36410,
        &format!("[checks]\nrequired = [\"linearizable\"]\n{LEADER}"),
    );
    let want = [
        "no-history.toml:16:12: required check \"linearizable\" can never be judged",
        "the suite has no [workload]",
    ];
    refused_by(dir.path(), &["validate", "run"], &spec, &want, &[]);
}

#[test]
fn settling_ends_at_once_with_a_note_when_the_schedule_left_no_node_running() {
    // A settle bound far beyond the run: without the fix the run waits all of it.
    let rest = format!(
        "[checks]\nsettle_timeout_s = 120\n{}",
        steps(&[
            r#"wait = "leader"; timeout_s = 60"#,
            r#"fault = "kill"; target = "all""#,
        ])
    );
    let (dir, spec) = rust_suite("all-down", 36420, &rest);
    let out = harness(dir.path())
        .args(["run", spec.to_str().unwrap()])
        .timeout(LIMIT)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("settle skipped: no node is running"),
        "{stderr}"
    );
    let report = latest_report(dir.path());
    let notes = report["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n
            .as_str()
            .unwrap()
            .starts_with("settle skipped: no node is running")),
        "{report}"
    );
    assert!(
        !notes
            .iter()
            .any(|n| n.as_str().unwrap().contains("did not settle")),
        "{report}"
    );
    assert_ports_free(36421..=36423);
}

#[test]
fn a_node_that_cannot_be_respawned_stops_the_schedule_early_with_exit_3() {
    // Node 1's program removes itself when it starts: its restart cannot spawn it again.
    let script = format!("#!/bin/sh\nrm -f -- \"$0\"\nexec {NODE} \"$@\"\n");
    let (dir, once) = support::temp_file("once-node.sh", &script);
    std::fs::set_permissions(&once, std::fs::Permissions::from_mode(0o755)).unwrap();
    let once_kind = kind(
        "once",
        &format!("[\"{}\", {NODE_ARGS}]", once.display()),
        "",
    );
    write_kinds(dir.path(), &[once_kind]);
    let node_list = "[[node]]\nid = 1\nkind = \"once\"\n\
                     [[node]]\nid = 2\nkind = \"rust\"\n[[node]]\nid = 3\nkind = \"rust\"\n";
    let text = cluster(36430, false, node_list)
        + &steps(&[
            r#"wait = "leader"; timeout_s = 60"#,
            r#"fault = "kill"; target = [1]"#,
            r#"fault = "restart"; target = [1]"#,
            r#"wait = "leader"; timeout_s = 60"#,
        ]);
    let spec = write_suite(dir.path(), "no-respawn", &text);
    harness(dir.path())
        .args(["run", spec.to_str().unwrap()])
        .timeout(LIMIT)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("schedule stopped:"));
    let report = latest_report(dir.path());
    assert_eq!(report["verdict"], "error", "{report}");
    let error = report["error"].as_str().unwrap();
    assert!(
        error.starts_with("the schedule stopped early:") && error.contains("cannot start"),
        "{error}"
    );
    assert_ports_free(36431..=36433);
}

/// fresh5 finding 1: `crash-all` then `wait = "new-leader"` validated (the help suggests it)
/// and then never met the wait: every node was recorded as hit, so no leader qualified. After
/// a crash-all the new leader is any leader of a later term.
#[test]
fn a_new_leader_wait_after_crash_all_is_met_by_the_leader_of_a_later_term() {
    let body = steps(&[
        r#"wait = "leader"; timeout_s = 60"#,
        r#"fault = "crash-all""#,
        r#"wait = "new-leader"; timeout_s = 60"#,
    ]);
    let (dir, spec) = rust_suite("crash-then-new-leader", 36440, &body);
    harness(dir.path())
        .args(["run", spec.to_str().unwrap()])
        .timeout(LIMIT)
        .assert()
        .code(0);
    let report = latest_report(dir.path());
    let waits = report["waits"].as_array().unwrap();
    assert_eq!(waits.len(), 2, "{waits:?}");
    assert!(waits[1]["met_after_ms"].is_u64(), "{waits:?}");
    assert_ports_free(36441..=36443);
}

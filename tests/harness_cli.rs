//! End-to-end tests of the `raft-harness` binary: real suites, real node
//! processes (the debug `rust-node` of this build, through a test kinds file),
//! real signals. Each test uses its own ports (25000-25999) and checks that no
//! process it caused is left behind.
mod support;
use predicates::prelude::*;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use support::kinds::{write_kinds, NODE, NODE_ARGS};
use support::procs::{node_by_hand, stranger};
use support::suite::{
    check, cluster, fault_leader_under_load, harness, json, nodes, refused_by, register,
    run_assert, stale_reads, steps, write_suite, HARNESS, LEADER,
};
use support::{alive, port_open, wait_exit, wait_until, Guard};

/// A 3-node rust suite with the given steps, on base_port+1..+3.
fn suite(dir: &Path, name: &str, base_port: u16, steps: &str) -> PathBuf {
    write_kinds(dir, &[]);
    let text = cluster(base_port, false, &nodes(3, "rust", "")) + &register(3, 40) + steps;
    write_suite(dir, name, &text)
}

/// No listener remains on the suite's ports (every node is gone).
fn assert_ports_free(base: u16) {
    support::suite::assert_ports_free(base + 1..=base + 3);
}

/// Every run and `clean` ends the marked processes of dead harness runs anywhere on the
/// machine (that is what makes the next run clean up after a SIGKILLed one). The test that
/// plants such a fake leftover must therefore not overlap the tests that start runs: they
/// share this lock, it takes it alone.
static RUNS: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn runs_shared() -> std::sync::RwLockReadGuard<'static, ()> {
    RUNS.read().unwrap_or_else(|p| p.into_inner())
}

fn runs_exclusive() -> std::sync::RwLockWriteGuard<'static, ()> {
    RUNS.write().unwrap_or_else(|p| p.into_inner())
}

#[test]
fn a_passing_suite_exits_0_and_writes_every_report_file() {
    let _runs = runs_shared();
    let dir = tempfile::tempdir().unwrap();
    let spec = suite(
        dir.path(),
        "kill-leader",
        25000,
        &(fault_leader_under_load("1.5", "kill")
            + &steps(&[
                r#"fault = "restart"; target = "previous""#,
                "sleep_s = 1",
                r#"workload = "stop""#,
                r#"wait = "caught-up""#,
            ])),
    );
    run_assert(dir.path(), &spec, 7)
        .code(0)
        .stderr(predicate::str::contains("PASS"))
        .stderr(predicate::str::contains("election_safety"));
    let latest = dir.path().join("reports/latest");
    for f in [
        "junit.xml",
        "report.json",
        "history.jsonl",
        "evidence.json",
        "nodes/1.log",
        "journals/1.jsonl",
    ] {
        assert!(latest.join(f).exists(), "{f} missing from the report");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(latest.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["verdict"], "pass");
    assert_eq!(report["seed"], 7);
    assert!(report["metrics"]["failover_ms.1"].as_f64().unwrap() > 0.0);
    let junit = std::fs::read_to_string(latest.join("junit.xml")).unwrap();
    assert!(junit.contains("<testcase name=\"log_matching\""));
    assert_ports_free(25000);

    // The saved run can be judged again, and the history alone too.
    harness(dir.path())
        .args(["check", latest.to_str().unwrap()])
        .assert()
        .code(0);
    harness(dir.path())
        .args(["check", latest.join("history.jsonl").to_str().unwrap()])
        .assert()
        .code(0);
}

#[test]
fn an_invalid_spec_exits_2_naming_the_line_and_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let spec = suite(dir.path(), "bad", 25010, "[[step]]\nwait = \"leadr\"\n");
    let want = ["bad.toml:20:8", "did you mean \"leader\""];
    refused_by(dir.path(), &["run"], &spec, &want, &[]);
}

/// `raft-harness check` of a history file `h.jsonl` holding `text`, to assert on.
fn check_history(text: &str) -> assert_cmd::assert::Assert {
    let (dir, h) = support::temp_file("h.jsonl", text);
    harness(dir.path())
        .args(["check", h.to_str().unwrap()])
        .assert()
}

#[test]
fn bad_history_file_exits_2_naming_the_line() {
    check_history(
        "{\"id\":0,\"client\":1,\"node\":1,\"command\":\"GET k\",\"invoke_us\":1,\"complete_us\":2,\"outcome\":\"ok\",\"result\":null}\n{\"id\":1,\"oops\":true}\n",
    )
    .code(2)
        .stderr(predicate::str::contains("h.jsonl:2"));
}

#[test]
fn a_history_with_a_stale_read_fails_the_check() {
    // The write of 2 completed before the read began, yet the read saw 1.
    let ops = [
        r#"{"id":0,"client":1,"node":1,"command":"SET k 1","invoke_us":0,"complete_us":10,"outcome":"ok","result":"OK"}"#,
        r#"{"id":1,"client":1,"node":1,"command":"SET k 2","invoke_us":20,"complete_us":30,"outcome":"ok","result":"OK"}"#,
        r#"{"id":2,"client":2,"node":2,"command":"GET k","invoke_us":40,"complete_us":50,"outcome":"ok","result":"1"}"#,
    ];
    check_history(&(ops.join("\n") + "\n"))
        .code(1)
        .stderr(predicate::str::contains("linearizable"))
        .stderr(predicate::str::contains("FAIL"));
}

#[test]
fn a_port_held_by_a_stranger_is_left_alone_with_a_clear_error() {
    let _runs = runs_shared();
    let dir = tempfile::tempdir().unwrap();
    let spec = suite(dir.path(), "stranger", 25020, LEADER);
    let stranger = stranger(25022, 120);
    assert!(wait_until(Duration::from_secs(10), || port_open(25022)));
    let pid = stranger.0.id().to_string();
    harness(dir.path())
        .args(["run", spec.to_str().unwrap()])
        .timeout(Duration::from_secs(60))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("port 25022"))
        .stderr(predicate::str::contains(format!("pid {pid}")))
        .stderr(predicate::str::contains("python3"));
    assert!(
        alive(stranger.0.id()),
        "the harness killed a process it did not start"
    );
    // Nothing was started on the other ports either.
    assert!(!port_open(25021) && !port_open(25023));
}

#[test]
fn leftovers_and_hand_started_nodes_are_cleaned() {
    let _runs = runs_exclusive();
    let dir = tempfile::tempdir().unwrap();
    let spec = suite(dir.path(), "clean", 25030, LEADER);
    // Port 25031: a node an earlier run left behind (it carries the run marker:
    // run/node/incarnation/harness pid.start, of a harness that no longer exists).
    let leftover = node_by_hand(
        1,
        25031,
        "2=127.0.0.1:25032",
        Some("earlier-run/1/1/2147483646.1"),
    );
    // Port 25032: the same node program started by hand for that port.
    let by_hand = node_by_hand(2, 25032, "1=127.0.0.1:25031", None);
    assert!(wait_until(Duration::from_secs(10), || port_open(25031)
        && port_open(25032)));
    harness(dir.path())
        .args(["clean", spec.to_str().unwrap()])
        .timeout(Duration::from_secs(60))
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "left by raft-harness run earlier-run",
        ))
        .stderr(predicate::str::contains("started by hand"));
    assert!(wait_until(Duration::from_secs(5), || !alive(
        leftover.0.id()
    ) && !alive(
        by_hand.0.id()
    )));
}

/// Start a run that would last a minute and wait until its nodes serve.
fn start_long_run(dir: &Path, name: &str, base: u16) -> Guard {
    let spec = suite(
        dir,
        name,
        base,
        "[[step]]\nwait = \"leader\"\n[[step]]\nworkload = \"start\"\n[[step]]\nsleep_s = 60\n",
    );
    let child = std::process::Command::new(HARNESS)
        .args(["run", spec.to_str().unwrap()])
        .current_dir(dir)
        .env("RAFT_HARNESS_STATE_DIR", dir.join("state"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("harness.err")).unwrap())
        .spawn()
        .unwrap();
    let g = Guard(child);
    assert!(
        wait_until(Duration::from_secs(30), || (base + 1..=base + 3)
            .all(port_open)),
        "nodes did not come up: {}",
        std::fs::read_to_string(dir.join("harness.err")).unwrap_or_default()
    );
    std::thread::sleep(Duration::from_millis(1500));
    g
}

#[test]
fn ctrl_c_tears_down_and_writes_a_partial_report() {
    let _runs = runs_shared();
    let dir = tempfile::tempdir().unwrap();
    let mut g = start_long_run(dir.path(), "interrupted", 25040);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(g.0.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = wait_exit(&mut g.0, Duration::from_secs(60));
    assert_eq!(
        status,
        Some(130),
        "{}",
        std::fs::read_to_string(dir.path().join("harness.err")).unwrap()
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("reports/latest/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["verdict"], "interrupted");
    assert!(
        !report["checks"].as_array().unwrap().is_empty(),
        "the partial report has no checks"
    );
    assert_ports_free(25040);
}

#[test]
fn a_sigkilled_harness_leaves_no_node_and_the_next_run_cleans_up() {
    let _runs = runs_shared();
    let dir = tempfile::tempdir().unwrap();
    let mut g = start_long_run(dir.path(), "killed", 25050);
    g.0.kill().unwrap();
    let _ = g.0.wait();
    // The parent-death signal ends every node at once.
    assert_ports_free(25050);
    // The run's state file is still there; the next command recognises it as dead and clears it.
    let state = dir.path().join("state");
    assert_eq!(
        std::fs::read_dir(&state).unwrap().count(),
        1,
        "expected the killed run's state file"
    );
    harness(dir.path())
        .args(["clean", dir.path().join("killed.toml").to_str().unwrap()])
        .assert()
        .code(0);
    assert_eq!(
        std::fs::read_dir(&state).unwrap().count(),
        0,
        "the dead run's state file was not cleared"
    );
}

/// A node that answers GET from its local state (the test-only `--unsafe-stale-reads`
/// switch), cut off from the majority while writes go on elsewhere, returns values the
/// majority has overwritten: the linearizability check must catch it.
#[test]
fn a_stale_reading_node_behind_a_partition_fails_linearizability() {
    let _runs = runs_shared();
    let dir = tempfile::tempdir().unwrap();
    write_kinds(dir.path(), &[]);
    let spec = write_suite(dir.path(), "stale", &stale_reads(25060));
    run_assert(dir.path(), &spec, 3)
        .code(1)
        .stderr(predicate::str::contains("linearizable"))
        // The failing check's full explanation is on the terminal, not only its first line.
        .stderr(predicate::str::contains("linearizable — FAIL"))
        .stderr(predicate::str::contains("    based on: "));
    let report = json(&dir.path().join("reports/latest/report.json"));
    let lin = check(&report, "linearizable");
    assert_eq!(lin["status"], "fail", "{lin}");
    // The explanation names the operation that cannot be placed.
    assert!(
        lin["summary"]
            .as_str()
            .unwrap()
            .contains("cannot be placed"),
        "{lin}"
    );
    support::suite::assert_ports_free(25061..=25065);
}

/// A node that prints far more than the cap (30 MB before it starts serving) gets a log of
/// about the cap: its first and last bytes, with a line saying how much was cut; the run is
/// unaffected and the report says the log was cut.
#[test]
fn a_node_that_floods_its_log_is_capped_to_head_and_tail() {
    let _runs = runs_shared();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("flood-kinds.toml");
    std::fs::write(
        &p,
        format!(
            r#"
[kind.flood]
command = ["sh", "-c", "head -c 30000000 /dev/zero | tr '\\000' x; echo; exec \"$0\" \"$@\"",
           "{NODE}", {NODE_ARGS}]
ready_timeout_s = 60
"#
        ),
    )
    .unwrap();
    let spec = dir.path().join("flood.toml");
    std::fs::write(
        &spec,
        r#"include = ["flood-kinds.toml"]
[cluster]
base_port = 25200
election_timeout_ms = [300, 600]
heartbeat_ms = 50
node_log_cap_mb = 1
[[node]]
id = 1
kind = "flood"
[[step]]
wait = "leader"
"#,
    )
    .unwrap();
    harness(dir.path())
        .args(["run", spec.to_str().unwrap()])
        .timeout(Duration::from_secs(180))
        .assert()
        .code(0);
    let log = std::fs::read(dir.path().join("reports/latest/nodes/1.log")).unwrap();
    assert!(
        log.len() <= (1 << 20) + 4096,
        "log of {} bytes for a 1 MiB cap",
        log.len()
    );
    let text = String::from_utf8_lossy(&log);
    assert!(text.starts_with("=== raft-harness"), "the head is kept");
    assert!(
        text.contains("bytes of this node's output were cut here"),
        "the cut is marked"
    );
    let after_cut = text.rsplit_once("cut here").unwrap().1;
    assert!(
        after_cut.contains("xxxx") && after_cut.trim_end().len() > 1000,
        "the tail is kept"
    );
    assert!(
        !dir.path().join("reports/latest/nodes/1.log.tail0").exists(),
        "the side files are stitched in and removed"
    );
    let report = json(&dir.path().join("reports/latest/report.json"));
    let cut = report["nodes"][0]["log_cut_bytes"].as_u64().unwrap_or(0);
    assert!(cut > 28_000_000, "report.json says {cut} bytes were cut");
    let notes = report["notes"].to_string();
    assert!(notes.contains("node 1's log was cut"), "{notes}");
    support::suite::assert_ports_free([25201]);
}

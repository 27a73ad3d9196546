//! `raft-harness explore` end to end (issue 13 §3, the fast subset): bugs a schedule finds
//! every time — currentTerm/votedFor kept only in memory, and the log kept only in memory,
//! both under crash-all — are found within a generous trial budget (a budget of trials, not a
//! timed assertion), and the same exploration of correct nodes finds nothing. Also the
//! command's bad input. This build's rust-node with `--bug`; ports 31100–31399.
mod support;
use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::kinds::{bug_kind, rust_kind, write_kinds, NODE};
use support::suite::{bug_hunt, harness, harness_std, write_suite, HARNESS};

/// The command's lines go to stderr (as `run`'s); `stdout` below is both.
/// Trials allowed to find a bug: far more than the one or two it takes.
const BUDGET_TRIALS: &str = "10";

/// A kinds file with the correct node (also as kind `other`) and the node with each bug given.
fn kinds(dir: &Path) {
    let extra = [
        rust_kind("other", ""),
        bug_kind("rust-volatile-term", "volatile-term"),
        bug_kind("rust-volatile-log", "volatile-log"),
    ];
    write_kinds(dir, &extra);
}

/// The `[explore]` table: crash-all and kill, one or two a trial, 0.5–1.5 s apart.
const EXPLORE: &str = "[explore]\nfaults = [\"crash-all\", \"kill\"]\n\
                       faults_per_trial = [1, 2]\ngap_s = [0.5, 1.5]\n";

/// Three nodes of `kind`, a register workload, the safety checks, crash-all and kill.
fn suite(dir: &Path, name: &str, kind: &str, base_port: u16) -> PathBuf {
    kinds(dir);
    let text = bug_hunt("kinds.toml", base_port, kind, 3, 30) + EXPLORE;
    write_suite(dir, name, &text)
}

/// `raft-harness` in `dir` as a user runs it (no `CI`), killed after `limit`.
fn user_harness(dir: &Path, limit: Duration) -> Command {
    let mut c = harness(dir);
    c.env_remove("CI").timeout(limit);
    c
}

fn explore(dir: &Path, suite: &Path, out: &str) -> std::process::Output {
    user_harness(dir, Duration::from_secs(900))
        .arg("explore")
        .arg(suite)
        .args([
            "--trials",
            BUDGET_TRIALS,
            "--seed",
            "1",
            "-j",
            "1",
            "--out",
            out,
        ])
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A planted persistence bug is found (exit 1) by a safety check, and the failing trial is
/// written as a valid, replayable suite next to its report.
fn finds(kind: &str, port: u16) {
    let dir = tempfile::tempdir().unwrap();
    let s = suite(dir.path(), kind, kind, port);
    let out = explore(dir.path(), &s, "out");
    let stdout = text(&out.stdout) + &text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FOUND after"), "{stdout}");
    // Any safety check explore counts (journal checks such as term_monotonicity included);
    // a liveness-type failure is not a bug found.
    let named_safety_check = raft_harness::explore::trial::SAFETY_CHECKS
        .iter()
        .any(|c| stdout.contains(&format!("{c} failed")));
    assert!(named_safety_check, "{stdout}");
    let failing = dir.path().join("out/failing.toml");
    let t = std::fs::read_to_string(&failing).unwrap();
    assert!(t.contains("seed = ") && t.contains("[[step]]"), "{t}");
    Command::new(HARNESS)
        .arg("validate")
        .arg(&failing)
        .assert()
        .success();
}

#[test]
fn term_kept_only_in_memory_is_found_under_crash_all() {
    finds("rust-volatile-term", 31100);
}

#[test]
fn log_kept_only_in_memory_is_found_under_crash_all() {
    finds("rust-volatile-log", 31200);
}

/// The false-alarm side: the same exploration of correct nodes finds nothing.
#[test]
fn the_same_exploration_of_correct_nodes_finds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = suite(dir.path(), "correct", "rust", 31300);
    let out = explore(dir.path(), &s, "out");
    let stdout = text(&out.stdout) + &text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!("no safety failure in {BUDGET_TRIALS} trials")),
        "{stdout}"
    );
    assert!(!dir.path().join("out/failing.toml").exists());
}

#[test]
fn a_bad_explore_table_is_a_usage_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let s = suite(dir.path(), "bad", "rust", 31390);
    let mut t = std::fs::read_to_string(&s).unwrap();
    t = t.replace("faults_per_trial = [1, 2]", "faults_per_trial = [2, 1]");
    std::fs::write(&s, t).unwrap();
    let out = explore(dir.path(), &s, "out");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stdout) + &text(&out.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("faults_per_trial"),
        "{err}"
    );
}

/// `wait = "leader"` with `kind`: leadership moves (leader kills and restarts) until the one
/// node of the other kind leads; the report records the wait as met and the kills as faults.
#[test]
fn leadership_moves_until_a_node_of_the_kind_leads() {
    let dir = tempfile::tempdir().unwrap();
    kinds(dir.path());
    let p = dir.path().join("lead.toml");
    std::fs::write(
        &p,
        r#"include = ["kinds.toml"]
[cluster]
base_port = 31400
election_timeout_ms = [300, 600]
heartbeat_ms = 60
[[node]]
id = 1
kind = "rust"
[[node]]
id = 2
kind = "rust"
[[node]]
id = 3
kind = "other"
[[step]]
wait = "leader"
timeout_s = 30
[[step]]
wait = "leader"
kind = "other"
timeout_s = 120
[checks]
required = ["election_safety", "liveness"]
"#,
    )
    .unwrap();
    let out = user_harness(dir.path(), Duration::from_secs(600))
        .args(["run", "lead.toml", "--reports", "r"])
        .output()
        .unwrap();
    let all = text_of(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("leader of kind other after"), "{all}");
    assert!(all.contains("node 3 (other) leads"), "{all}");
}

#[test]
fn kind_on_a_wait_other_than_leader_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let s = suite(dir.path(), "badkind", "rust", 31395);
    let mut t = std::fs::read_to_string(&s).unwrap();
    t.push_str("[[step]]\nwait = \"commit\"\nkind = \"rust\"\n");
    std::fs::write(&s, t).unwrap();
    let out = Command::new(HARNESS)
        .arg("validate")
        .arg(&s)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let all = text_of(&out);
    assert!(
        all.contains("badkind.toml") && all.contains("`kind` goes with"),
        "{all}"
    );
}

fn text_of(out: &std::process::Output) -> String {
    text(&out.stdout) + &text(&out.stderr)
}

/// rust-node processes whose command line names `dir` (the trial nodes of an exploration
/// there).
fn processes_under(dir: &Path) -> Vec<u32> {
    let needle = dir.to_string_lossy().to_string();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd);
        if cmd.starts_with(NODE) && cmd.contains(&needle) {
            out.push(pid);
        }
    }
    out
}

#[test]
fn ctrl_c_stops_explore_after_its_trial_has_ended_its_nodes() {
    // A fresh user's Ctrl+C left explore's trial nodes running after explore had returned.
    let dir = tempfile::tempdir().unwrap();
    let s = suite(dir.path(), "interrupted", "rust", 31360);
    let child = harness_std(dir.path())
        .args([
            "explore", "--trials", "50", "--seed", "3", "-j", "1", "--out", "out",
        ])
        .arg(&s)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let node_dir = dir.path().join("out");
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    while processes_under(&node_dir).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no trial node started"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(
        !stderr.contains("error: interrupted"),
        "Ctrl+C is no error: {stderr}"
    );
    assert_eq!(processes_under(&node_dir), Vec::<u32>::new(), "{stderr}");
}

/// With stderr not a terminal (a CI log) the spinner is hidden, yet every finished trial is a
/// plain line (number, outcome, faults, seconds) before the summary, so a log never sits
/// silent for the whole exploration; the lines' faults add up to the summary's.
#[test]
fn every_finished_trial_is_a_plain_line_when_stderr_is_piped() {
    let dir = tempfile::tempdir().unwrap();
    let s = suite(dir.path(), "lines", "rust", 38800);
    let out = user_harness(dir.path(), Duration::from_secs(900))
        .arg("explore")
        .arg(&s)
        .args(["--trials", "2", "--seed", "5", "-j", "1", "--out", "out"])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let summary = err
        .find("no safety failure in 2 trials")
        .unwrap_or_else(|| panic!("{err}"));
    let mut faults = 0;
    for t in 1..=2 {
        let head = format!("trial {t}/2: no safety failure (");
        let at = err
            .find(&head)
            .unwrap_or_else(|| panic!("no `{head}`: {err}"));
        assert!(at < summary, "trial {t}'s line after the summary: {err}");
        let rest = &err[at + head.len()..];
        let line = &rest[..rest.find('\n').unwrap()];
        let (n, secs) = line
            .split_once(" faults, ")
            .unwrap_or_else(|| panic!("{line}"));
        faults += n.parse::<usize>().unwrap_or_else(|_| panic!("{line}"));
        assert!(secs.ends_with(" s)"), "{line}");
    }
    assert!(
        err.contains(&format!("no safety failure in 2 trials ({faults} faults,")),
        "the trials' faults do not add up to the summary's: {err}"
    );
}

/// A negative count is a usage error (exit 2) that names the value and the allowed range,
/// not clap's tip to pass it after `--`: `run --keep` (explore's trials pass it too) and
/// `-j`, explore's `--trials` and `-j`, shrink's `--runs`.
#[test]
fn a_negative_count_is_a_usage_error_naming_the_value_and_range() {
    let dir = tempfile::tempdir().unwrap();
    let s = suite(dir.path(), "keep", "rust", 38890);
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "run",
            "--keep",
            "-1",
            "`-1`: give a whole number of runs, at least 1",
        ),
        (
            "run",
            "--keep",
            "-0",
            "`-0`: give a whole number of runs, at least 1",
        ),
        (
            "run",
            "--keep",
            "0",
            "`0`: give a whole number of runs, at least 1",
        ),
        ("run", "-j", "-1", "-1 is not in 1..=64"),
        ("explore", "--trials", "-1", "-1 is not in 1..="),
        ("explore", "-j", "-3", "-3 is not in 1..=64"),
        ("shrink", "--runs", "-1", "-1 is not in 1..=100"),
    ];
    for (cmd, flag, bad, says) in cases {
        let out = Command::new(HARNESS)
            .arg(cmd)
            .arg(&s)
            .args([flag, bad])
            .output()
            .unwrap();
        let err = text_of(&out);
        assert_eq!(out.status.code(), Some(2), "{cmd} {flag} {bad}: {err}");
        assert!(err.contains(says), "{cmd} {flag} {bad}: {err}");
        assert!(!err.contains("-- "), "{cmd} {flag} {bad}: {err}");
    }
}

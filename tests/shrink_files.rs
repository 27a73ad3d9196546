//! `raft-harness shrink` on suite files as a user writes them (fresh-user findings): a suite
//! with a relative `include` shrinks (its candidates load), an include that does not load is
//! a usage error (exit 2) with the loader's message, and `--save PATH` writes a regression
//! suite whose includes work from PATH. This build's rust-node with `--bug`; ports 37000–37099.
use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::time::Duration;

const HARNESS: &str = env!("CARGO_BIN_EXE_raft-harness");
const NODE: &str = env!("CARGO_BIN_EXE_rust-node");

/// `kinds.toml` in `dir`: the node with the log kept only in memory (found under crash-all).
fn kinds(dir: &Path) {
    let text = format!(
        r#"[kind.rust-volatile-log]
command = ["{NODE}", "{{id}}", "{{port}}", "{{peers}}", "--host", "{{host}}",
  "--data-dir", "{{data_dir}}", "--journal", "{{journal}}",
  "--election-timeout-ms", "{{election_timeout_ms}}", "--heartbeat-ms", "{{heartbeat_ms}}",
  "--bug", "volatile-log"]
ready_timeout_s = 30
"#
    );
    std::fs::write(dir.join("kinds.toml"), text).unwrap();
}

/// A hand-written failing suite `dir/found/failing.toml` including `include` (relative): a
/// workload, then crash-all loses the committed log; a few steps ddmin can cut.
fn failing(dir: &Path, include: &str, base_port: u16) -> PathBuf {
    let nodes: String = (1..=3)
        .map(|id| format!("[[node]]\nid = {id}\nkind = \"rust-volatile-log\"\n"))
        .collect();
    let sub = dir.join("found");
    std::fs::create_dir_all(&sub).unwrap();
    let p = sub.join("failing.toml");
    let text = format!(
        r#"include = ["{include}"]
[cluster]
base_port = {base_port}
election_timeout_ms = [300, 600]
heartbeat_ms = 60
{nodes}
[workload]
type = "register"
clients = 2
rate = 20
keys = 2

[checks]
required = ["election_safety", "log_matching", "state_machine_safety", "durability", "linearizable"]

[[step]]
wait = "leader"
timeout_s = 60

[[step]]
workload = "start"

[[step]]
sleep_s = 1.5

[[step]]
workload = "stop"

[[step]]
wait = "commit"
timeout_s = 60

[[step]]
fault = "crash-all"

[[step]]
wait = "leader"
timeout_s = 60

[[step]]
wait = "caught-up"
timeout_s = 60
"#
    );
    std::fs::write(&p, text).unwrap();
    p
}

fn shrink(dir: &Path, file: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(HARNESS)
        .current_dir(dir)
        .env("RAFT_HARNESS_STATE_DIR", dir.join("state"))
        .env_remove("CI")
        .timeout(Duration::from_secs(1800))
        .arg("shrink")
        .arg(file)
        .args(["--runs", "1"])
        .args(extra)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code(), text)
}

/// Before: exit 3, "no report under …/c0001-r0 (see the runner log)"; the cause only in
/// runner.log.
#[test]
fn an_include_that_does_not_load_is_exit_2_with_the_loaders_message() {
    let dir = tempfile::tempdir().unwrap();
    let f = failing(dir.path(), "missing-kinds.toml", 37000);
    let (code, text) = shrink(dir.path(), &f, &[]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("missing-kinds.toml"), "{text}");
    assert!(text.contains("failing.toml:1"), "no file:line: {text}");
    assert!(!text.contains("no report under"), "{text}");
}

/// Before: every candidate failed to load its relative include (exit 3). Now the suite
/// shrinks (exit 1) and `--save` writes a suite that validates from its new folder, with an
/// include relative to it; an existing PATH is refused (exit 2).
#[test]
fn a_relative_include_suite_shrinks_and_the_saved_suite_validates_where_it_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let suites = dir.path().join("suites");
    std::fs::create_dir_all(&suites).unwrap();
    kinds(&suites);
    let f = failing(dir.path(), "../suites/kinds.toml", 37010);
    let saved = suites.join("regress-volatile-log.toml");
    let (code, text) = shrink(
        dir.path(),
        &f,
        &["--save", "suites/regress-volatile-log.toml"],
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(!text.contains("does not load"), "{text}");
    let written = std::fs::read_to_string(&saved).unwrap();
    assert!(written.contains("include = [\"kinds.toml\"]"), "{written}");
    // Validates from its own folder and from elsewhere (includes are relative to the file).
    for cwd in [suites.clone(), dir.path().to_path_buf()] {
        Command::new(HARNESS)
            .current_dir(&cwd)
            .arg("validate")
            .arg(&saved)
            .assert()
            .success();
    }
    // The default output folder is named after the input's folder and file.
    let shrunk = dir
        .path()
        .join("reports/shrink.d/found-failing/shrunk.toml");
    assert!(shrunk.is_file(), "{text}");
    Command::new(HARNESS)
        .arg("validate")
        .arg(&shrunk)
        .assert()
        .success();
    let (code, text) = shrink(
        dir.path(),
        &f,
        &["--save", "suites/regress-volatile-log.toml"],
    );
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("exists"), "{text}");
}

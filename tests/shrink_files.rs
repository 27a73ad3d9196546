//! `raft-harness shrink` on suite files as a user writes them (fresh-user findings): a suite
//! with a relative `include` shrinks (its candidates load), an include that does not load is
//! a usage error (exit 2) with the loader's message, and `--save PATH` writes a regression
//! suite whose includes work from PATH. This build's rust-node with `--bug`; ports 37000–37099.
mod support;
use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::kinds::bug_kind;
use support::suite::{bug_hunt, harness, steps, write_suite, HARNESS};

/// `kinds.toml` in `dir`: the node with the log kept only in memory (found under crash-all).
fn kinds(dir: &Path) {
    let text = bug_kind("rust-volatile-log", "volatile-log");
    std::fs::write(dir.join("kinds.toml"), text).unwrap();
}

/// A hand-written failing suite `dir/found/failing.toml` including `include` (relative): a
/// workload, then crash-all loses the committed log; a few steps ddmin can cut.
fn failing(dir: &Path, include: &str, base_port: u16) -> PathBuf {
    let sub = dir.join("found");
    std::fs::create_dir_all(&sub).unwrap();
    let text = bug_hunt(include, base_port, "rust-volatile-log", 2, 20)
        + &steps(&[
            r#"wait = "leader"; timeout_s = 60"#,
            r#"workload = "start""#,
            "sleep_s = 1.5",
            r#"workload = "stop""#,
            r#"wait = "commit"; timeout_s = 60"#,
            r#"fault = "crash-all""#,
            r#"wait = "leader"; timeout_s = 60"#,
            r#"wait = "caught-up"; timeout_s = 60"#,
        ]);
    write_suite(&sub, "failing", &text)
}

fn shrink(dir: &Path, file: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let out = harness(dir)
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

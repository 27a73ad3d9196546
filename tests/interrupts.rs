//! Runs that end early or badly still give a verdict that holds (issue 10,
//! §3 builds, §4–§7, §9): Ctrl+C once, twice, by `timeout -s INT`, during the
//! checks and during a build; a SIGKILLed harness during a build; a full
//! reports disk; a panic in a background task; a closed stderr; bad
//! `--lin-timeout-s` values; a non-UTF-8 reports path; `check` of a saved run.
//!
//! Real harness binary and this build's rust-node; ports 26500-26999. No timed
//! assertion is tight: bounds are generous and far below what the old
//! behaviour would take (a 60 s build, a 600 s search).
mod support;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::kinds::{build_kind, stubborn_build_kind, write_kinds};
use support::suite::{
    check, cluster, harness_std, json, nodes, register, write_suite, write_under_leader, HARNESS,
    LEADER,
};
use support::{alive, port_open, wait_exit, wait_until, Guard};

/// A kinds file with the `rust` kind (this build's rust-node) and `extra` TOML.
fn kinds(dir: &Path, extra: &str) {
    write_kinds(dir, &[extra.to_string()]);
}

/// A 3-node suite of `kind` on base+1..+3 with `body` (workload, checks, steps) appended.
fn suite(dir: &Path, name: &str, base: u16, kind: &str, body: &str) -> PathBuf {
    write_suite(
        dir,
        name,
        &(cluster(base, false, &nodes(3, kind, "")) + body),
    )
}

/// [`suite`] of the `rust` kind, with a kinds file of that kind alone.
fn rust_suite(dir: &Path, name: &str, base: u16, body: &str) -> PathBuf {
    kinds(dir, "");
    suite(dir, name, base, "rust", body)
}

fn cmd(dir: &Path) -> Command {
    let mut c = harness_std(dir);
    c.stdin(Stdio::null()).stdout(Stdio::null());
    c
}

/// Runs `c` to the end: its exit code and stderr.
fn finish(c: &mut Command) -> (Option<i32>, String) {
    let out = c.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `raft-harness check TARGET` in `dir`, to the end: its exit code and stderr.
fn check_to_end(dir: &Path, target: &Path) -> (Option<i32>, String) {
    finish(cmd(dir).arg("check").arg(target))
}

/// Start the harness with `args`, stderr into `dir/<log>`.
fn start(dir: &Path, args: &[&str], log: &str) -> Guard {
    let child = cmd(dir)
        .args(args)
        .stderr(std::fs::File::create(dir.join(log)).unwrap())
        .spawn()
        .unwrap();
    Guard(child)
}

fn text(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// Wait (generously) until the file holds `needle`; panics with the file otherwise.
fn wait_for_text(p: &Path, needle: &str) {
    assert!(
        wait_until(Duration::from_secs(90), || text(p).contains(needle)),
        "`{needle}` never appeared in {}:\n{}",
        p.display(),
        text(p)
    );
}

fn signal(pid: u32, sig: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig).unwrap();
}

fn assert_ports_free(base: u16) {
    support::suite::assert_ports_free(base + 1..=base + 3);
}

/// The report folder `reports/latest` points at, resolved.
fn latest(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir.join("reports/latest")).expect("reports/latest")
}

/// A check's status in report.json.
fn status_of(report: &serde_json::Value, name: &str) -> String {
    check(report, name)["status"].as_str().unwrap().to_string()
}

/// The junit must fail a CI reporter: an error case for the interruption.
fn assert_junit_interrupted(run: &Path) {
    let junit = text(&run.join("junit.xml"));
    assert!(
        junit.contains("<testcase name=\"run\"") && junit.contains("<error"),
        "{junit}"
    );
    assert!(!junit.contains("errors=\"0\""), "{junit}");
    assert!(junit.contains("interrupted"), "{junit}");
}

#[test]
fn a_single_sigint_gives_a_junit_error_and_no_false_liveness_pass() {
    let dir = tempfile::tempdir().unwrap();
    kinds(dir.path(), "");
    let body = register(3, 40) + &write_under_leader("60") + "[[step]]\nwait = \"caught-up\"\n";
    let spec = suite(dir.path(), "once", 26500, "rust", &body);
    let mut g = start(dir.path(), &["run", spec.to_str().unwrap()], "err");
    wait_for_text(&dir.path().join("err"), "step 3/4");
    signal(g.0.id(), nix::sys::signal::Signal::SIGINT);
    let code = wait_exit(&mut g.0, Duration::from_secs(90));
    assert_eq!(code, Some(130), "{}", text(&dir.path().join("err")));
    let run = latest(dir.path());
    let report = json(&run.join("report.json"));
    assert_eq!(report["verdict"], "interrupted");
    // The final wait never ran: liveness is not a pass.
    assert_eq!(status_of(&report, "liveness"), "not_checked", "{report}");
    assert_junit_interrupted(&run);
    assert_ports_free(26500);
}

/// Ctrl+C after the last step, while the cluster settles (two of three nodes are down, so
/// settling would take its full 20 s): the run stops settling and is interrupted (130), never a
/// pass.
#[test]
fn a_sigint_while_settling_is_an_interrupted_run_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    kinds(dir.path(), "");
    let body = "[[step]]\nwait = \"leader\"\n[[step]]\nfault = \"kill\"\ntarget = [2, 3]\n[[step]]\nsleep_s = 0.5\n";
    let spec = suite(dir.path(), "settling", 26630, "rust", body);
    let mut g = start(dir.path(), &["run", spec.to_str().unwrap()], "err");
    wait_for_text(&dir.path().join("err"), "settling:");
    signal(g.0.id(), nix::sys::signal::Signal::SIGINT);
    let code = wait_exit(&mut g.0, Duration::from_secs(90));
    let err = text(&dir.path().join("err"));
    assert_eq!(code, Some(130), "{err}");
    assert!(!err.contains("PASS"), "{err}");
    let run = latest(dir.path());
    let report = json(&run.join("report.json"));
    assert_eq!(report["verdict"], "interrupted", "{report}");
    assert_junit_interrupted(&run);
    assert_ports_free(26630);
}

#[test]
fn a_double_sigint_still_writes_an_interrupted_report_and_latest_points_at_it() {
    let dir = tempfile::tempdir().unwrap();
    kinds(
        dir.path(),
        &stubborn_build_kind(&dir.path().join("build.pids")),
    );
    // An older passing run, so that a stale `latest` would be seen.
    let ok = suite(dir.path(), "first", 26510, "rust", LEADER);
    let mut g = start(dir.path(), &["run", ok.to_str().unwrap()], "first.err");
    let code = wait_exit(&mut g.0, Duration::from_secs(120));
    assert_eq!(code, Some(0), "{}", text(&dir.path().join("first.err")));
    let first = latest(dir.path());

    let spec = suite(dir.path(), "twice", 26520, "stubborn", "");
    let mut g = start(dir.path(), &["run", spec.to_str().unwrap()], "err");
    wait_for_text(&dir.path().join("build.pids"), "\n");
    signal(g.0.id(), nix::sys::signal::Signal::SIGINT);
    // Two presses, well apart (closer ones count once).
    std::thread::sleep(Duration::from_millis(2500));
    signal(g.0.id(), nix::sys::signal::Signal::SIGINT);
    let code = wait_exit(&mut g.0, Duration::from_secs(30));
    assert_eq!(code, Some(130), "{}", text(&dir.path().join("err")));
    let run = latest(dir.path());
    assert_ne!(run, first, "reports/latest still points at the older run");
    assert!(run.to_string_lossy().contains("twice"), "{}", run.display());
    let report = json(&run.join("report.json"));
    assert_eq!(report["verdict"], "interrupted");
    assert_eq!(report["exit_code"], 130);
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("interrupted twice"),
        "{report}"
    );
    assert_junit_interrupted(&run);
    // The build was killed with the nodes.
    let pid: i32 = text(&dir.path().join("build.pids")).trim().parse().unwrap();
    assert!(wait_until(Duration::from_secs(10), || !alive(pid)));
}

#[test]
fn timeout_s_int_signals_twice_and_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    kinds(dir.path(), "");
    let body = register(3, 40) + &write_under_leader("60");
    let spec = suite(dir.path(), "timeout", 26530, "rust", &body);
    // `timeout` sends SIGINT to the harness, then to its own process group.
    let status = Command::new("timeout")
        .args(["--preserve-status", "-s", "INT", "12", HARNESS, "run"])
        .arg(&spec)
        .current_dir(dir.path())
        .env("RAFT_HARNESS_STATE_DIR", dir.path().join("state"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("err")).unwrap())
        .status()
        .unwrap();
    let err = text(&dir.path().join("err"));
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(!err.contains("second interrupt"), "counted twice:\n{err}");
    let run = latest(dir.path());
    let report = json(&run.join("report.json"));
    assert_eq!(report["verdict"], "interrupted");
    assert_junit_interrupted(&run);
    assert_ports_free(26530);
}

/// Op records of `n` concurrent writes and a read of a value none wrote: the
/// search must try every subset of the writes (far beyond a minute).
fn hard_history(n: u64) -> String {
    let mut out = String::new();
    for i in 0..n {
        out.push_str(&format!(
            "{{\"id\":{i},\"client\":{i},\"node\":1,\"command\":\"SET k {i}\",\"invoke_us\":{i},\"complete_us\":{},\"outcome\":\"ok\",\"result\":\"OK\"}}\n",
            1000 + i
        ));
    }
    out.push_str(&format!(
        "{{\"id\":{n},\"client\":999,\"node\":1,\"command\":\"GET k\",\"invoke_us\":2000,\"complete_us\":2100,\"outcome\":\"ok\",\"result\":\"x\"}}\n"
    ));
    out
}

#[test]
fn sigint_during_the_checks_exits_130_promptly() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path().join("hard.jsonl");
    std::fs::write(&h, hard_history(28)).unwrap();
    let mut g = start(
        dir.path(),
        &["check", h.to_str().unwrap(), "--lin-timeout-s", "600"],
        "err",
    );
    wait_for_text(&dir.path().join("err"), "Ctrl+C stops");
    std::thread::sleep(Duration::from_secs(1));
    let t = Instant::now();
    signal(g.0.id(), nix::sys::signal::Signal::SIGINT);
    // Generous against a loaded machine, far below the 600 s bound.
    let code = wait_exit(&mut g.0, Duration::from_secs(60));
    let err = text(&dir.path().join("err"));
    assert_eq!(code, Some(130), "after {:?}:\n{err}", t.elapsed());
    assert!(err.contains("INTERRUPTED"), "{err}");
    assert!(err.contains("not run: interrupted"), "{err}");
}

/// A kind whose build starts a child and lasts a minute; it writes both pids.
fn slow_build_kind(dir: &Path) -> String {
    let sh = format!(
        "sleep 60 & echo $$ $! > {}; wait",
        dir.join("build.pids").display()
    );
    build_kind("slow", &sh, 2)
}

fn build_pids(dir: &Path) -> Vec<i32> {
    let p = dir.join("build.pids");
    wait_for_text(&p, "\n");
    text(&p)
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect()
}

#[test]
fn sigint_or_sigterm_during_a_slow_build_stops_it_within_the_grace() {
    use nix::sys::signal::Signal;
    for (sig, base) in [(Signal::SIGINT, 26590), (Signal::SIGTERM, 26610)] {
        let dir = tempfile::tempdir().unwrap();
        kinds(dir.path(), &slow_build_kind(dir.path()));
        let spec = suite(dir.path(), "build-int", base, "slow", "");
        let mut g = start(dir.path(), &["run", spec.to_str().unwrap()], "err");
        let pids = build_pids(dir.path());
        assert_eq!(pids.len(), 2);
        signal(g.0.id(), sig);
        // Grace 2 s; the build would take 60 s.
        let code = wait_exit(&mut g.0, Duration::from_secs(30));
        assert_eq!(code, Some(130), "{sig}: {}", text(&dir.path().join("err")));
        for pid in pids {
            assert!(
                wait_until(Duration::from_secs(10), || !alive(pid)),
                "{sig}: build process {pid} outlived the interrupted run"
            );
        }
        let report = json(&latest(dir.path()).join("report.json"));
        assert_eq!(report["verdict"], "interrupted");
        assert!(
            report["error"]
                .as_str()
                .unwrap()
                .contains("during the build"),
            "{report}"
        );
    }
}

#[test]
fn a_sigkilled_harness_leaves_no_build_running() {
    let dir = tempfile::tempdir().unwrap();
    kinds(dir.path(), &slow_build_kind(dir.path()));
    let spec = suite(dir.path(), "build-kill", 26600, "slow", "");
    let mut g = start(dir.path(), &["run", spec.to_str().unwrap()], "err");
    let pids = build_pids(dir.path());
    g.0.kill().unwrap();
    let _ = g.0.wait();
    for pid in pids {
        assert!(
            wait_until(Duration::from_secs(20), || !alive(pid)),
            "build process {pid} outlived the SIGKILLed harness"
        );
    }
}

#[test]
fn a_full_reports_disk_is_exit_3_naming_the_file_never_an_empty_report() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!("{LEADER}[[step]]\nsleep_s = 3\n");
    let spec = rust_suite(dir.path(), "full", 26540, &body);
    let reports = dir.path().join("small");
    std::fs::create_dir(&reports).unwrap();
    // A private mount namespace: the tmpfs exists only for this script. Once the
    // run reaches its sleep, the disk is filled; the report files come after.
    let script = r#"
mount -t tmpfs -o size=4m tmpfs "$R" || exit 90
"$H" run "$S" --reports "$R" 2>"$E" &
p=$!
i=0
until grep -q "step 2/2" "$E"; do sleep 0.1; i=$((i+1)); [ $i -lt 900 ] || break; done
dd if=/dev/zero of="$R/fill" bs=4k 2>/dev/null
wait $p
code=$?
find "$R" -name '*.json' -o -name '*.xml' -o -name '*.jsonl' | while read f; do echo "$(wc -c < "$f") $f"; done > "$L"
exit $code
"#;
    let status = Command::new("unshare")
        .args(["-m", "sh", "-c", script])
        .current_dir(dir.path())
        .env("R", &reports)
        .env("H", HARNESS)
        .env("S", &spec)
        .env("E", dir.path().join("err"))
        .env("L", dir.path().join("files"))
        .env("RAFT_HARNESS_STATE_DIR", dir.path().join("state"))
        .stdin(Stdio::null())
        .status()
        .unwrap();
    let err = text(&dir.path().join("err"));
    let files = text(&dir.path().join("files"));
    assert_ne!(status.code(), Some(90), "cannot mount a tmpfs here");
    assert_eq!(status.code(), Some(3), "{err}\nfiles:\n{files}");
    assert!(
        err.contains("error: cannot write ") && err.contains("No space left"),
        "{err}"
    );
    assert!(err.contains("evidence.json"), "{err}");
    // No truncated report: a file there is whole (history.jsonl may be empty: no ops).
    for line in files.lines().filter(|l| !l.ends_with("history.jsonl")) {
        assert!(!line.starts_with("0 "), "a silent empty file: {line}");
    }
    assert_ports_free(26540);
}

/// Runs `spec` with the test-only panic injected `at` (`RAFT_HARNESS_TEST_PANIC`): exit 3 and
/// an `error` verdict naming the injected panic and its location; the run's folder and report.
fn run_with_panic(dir: &Path, spec: &Path, at: &str) -> (PathBuf, serde_json::Value) {
    let mut c = cmd(dir);
    c.args(["run", spec.to_str().unwrap()])
        .env("RAFT_HARNESS_TEST_PANIC", at)
        .stderr(std::fs::File::create(dir.join("err")).unwrap());
    let mut g = Guard(c.spawn().unwrap());
    let code = wait_exit(&mut g.0, Duration::from_secs(120));
    assert_eq!(code, Some(3), "{}", text(&dir.join("err")));
    let run = latest(dir);
    let report = json(&run.join("report.json"));
    assert_eq!(report["verdict"], "error");
    let e = report["error"].as_str().unwrap();
    assert!(e.contains("injected panic"), "{e}");
    assert!(e.contains("harness/run.rs:"), "no location: {e}");
    (run, report)
}

#[test]
fn a_panic_in_a_background_task_still_ends_the_run_with_a_report_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!("{LEADER}[[step]]\nsleep_s = 1\n");
    let spec = rust_suite(dir.path(), "panic", 26550, &body);
    let (_, report) = run_with_panic(dir.path(), &spec, "ticker");
    // The run went on: the nodes were not killed by the panic, the checks ran.
    assert_eq!(status_of(&report, "election_safety"), "pass", "{report}");
    assert_ports_free(26550);
}

#[test]
fn a_panic_of_the_run_itself_kills_the_nodes_and_still_writes_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let spec = rust_suite(dir.path(), "run-panic", 26620, LEADER);
    let (run, _) = run_with_panic(dir.path(), &spec, "run");
    assert!(run.to_string_lossy().contains("run-panic"));
    let junit = text(&run.join("junit.xml"));
    assert!(junit.contains("<error"), "{junit}");
    assert_ports_free(26620);
}

#[test]
fn a_closed_stderr_after_the_run_is_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let spec = rust_suite(dir.path(), "epipe", 26560, LEADER);
    // stderr is a pipe whose reader is gone: every write fails with EPIPE.
    for args in [vec!["run", spec.to_str().unwrap()], vec!["check"]] {
        let args: Vec<String> = if args[0] == "check" {
            vec!["check".into(), latest(dir.path()).display().to_string()]
        } else {
            args.iter().map(|s| s.to_string()).collect()
        };
        let mut child = cmd(dir.path())
            .args(&args)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stderr.take());
        let mut g = Guard(child);
        let code = wait_exit(&mut g.0, Duration::from_secs(120));
        assert_eq!(code, Some(0), "{args:?} with a closed stderr");
    }
    let report = json(&latest(dir.path()).join("report.json"));
    assert_eq!(report["verdict"], "pass");
    assert_ports_free(26560);
}

#[test]
fn bad_lin_timeouts_are_usage_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path().join("h.jsonl");
    std::fs::write(&h, hard_history(2)).unwrap();
    for v in ["inf", "1e20", "-1", "nan", "0", "soon"] {
        let (code, err) = finish(cmd(dir.path()).args([
            "check",
            h.to_str().unwrap(),
            &format!("--lin-timeout-s={v}"),
        ]));
        assert_eq!(code, Some(2), "{v}: {err}");
        assert!(err.contains("--lin-timeout-s"), "{v}: {err}");
        assert!(!err.contains("panicked"), "{v}: {err}");
    }
    // A sane value works.
    let (code, err) =
        finish(cmd(dir.path()).args(["check", h.to_str().unwrap(), "--lin-timeout-s", "5"]));
    assert_eq!(code, Some(1), "{err}");
}

#[test]
fn a_reports_path_that_is_not_utf8_is_rejected_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let spec = rust_suite(dir.path(), "utf8", 26570, LEADER);
    let mut bad = dir.path().as_os_str().as_bytes().to_vec();
    bad.extend_from_slice(b"/rep\xffo");
    let bad = PathBuf::from(std::ffi::OsStr::from_bytes(&bad));
    let (code, err) = finish(
        cmd(dir.path())
            .args(["run", spec.to_str().unwrap(), "--reports"])
            .arg(&bad),
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not valid UTF-8"), "{err}");
    assert!(!bad.exists(), "the folder was created");
    assert!(
        !dir.path().join("rep\u{FFFD}o").exists(),
        "data went elsewhere"
    );
    assert!(!port_open(26571));
}

#[test]
fn check_of_a_saved_run_gives_the_runs_verdict_seed_and_time() {
    let dir = tempfile::tempdir().unwrap();
    kinds(dir.path(), "");
    // `restarts` is required, and the restart step finds no node down (skipped): the run is
    // undecided (exit 4). (A required check no step could give evidence, e.g. `restarts`
    // without a restart step, is refused by validate now.)
    let spec = suite(
        dir.path(),
        "required",
        26580,
        "rust",
        "[checks]\nrequired = [\"restarts\"]\n[[step]]\nwait = \"leader\"\n[[step]]\nfault = \"restart\"\n",
    );
    let mut g = start(
        dir.path(),
        &["run", spec.to_str().unwrap(), "--seed", "4242"],
        "err",
    );
    let code = wait_exit(&mut g.0, Duration::from_secs(120));
    assert_eq!(code, Some(4), "{}", text(&dir.path().join("err")));
    let run = latest(dir.path());
    let (code, err) = check_to_end(dir.path(), &run);
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains("seed 4242"), "{err}");
    assert!(!err.contains(" in 0.0 s"), "{err}");
    assert!(err.contains("left as the run wrote them"), "{err}");

    // Report files are not check input: say what is.
    for f in ["report.json", "junit.xml"] {
        let (code, err) = check_to_end(dir.path(), &run.join(f));
        assert_eq!(code, Some(2), "{f}: {err}");
        assert!(err.contains("takes a run's report folder"), "{f}: {err}");
        assert!(
            err.contains(&format!("raft-harness check {}", run.display())),
            "{f}: {err}"
        );
    }

    // Nothing checked is never a pass.
    let empty = dir.path().join("empty.jsonl");
    std::fs::File::create(&empty)
        .unwrap()
        .write_all(b"\n")
        .unwrap();
    let (code, err) = check_to_end(dir.path(), &empty);
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains("nothing was checked"), "{err}");

    // A saved run whose history holds one operation id twice is bad input, as in a history file.
    let dup = dir.path().join("dup-run");
    std::fs::create_dir_all(&dup).unwrap();
    let mut ev: serde_json::Value =
        serde_json::from_str(&text(&run.join("evidence.json"))).unwrap();
    let op = serde_json::json!({
        "id": 7, "client": 1, "node": 1, "command": "SET k 1", "invoke_us": 10,
        "complete_us": 20, "outcome": "ok", "result": "OK", "message": ""
    });
    ev["history"] = serde_json::json!([op.clone(), op]);
    std::fs::write(dup.join("evidence.json"), ev.to_string()).unwrap();
    let (code, err) = check_to_end(dir.path(), &dup);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("duplicate operation ids"), "{err}");
    assert!(err.contains("evidence.json"), "{err}");

    // A run copied elsewhere is judged from its own files, whatever the current directory:
    // a crash planted in the copy's node log is found (not the original's clean log).
    let moved = dir.path().join("moved-run");
    let status = std::process::Command::new("cp")
        .args(["-r", run.to_str().unwrap(), moved.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::OpenOptions::new()
        .append(true)
        .open(moved.join("nodes/1.log"))
        .unwrap()
        .write_all(b"thread 'main' panicked at src/main.rs:1:1:\nboom\n")
        .unwrap();
    for cwd in [dir.path().to_path_buf(), PathBuf::from("/")] {
        let (code, err) = finish(
            cmd(&cwd)
                .env("RAFT_HARNESS_STATE_DIR", dir.path().join("state"))
                .args(["check", moved.to_str().unwrap()]),
        );
        assert_eq!(code, Some(1), "from {}: {err}", cwd.display());
        assert!(err.contains("node_errors — FAIL"), "{err}");
    }
}

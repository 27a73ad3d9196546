//! `raft-harness run` over a folder of suites (issue 14 §3) and the terminal
//! (§4): real child runs of this build's rust-node, `-j 2`, the merged
//! junit.xml read by `junitparser` (the JUnit reader of e.g. the
//! publish-unit-test-result CI action), index.html, `rerun:` lines, kind files,
//! broken files, a file given twice, `--list`, `--filter`, `--keep`, Ctrl+C. Ports
//! 29100-29499 and 39000-39099.
mod support;
use assert_cmd::Command;
use predicates::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::kinds::{rust_kind, write_kinds};
use support::suite::{
    busy, cluster, find, json, nodes, register, stale_reads, step, write_suite, HARNESS,
};

/// The shared kinds file of a test folder: this build's rust-node, and the same
/// node marked as needing fixed ports (it is also handed `{peer_addrs}`).
fn kinds(dir: &Path) {
    let fixed = rust_kind("rust-fixed", "env = { ORIGINAL_PEERS = \"{peer_addrs}\" }");
    write_kinds(dir, &[fixed]);
}

/// A short 3-node suite: a leader, two seconds of writes, caught up.
fn small_suite(dir: &Path, name: &str, base_port: u16, kind: &str) -> PathBuf {
    let caught_up = step(&[("wait", "\"caught-up\""), ("timeout_s", "30")]);
    let text = format!(
        "description = \"{name}: a leader, writes, caught up\"\n{}{}{}{caught_up}",
        cluster(base_port, false, &nodes(3, kind, "")),
        register(2, 30),
        busy(2)
    );
    write_suite(dir, name, &text)
}

/// `dir/suites` with the kinds file and a [`small_suite`] of each name, all on `base_port`
/// (a name ending in `-fixed` is of the fixed-port kind `rust-fixed`, the others `rust`).
fn suite_folder(dir: &Path, base_port: u16, names: &[&str]) -> PathBuf {
    let folder = dir.join("suites");
    std::fs::create_dir(&folder).unwrap();
    kinds(&folder);
    for name in names {
        let kind = if name.ends_with("-fixed") {
            "rust-fixed"
        } else {
            "rust"
        };
        small_suite(&folder, name, base_port, kind);
    }
    folder
}

/// Five nodes that answer reads from local state, one cut off while writes go
/// on: the linearizability check fails (as in tests/harness_cli.rs).
fn stale_suite(dir: &Path, base_port: u16) -> PathBuf {
    let head = "description = \"stale reads behind a partition\"\nseed = 3\n";
    write_suite(dir, "stale", &(head.to_string() + &stale_reads(base_port)))
}

fn harness(dir: &Path) -> Command {
    let mut c = support::suite::harness(dir);
    c.env_remove("CI").timeout(Duration::from_secs(400));
    c
}

/// `raft-harness run suites -j 2 ARGS…` in `dir`: the folder `suites`, two at a time.
fn run_two_at_a_time(dir: &Path, args: &[&str]) -> Command {
    let mut c = harness(dir);
    c.args(["run", "suites", "-j", "2"]).args(args);
    c
}

/// `raft-harness ARGS…` in `dir` is a usage error: exit 2 with every `want` in stderr.
fn usage_error(dir: &Path, args: &[&str], want: &[&str]) {
    let exit_2 = harness(dir).args(args).assert().code(2);
    want.iter()
        .fold(exit_2, |a, w| a.stderr(predicate::str::contains(*w)));
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A venv with `junitparser` from PyPI, made once per target dir. Tests run in parallel
/// threads: one makes the venv while the others wait for it.
fn junitparser() -> PathBuf {
    static MAKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = MAKING.lock().unwrap_or_else(|p| p.into_inner());
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("junitparser-venv");
    let py = venv.join("bin/python");
    let ok = |py: &Path| {
        std::process::Command::new(py)
            .args(["-c", "import junitparser"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ok(&py) {
        let st = std::process::Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 is needed to validate junit.xml");
        assert!(st.success(), "python3 -m venv failed");
        let st = std::process::Command::new(venv.join("bin/pip"))
            .args(["install", "-q", "junitparser==5.0.3"])
            .status()
            .unwrap();
        assert!(st.success(), "pip install junitparser failed");
    }
    assert!(
        ok(&py),
        "junitparser is not importable from {}",
        py.display()
    );
    py
}

/// The merged junit.xml as junitparser reads it: per suite its name, counts
/// and cases (name, time, results as `Kind: message\ntext`).
fn parse_junit(path: &Path) -> serde_json::Value {
    const SCRIPT: &str = r#"
import json, sys
from junitparser import JUnitXml
x = JUnitXml.fromfile(sys.argv[1])
out = []
for s in x:
    cases = [{"name": c.name, "time": c.time,
              "results": [type(r).__name__ + ": " + (r.message or "") + "\n" + (r.text or "") for r in c.result]}
             for c in s]
    out.append({"name": s.name, "tests": s.tests, "failures": s.failures, "errors": s.errors,
                "time": s.time, "cases": cases})
print(json.dumps(out))
"#;
    let out = std::process::Command::new(junitparser())
        .args(["-c", SCRIPT])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "junitparser rejected {}: {}",
        path.display(),
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn suite_of<'a>(j: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    find(j, "name", name)
}

/// The href targets of index.html.
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn a_folder_of_suites_runs_two_at_a_time_with_one_merged_junit() {
    let dir = tempfile::tempdir().unwrap();
    // pass-a and pass-b share their ports: only the isolation lets them run together.
    let suites = suite_folder(dir.path(), 29100, &["pass-a", "pass-b"]);
    stale_suite(&suites, 29110);
    let out = run_two_at_a_time(dir.path(), &["--offset-step", "200"])
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    // The closing line, alone on the last line of stdout.
    assert_eq!(
        stdout.lines().last(),
        Some("2 passed, 1 failed"),
        "{stdout}"
    );
    assert!(
        stderr.contains("suites/kinds.toml: a kind file"),
        "{stderr}"
    );
    assert!(
        stderr.contains("rerun: raft-harness run suites/stale.toml --seed 3\n"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("rerun: raft-harness run suites/pass-"),
        "{stderr}"
    );
    assert!(
        stderr.contains("FAIL") && stderr.contains("failed: linearizable"),
        "{stderr}"
    );
    let batch = dir.path().join("reports/batch.d/latest");
    // The merged junit, as a CI reader sees it.
    let j = parse_junit(&batch.join("junit.xml"));
    assert_eq!(j.as_array().unwrap().len(), 3, "{j}");
    for name in ["pass-a", "pass-b"] {
        let s = suite_of(&j, name);
        assert_eq!(
            (s["failures"].as_u64(), s["errors"].as_u64()),
            (Some(0), Some(0)),
            "{s}"
        );
        assert!(s["tests"].as_u64().unwrap() >= 10, "{s}");
        assert!(s["time"].as_f64().unwrap() > 1.0, "{s}");
    }
    let stale = suite_of(&j, "stale");
    assert!(stale["failures"].as_u64().unwrap() >= 1, "{stale}");
    let lin = find(&stale["cases"], "name", "linearizable");
    let failure = lin["results"][0].as_str().unwrap();
    assert!(failure.starts_with("Failure: FAIL"), "{failure}");
    assert!(failure.contains("based on: "), "{failure}");
    // The explanation text, not a JSON blob.
    assert!(
        !failure.contains("\"explanation\"") && !failure.contains("{\n"),
        "{failure}"
    );
    // Every check case carries its time.
    let xml = std::fs::read_to_string(batch.join("junit.xml")).unwrap();
    for line in xml
        .lines()
        .filter(|l| l.contains("<testcase name=\"log_matching\""))
    {
        assert!(line.contains(" time=\""), "{line}");
    }
    // index.html links every run's report.html (written or not) and report.json.
    let html = std::fs::read_to_string(batch.join("index.html")).unwrap();
    let links = hrefs(&html);
    for name in ["pass-a", "pass-b", "stale"] {
        let report = links
            .iter()
            .find(|l| l.contains(&format!("/{name}/")) && l.ends_with("/report.html"))
            .unwrap_or_else(|| panic!("no report.html link for {name}: {links:?}"));
        let run_dir = batch.join(report).parent().unwrap().to_path_buf();
        assert!(
            run_dir.join("report.json").is_file(),
            "{report} does not lead to the run"
        );
    }
    assert!(html.contains("2 passed, 1 failed"), "{html}");
}

#[test]
fn with_port_offsets_parallel_suites_shift_ports_and_fixed_port_suites_run_alone() {
    let names = ["a", "b", "c-fixed", "d"];
    let args = ["--isolation", "offsets", "--offset-step", "200"];
    let windows = passing_windows(29200, &names, &args);
    let (fs, fe, fixed_ports) = &windows["c-fixed"];
    assert_eq!(*fixed_ports, vec![29201, 29202, 29203]);
    let mut shifted = 0;
    for name in ["a", "b", "d"] {
        let (s, e, ports) = &windows[name];
        assert!(e <= fs || s >= fe, "{name} ran beside the fixed-port suite");
        assert!(
            *ports == vec![29201, 29202, 29203] || *ports == vec![29401, 29402, 29403],
            "{name}: {ports:?}"
        );
        shifted += usize::from(ports[0] == 29401);
    }
    // a and b start together: one of them is in slot 1, on shifted ports.
    assert!(shifted >= 1, "no run was shifted to slot 1");
}

/// The report.json of suite `name`'s only run in `dir/reports`.
fn only_report(dir: &Path, name: &str) -> serde_json::Value {
    let run = std::fs::read_dir(dir.join("reports").join(name))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    json(&run.join("report.json"))
}

/// A run's (start, end) in Unix seconds and its node ports.
type Window = (f64, f64, Vec<u64>);

/// In a fresh folder, a [`suite_folder`] of `names` on `base_port` run two at a time with
/// `args`: every suite passes (exit 0; stdout is the closing line alone). Each suite's
/// [`run_window`], by name.
fn passing_windows(base_port: u16, names: &[&str], args: &[&str]) -> HashMap<String, Window> {
    let dir = tempfile::tempdir().unwrap();
    suite_folder(dir.path(), base_port, names);
    run_two_at_a_time(dir.path(), args)
        .assert()
        .code(0)
        .stdout(format!("{} passed, 0 failed\n", names.len()));
    names
        .iter()
        .map(|n| (n.to_string(), run_window(dir.path(), n)))
        .collect()
}

/// A suite's only run: its [`Window`], from report.json.
fn run_window(dir: &Path, name: &str) -> Window {
    let r = only_report(dir, name);
    let start = chrono::DateTime::parse_from_rfc3339(r["started_at"].as_str().unwrap())
        .unwrap()
        .timestamp_millis() as f64
        / 1e3;
    let ports = r["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["port"].as_u64().unwrap())
        .collect();
    (start, start + r["duration_s"].as_f64().unwrap(), ports)
}

/// `--alone`: a suite too heavy to share the machine runs with nothing beside it,
/// the others two at a time.
#[test]
fn a_suite_named_by_alone_runs_with_nothing_beside_it() {
    let args = ["--alone", "heavy", "--offset-step", "20"];
    let all = passing_windows(29440, &["p", "q-heavy", "r", "s"], &args);
    let (hs, he, _) = all["q-heavy"];
    let mut overlaps = 0;
    let windows: Vec<_> = ["p", "r", "s"].iter().map(|n| &all[*n]).collect();
    for (s, e, _) in windows.iter().copied() {
        assert!(*e <= hs || *s >= he, "a suite ran beside the --alone one");
        overlaps += windows
            .iter()
            .filter(|(s2, e2, _)| s2 < e && s < e2)
            .count()
            - 1;
    }
    // The others did run two at a time (r and s start together after q-heavy).
    assert!(overlaps >= 2, "no two suites ran together: {windows:?}");
}

#[test]
fn a_broken_file_in_a_folder_is_an_error_and_nothing_runs() {
    let dir = tempfile::tempdir().unwrap();
    let suites = suite_folder(dir.path(), 29250, &["good"]);
    std::fs::write(suites.join("broken.toml"), "[[node]\nid = 1\n").unwrap();
    // A kind table beside nodes makes a suite, not a kind file: judged as one.
    std::fs::write(
        suites.join("half.toml"),
        "[kind.x]\ncommand = [\"true\"]\n[[node]]\nid = 1\nkind = \"y\"\n",
    )
    .unwrap();
    let want = ["broken.toml:1:", "half.toml:"];
    usage_error(dir.path(), &["run", "suites", "-j", "2"], &want);
    assert!(!dir.path().join("reports").exists(), "a run was started");
    // --list judges the files alike.
    usage_error(dir.path(), &["run", "suites", "--list"], &[]);
    // A folder with no suite file at all.
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    usage_error(dir.path(), &["run", "empty"], &["holds no .toml file"]);
}

#[test]
fn list_filter_and_keep() {
    let dir = tempfile::tempdir().unwrap();
    suite_folder(dir.path(), 29300, &["alpha", "beta", "gamma-fixed"]);
    let out = harness(dir.path())
        .args(["run", "suites", "--list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let list = text(&out.stdout);
    assert_eq!(list.lines().count(), 3, "{list}");
    assert!(
        list.contains("alpha") && list.contains("alpha: a leader, writes, caught up"),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with("gamma-fixed") && l.ends_with("[fixed ports]")),
        "{list}"
    );
    assert!(!list.contains("kinds"), "{list}");
    assert!(!dir.path().join("reports").exists(), "--list ran something");
    harness(dir.path())
        .args(["run", "suites", "--list", "--filter", "eta"])
        .assert()
        .code(0)
        .stdout("beta  suites/beta.toml  beta: a leader, writes, caught up\n");
    usage_error(
        dir.path(),
        &["run", "suites", "--filter", "nothing-like-this"],
        &["matched none"],
    );
    // A filtered run: the closing line counts the skipped suites. Three runs, keep 2.
    for _ in 0..3 {
        harness(dir.path())
            .args(["run", "suites", "--filter", "alpha", "--keep", "2"])
            .assert()
            .code(0)
            .stdout("1 passed, 0 failed, 2 skipped\n");
    }
    let runs = |d: &Path| std::fs::read_dir(d).unwrap().count();
    assert_eq!(runs(&dir.path().join("reports/alpha")), 2);
    // batch.d: two invocations and its `latest` link.
    assert_eq!(runs(&dir.path().join("reports/batch.d")), 3);
    // An old run that is live (a claim of a running harness, this test, names it): kept.
    let live = dir.path().join("reports/alpha/20000101-000000.000");
    std::fs::create_dir_all(&live).unwrap();
    let mut claim = raft_harness::cluster::process::RunState::new("fake-live-run");
    claim.report_dir = live.display().to_string();
    std::fs::create_dir_all(dir.path().join("state")).unwrap();
    std::fs::write(
        dir.path().join("state/fake-live-run.json"),
        serde_json::to_vec(&claim).unwrap(),
    )
    .unwrap();
    // Plain `run` keeps 2 as well, and `latest` points at the newest, which stays.
    harness(dir.path())
        .args(["run", "suites/alpha.toml", "--keep", "2"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "removed 1 older run(s) of alpha (--keep 2)",
        ));
    assert_eq!(runs(&dir.path().join("reports/alpha")), 3);
    assert!(live.is_dir(), "a live run was removed");
    std::fs::remove_file(dir.path().join("state/fake-live-run.json")).unwrap();
    let latest = std::fs::canonicalize(dir.path().join("reports/latest")).unwrap();
    assert!(latest.starts_with(std::fs::canonicalize(dir.path().join("reports/alpha")).unwrap()));
    usage_error(
        dir.path(),
        &["run", "suites/alpha.toml", "--keep", "0"],
        &[],
    );
}

#[test]
fn an_interrupt_reaches_every_running_suite_and_the_runner_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let suites = suite_folder(dir.path(), 0, &[]);
    for (name, port) in [("long-a", 29350), ("long-b", 29360), ("long-c", 29370)] {
        let p = small_suite(&suites, name, port, "rust");
        let t = std::fs::read_to_string(&p)
            .unwrap()
            .replace("sleep_s = 2", "sleep_s = 120");
        std::fs::write(&p, t).unwrap();
    }
    let mut child = std::process::Command::new(HARNESS)
        .args(["run", "suites", "-j", "2", "--offset-step", "100"])
        .current_dir(dir.path())
        .env("RAFT_HARNESS_STATE_DIR", dir.path().join("state"))
        .env_remove("CI")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until both running suites have their nodes up (their logs say so).
    let logs = dir.path().join("reports/batch.d");
    let started = |name: &str| {
        std::fs::read_dir(&logs)
            .ok()
            .into_iter()
            .flatten()
            .flatten()
            .any(|b| {
                std::fs::read_to_string(b.path().join("logs").join(format!("{name}.log")))
                    .is_ok_and(|t| t.contains("workload"))
            })
    };
    let end = Instant::now() + Duration::from_secs(180);
    while !(started("long-a") && started("long-b")) {
        assert!(Instant::now() < end, "the suites did not start");
        std::thread::sleep(Duration::from_millis(200));
    }
    // One SIGINT to the runner alone (not its group): it passes it on.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = wait_output(&mut child, Duration::from_secs(240));
    let (stdout, stderr) = (text(&out.0), text(&out.1));
    assert_eq!(out.2, Some(130), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("interrupted: long-a, long-b")
            || stderr.contains("interrupted: long-b, long-a"),
        "{stderr}"
    );
    assert!(stderr.contains("not started: long-c"), "{stderr}");
    for name in ["long-a", "long-b"] {
        let r = only_report(dir.path(), name);
        assert_eq!(r["verdict"], "interrupted", "{name}");
    }
    let j = parse_junit(&dir.path().join("reports/batch.d/latest/junit.xml"));
    for name in ["long-a", "long-b"] {
        assert!(suite_of(&j, name)["errors"].as_u64().unwrap() >= 1, "{j}");
    }
    // The suite never started is listed too: skipped, with the reason; not run in the index.
    let late = suite_of(&j, "long-c");
    let result = late["cases"][0]["results"][0].as_str().unwrap_or_default();
    assert!(
        result.starts_with("Skipped: not run: the batch was interrupted"),
        "{j}"
    );
    assert_eq!(late["errors"], 0, "{j}");
    assert_eq!(late["failures"], 0, "{j}");
    let index =
        std::fs::read_to_string(dir.path().join("reports/batch.d/latest/index.html")).unwrap();
    let row = index.lines().find(|l| l.contains("<td>long-c</td>"));
    assert!(
        row.is_some_and(|r| r.contains("<td>NOT RUN</td>")),
        "{index}"
    );
    assert!(
        stdout.ends_with("0 passed, 2 failed, 1 not run (interrupted)\n"),
        "{stdout}"
    );
}

/// stdout, stderr and the exit code of a child, killing it after `limit`.
fn wait_output(
    child: &mut std::process::Child,
    limit: Duration,
) -> (Vec<u8>, Vec<u8>, Option<i32>) {
    use std::io::Read;
    let (mut o, mut e) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let to = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = o.read_to_end(&mut b);
        b
    });
    let te = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = e.read_to_end(&mut b);
        b
    });
    let end = Instant::now() + limit;
    let code = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code();
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the runner did not end within {limit:?} of the interrupt");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (to.join().unwrap(), te.join().unwrap(), code)
}

#[test]
fn validate_takes_several_files_and_every_command_describes_its_arguments() {
    let dir = tempfile::tempdir().unwrap();
    kinds(dir.path());
    small_suite(dir.path(), "ok", 29400, "rust");
    std::fs::write(dir.path().join("bad.toml"), "[[step]]\nwait = \"leadr\"\n").unwrap();
    harness(dir.path())
        .args(["validate", "ok.toml", "kinds.toml", "bad.toml"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("ok.toml: valid"))
        .stderr(predicate::str::contains("bad.toml:2:"));
    harness(dir.path())
        .args(["validate", "ok.toml", "ok.toml"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("ok.toml: valid").count(2));
    for (cmd, arg) in [
        ("validate", "<SUITE>..."),
        ("clean", "<SPEC>"),
        ("check", "<PATH>"),
        ("run", "<SUITE|FOLDER>..."),
    ] {
        let out = harness(dir.path()).args([cmd, "-h"]).output().unwrap();
        let help = text(&out.stdout);
        // The argument's line carries a description, not the bare name.
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(arg))
            .unwrap_or_else(|| panic!("{cmd} --help lists no {arg}: {help}"));
        assert!(
            line.trim().len() > arg.len() + 10,
            "{cmd} --help: `{arg}` has no description: {help}"
        );
    }
}

#[test]
fn a_port_offset_that_cannot_apply_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    kinds(dir.path());
    small_suite(dir.path(), "movable", 29420, "rust");
    small_suite(dir.path(), "fixed", 29420, "rust-fixed");
    usage_error(
        dir.path(),
        &["run", "fixed.toml", "--port-offset", "10"],
        &["fixed.toml: --port-offset 10: this suite has fixed ports"],
    );
    usage_error(
        dir.path(),
        &["run", "movable.toml", "--port-offset", "40000"],
        &["node 1 would listen on port 69421 (its port 29421 + 40000), above 65535"],
    );
    usage_error(
        dir.path(),
        &["run", "movable.toml", "fixed.toml", "--port-offset", "5"],
        &["--port-offset moves one suite"],
    );
    assert!(!dir.path().join("reports").exists(), "a run was started");
}

/// A file given twice (`suites/alpha.toml ./suites/alpha.toml`, or its folder beside it)
/// runs once, with one line saying so; two files that share a name are still refused.
#[test]
fn a_file_given_twice_runs_once() {
    let dir = tempfile::tempdir().unwrap();
    suite_folder(dir.path(), 39000, &["alpha"]);
    for args in [
        &["run", "suites/alpha.toml", "./suites/alpha.toml", "--list"][..],
        &["run", "suites/alpha.toml", "suites", "--list"][..],
    ] {
        let out = harness(dir.path()).args(args).output().unwrap();
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert_eq!(stdout.lines().count(), 1, "{args:?}: {stdout}");
        assert!(stderr.contains("given twice, run once: "), "{stderr}");
        assert!(!stderr.contains("set `name`"), "{stderr}");
    }
    harness(dir.path())
        .args(["run", "suites/alpha.toml", "./suites/alpha.toml"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "given twice, run once: ./suites/alpha.toml (= suites/alpha.toml)",
        ));
    let runs = std::fs::read_dir(dir.path().join("reports/alpha")).unwrap();
    assert_eq!(runs.count(), 1, "the suite ran more than once");
    // A copy elsewhere is another file of the same name: its reports would clash.
    let copy = dir.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    for f in ["alpha.toml", "kinds.toml"] {
        std::fs::copy(dir.path().join("suites").join(f), copy.join(f)).unwrap();
    }
    let want = ["both suites are named `alpha`", "set `name`"];
    usage_error(
        dir.path(),
        &["run", "suites/alpha.toml", "copy/alpha.toml"],
        &want,
    );
}

//! Runs never harm each other, and a node is every process it starts (issue 10
//! §2, §3, §8, §9): real `raft-harness` runs of this build's debug `rust-node`,
//! behind wrapper scripts where a case needs one. Ports 26000-26499 only. Each
//! test checks that no process carrying its runs' marker is left behind.
mod support;
use assert_cmd::Command;
use predicates::prelude::*;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use support::kinds::{kind, node_command, write_kinds};
use support::suite::{
    busy, cluster, fault_leader_under_load, nodes, register, steps, write_suite, HARNESS,
};
use support::{alive, port_open, wait_exit, wait_until};

/// A wrapper that starts the node in its own session (`setsid`) and waits.
const SETSID_SH: &str = "#!/bin/sh\nsetsid \"$@\" &\nwait\n";
/// A wrapper that daemonizes the node and a helper (double fork, own session)
/// and exits at once.
const DAEMON_SH: &str = "#!/bin/sh\n( setsid \"$@\" & setsid sleep 600 & )\nexit 0\n";
/// A node that ignores SIGTERM: the shell logs each TERM and keeps running
/// (the rust-node it started stops on TERM; the shell only dies of SIGKILL).
const STUBBORN_SH: &str =
    "#!/bin/sh\ntrap 'echo term >> \"$TERM_LOG\"' TERM\n\"$@\" &\nwhile :; do sleep 0.1; done\n";

/// A kinds file: `rust` runs the node directly; `setsid`, `daemon` and
/// `stubborn` run it through the wrappers above (written next to it).
fn kinds(dir: &Path) -> PathBuf {
    for (name, text) in [
        ("setsid.sh", SETSID_SH),
        ("daemon.sh", DAEMON_SH),
        ("stubborn.sh", STUBBORN_SH),
    ] {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let wrapper = |name: &str| dir.join(name).display().to_string();
    let (setsid, daemon, stubborn) = (
        wrapper("setsid.sh"),
        wrapper("daemon.sh"),
        wrapper("stubborn.sh"),
    );
    write_kinds(
        dir,
        &[
            kind("setsid", &node_command(&["sh", &setsid]), ""),
            kind("daemon", &node_command(&["sh", &daemon]), ""),
            kind(
                "stubborn",
                &node_command(&["sh", &stubborn]),
                "env = { TERM_LOG = \"{data_dir}/terms.log\" }\nstop_grace_s = 2",
            ),
        ],
    )
}

/// A 3-node suite of `kind` on base_port+1..+3 with the given steps.
fn suite(dir: &Path, name: &str, kind: &str, base_port: u16, steps: &str) -> PathBuf {
    kinds(dir);
    let text = cluster(base_port, false, &nodes(3, kind, "")) + &register(2, 20) + steps;
    write_suite(dir, name, &text)
}

/// [`suite`] in a new folder (removed when the returned guard is dropped).
fn suite_in_new_dir(
    name: &str,
    kind: &str,
    base_port: u16,
    steps: &str,
) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let spec = suite(dir.path(), name, kind, base_port, steps);
    (dir, spec)
}

/// Kill the leader under load and wait for another one; the killed node stays down.
fn kill_leader() -> String {
    fault_leader_under_load("1", "kill") + &steps(&["sleep_s = 3", r#"workload = "stop""#])
}

fn ports(base: u16) -> std::ops::RangeInclusive<u16> {
    base + 1..=base + 3
}

fn assert_ports_free(base: u16) {
    support::suite::assert_ports_free(ports(base));
}

/// Pids of live processes whose run marker belongs to the harness `harness_pid`
/// (`RUN/NODE/INC/PID.START`; the older bare run id `DATE-TIME-PID` too).
fn marked_by(harness_pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for ent in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = ent.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(env) = std::fs::read(ent.path().join("environ")) else {
            continue;
        };
        let ours = env.split(|c| *c == 0).any(|kv| {
            let kv = String::from_utf8_lossy(kv);
            let Some(v) = kv.strip_prefix("RAFT_HARNESS_RUN=") else {
                return false;
            };
            let owner = v.rsplit('/').next().unwrap_or("");
            owner.starts_with(&format!("{harness_pid}.")) || v.ends_with(&format!("-{harness_pid}"))
        });
        if ours && alive(pid) {
            out.push(pid);
        }
    }
    out
}

fn assert_no_marked_process(harness_pid: u32) {
    assert!(
        wait_until(Duration::from_secs(10), || marked_by(harness_pid)
            .is_empty()),
        "processes of run (harness pid {harness_pid}) outlived it: {:?}",
        marked_by(harness_pid)
            .iter()
            .map(|p| std::fs::read_to_string(format!("/proc/{p}/cmdline"))
                .unwrap_or_default()
                .replace('\0', " "))
            .collect::<Vec<_>>()
    );
}

/// SIGKILLs a child process and, when set, everything marked by it, on drop,
/// so a failing assertion leaks nothing.
struct Guard(Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let pid = self.0.id();
        let _ = self.0.kill();
        let _ = self.0.wait();
        for p in marked_by(pid) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(p as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

fn harness(dir: &Path, state: &str) -> Command {
    let mut c = Command::new(HARNESS);
    c.current_dir(dir)
        .env("RAFT_HARNESS_STATE_DIR", dir.join(state));
    c
}

/// `raft-harness run SPEC` in `dir`, reports in `reports-NAME`, state in `dir/STATE`.
fn run_std(dir: &Path, state: &str, spec: &Path, name: &str) -> std::process::Command {
    let mut c = std::process::Command::new(HARNESS);
    c.args(["run", spec.to_str().unwrap(), "--reports"])
        .arg(dir.join(format!("reports-{name}")))
        .current_dir(dir)
        .env("RAFT_HARNESS_STATE_DIR", dir.join(state));
    c
}

/// [`run_std`], to assert on.
fn run_cmd(dir: &Path, state: &str, spec: &Path, name: &str) -> Command {
    Command::from_std(run_std(dir, state, spec, name))
}

/// `raft-harness clean SPEC` in `dir` (state in `dir/STATE`), run to the end
/// (60 s at most), to assert on.
fn clean(dir: &Path, state: &str, spec: &Path) -> assert_cmd::assert::Assert {
    harness(dir, state)
        .args(["clean", spec.to_str().unwrap()])
        .timeout(Duration::from_secs(60))
        .assert()
}

/// Start `raft-harness run SPEC` in the background (reports in `reports-NAME`,
/// stderr in `NAME.err`).
fn spawn_run(dir: &Path, spec: &Path, state: &str, name: &str) -> Guard {
    let child = run_std(dir, state, spec, name)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join(format!("{name}.err"))).unwrap())
        .spawn()
        .unwrap();
    Guard(child)
}

fn stderr_of(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{name}.err"))).unwrap_or_default()
}

fn report(dir: &Path, name: &str) -> serde_json::Value {
    let p = dir.join(format!("reports-{name}/latest/report.json"));
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap_or_else(|e| {
        panic!("{}: {e}\n{}", p.display(), stderr_of(dir, name));
    }))
    .unwrap()
}

/// Waits (up to `limit`) for the background run `name` ([`spawn_run`]) to end:
/// it exits 0 with verdict `pass`, and leaves its ports (base+1..+3) free and
/// no process with its marker behind.
fn assert_run_passes(dir: &Path, run: &mut Guard, name: &str, base: u16, limit: Duration) {
    let code = wait_exit(&mut run.0, limit);
    assert_eq!(code, Some(0), "run {name}: {}", stderr_of(dir, name));
    assert_eq!(report(dir, name)["verdict"], "pass");
    assert_ports_free(base);
    assert_no_marked_process(run.0.id());
}

/// §2: while run A lives, a second run on its ports (same state dir: by its
/// claim; another state dir: by its nodes' markers) exits 3 naming A, and
/// `clean` exits 3 saying the ports belong to a live run; A still passes.
#[test]
fn a_live_run_is_never_touched_by_another_run_or_by_clean() {
    let (dir, spec) = suite_in_new_dir("first", "rust", 26000, &busy(20));
    let d = dir.path();
    let mut a = spawn_run(d, &spec, "state", "first");
    let a_pid = a.0.id().to_string();
    assert!(
        wait_until(Duration::from_secs(60), || ports(26000).all(port_open)),
        "run A did not start its nodes: {}",
        stderr_of(d, "first")
    );
    // Another suite sharing one port (26002) with A.
    let second = suite(d, "second", "rust", 26001, &busy(1));
    run_cmd(d, "state", &second, "second")
        .timeout(Duration::from_secs(60))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("port 26002"))
        .stderr(predicate::str::contains(
            "claimed by the live raft-harness run",
        ))
        .stderr(predicate::str::contains(format!("harness pid {a_pid}")))
        .stderr(predicate::str::contains("suite first"))
        .stderr(predicate::str::contains("reports-first"));
    // The same suite again, from a run that keeps its state elsewhere.
    run_cmd(d, "other-state", &spec, "third")
        .timeout(Duration::from_secs(60))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("of the live raft-harness run"))
        .stderr(predicate::str::contains(format!("harness pid {a_pid}")))
        .stderr(predicate::str::contains("suite first"))
        .stderr(predicate::str::contains("reports-first"));
    clean(d, "state", &spec)
        .code(3)
        .stderr(predicate::str::contains("live raft-harness run"))
        .stderr(predicate::str::contains(format!("harness pid {a_pid}")));
    clean(d, "other-state", &spec)
        .code(3)
        .stderr(predicate::str::contains("belongs to node"));
    assert!(
        ports(26000).all(port_open),
        "a node of the live run was ended"
    );
    assert_run_passes(d, &mut a, "first", 26000, Duration::from_secs(120));
}

/// §2: two runs on the same ports started at the same instant: exactly one
/// proceeds (and passes), the other exits 3 naming it.
#[test]
fn two_runs_started_at_once_one_passes_and_the_other_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let x = suite(d, "race-x", "rust", 26010, &busy(5));
    let y = suite(d, "race-y", "rust", 26010, &busy(5));
    let mut rx = spawn_run(d, &x, "state", "x");
    let mut ry = spawn_run(d, &y, "state", "y");
    let cx = wait_exit(&mut rx.0, Duration::from_secs(120));
    let cy = wait_exit(&mut ry.0, Duration::from_secs(120));
    let (ex, ey) = (stderr_of(d, "x"), stderr_of(d, "y"));
    let mut codes = [cx, cy];
    codes.sort();
    assert_eq!(codes, [Some(0), Some(3)], "x: {ex}\ny: {ey}");
    let (loser_err, winner_pid) = if cx == Some(3) {
        (&ex, ry.0.id())
    } else {
        (&ey, rx.0.id())
    };
    assert!(
        loser_err.contains("claimed by the live raft-harness run")
            && loser_err.contains(&format!("harness pid {winner_pid}")),
        "the losing run does not name the winner (pid {winner_pid}): {loser_err}"
    );
    assert_ports_free(26010);
    assert_no_marked_process(rx.0.id());
    assert_no_marked_process(ry.0.id());
}

/// Run `spec` and, while it runs, watch for one of its ports closing (the
/// killed leader going away). Returns (exit code, a port closed during the run).
fn run_watching_ports(d: &Path, spec: &Path, name: &str, base: u16) -> (Option<i32>, bool) {
    let mut g = spawn_run(d, spec, "state", name);
    let mut all_up = false;
    let mut closed_while_running = false;
    let end = Instant::now() + Duration::from_secs(150);
    while Instant::now() < end {
        if let Ok(Some(_)) = g.0.try_wait() {
            break;
        }
        let open = ports(base).filter(|p| port_open(*p)).count();
        all_up |= open == 3;
        if all_up && open < 3 && g.0.try_wait().ok().flatten().is_none() {
            closed_while_running = true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let code = wait_exit(&mut g.0, Duration::from_secs(5));
    assert_ports_free(base);
    assert_no_marked_process(g.0.id());
    (code, closed_while_running)
}

/// A 3-node suite of `kind` on base+1..+3 whose leader is killed under load passes, and the
/// killed leader's port closes while the run goes on.
fn kill_leader_of_kind(kind: &str, base: u16) {
    let (dir, spec) = suite_in_new_dir(kind, kind, base, &kill_leader());
    let d = dir.path();
    let (code, closed) = run_watching_ports(d, &spec, kind, base);
    assert_eq!(code, Some(0), "{}", stderr_of(d, kind));
    assert!(
        closed,
        "the killed leader's port never closed during the run"
    );
    assert_eq!(report(d, kind)["verdict"], "pass");
}

/// §3: a node started through a wrapper that `setsid`s the server: `kill
/// leader` ends the server (another leader is elected, its port closes).
#[test]
fn kill_reaches_a_node_started_with_setsid() {
    kill_leader_of_kind("setsid", 26040);
}

/// §3: `pause leader` stops every process of a `setsid` node (SIGSTOP reaches
/// the server in its own session: another leader is elected), `resume` lets it go on.
#[test]
fn pause_and_resume_reach_a_node_started_with_setsid() {
    let steps = fault_leader_under_load("1", "pause")
        + &steps(&[
            r#"fault = "resume"; target = "paused""#,
            "sleep_s = 2",
            r#"workload = "stop""#,
        ]);
    let (dir, spec) = suite_in_new_dir("pause", "setsid", 26045, &steps);
    let d = dir.path();
    let mut g = spawn_run(d, &spec, "state", "pause");
    assert_run_passes(d, &mut g, "pause", 26045, Duration::from_secs(150));
}

/// §3: a node whose launcher daemonizes it (double fork, own session, plus a
/// helper) and exits at once: it counts as running, `kill leader` ends it, and
/// nothing with the run's marker outlives the run.
#[test]
fn kill_reaches_a_daemonized_node_and_teardown_leaves_nothing() {
    kill_leader_of_kind("daemon", 26050);
}

/// §3: SIGKILL the harness while daemonized nodes run (they escape the
/// parent-death signal); `clean SUITE` finds them by marker and ends them.
#[test]
fn clean_ends_the_daemonized_nodes_of_a_sigkilled_harness() {
    let (dir, spec) = suite_in_new_dir("orphans", "daemon", 26060, &busy(60));
    let d = dir.path();
    let mut g = spawn_run(d, &spec, "state", "orphans");
    let pid = g.0.id();
    assert!(
        wait_until(Duration::from_secs(60), || ports(26060).all(port_open)),
        "nodes did not come up: {}",
        stderr_of(d, "orphans")
    );
    assert!(
        wait_until(Duration::from_secs(30), || stderr_of(d, "orphans")
            .contains("step 2/")),
        "the run did not reach its schedule: {}",
        stderr_of(d, "orphans")
    );
    assert_eq!(
        g.0.try_wait().unwrap(),
        None,
        "the harness ended on its own: {}",
        stderr_of(d, "orphans")
    );
    g.0.kill().unwrap();
    let _ = g.0.wait();
    // The daemons and their helpers outlive a SIGKILLed harness...
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        ports(26060).all(port_open),
        "daemonized nodes were expected to survive"
    );
    assert!(!marked_by(pid).is_empty());
    // ...until `clean` recognises their run as dead.
    clean(d, "state", &spec)
        .code(0)
        .stderr(predicate::str::contains("whose harness is gone"));
    assert_ports_free(26060);
    assert_no_marked_process(pid);
}

/// §9: three nodes that ignore SIGTERM are stopped together: each gets one
/// SIGTERM, and teardown takes about one grace period (2 s), not three.
#[test]
fn teardown_stops_all_nodes_together() {
    let (dir, spec) = suite_in_new_dir("stubborn", "stubborn", 26070, &busy(1));
    let d = dir.path();
    run_cmd(d, "state", &spec, "stubborn")
        .timeout(Duration::from_secs(120))
        .assert()
        .code(0);
    let r = report(d, "stubborn");
    let run_dir = d.join("reports-stubborn/latest");
    for id in 1..=3 {
        let log = run_dir.join(format!("data/{id}/terms.log"));
        let terms = std::fs::read_to_string(&log).unwrap_or_default();
        assert_eq!(
            terms.lines().count(),
            1,
            "node {id} got {} SIGTERMs ({})",
            terms.lines().count(),
            log.display()
        );
    }
    let teardown = r["timings"]["teardown"].as_f64().unwrap();
    assert!(
        teardown < 2.5 * 2.0,
        "teardown took {teardown:.1} s for a 2 s grace: nodes were stopped one after another"
    );
    assert_ports_free(26070);
}

/// §9: a state dir that cannot be created is an error naming it (exit 3), for
/// `run` (before any node starts) and `clean`.
#[test]
fn an_unusable_state_dir_is_an_error_naming_it() {
    let (dir, spec) = suite_in_new_dir("nostate", "rust", 26080, &busy(1));
    let d = dir.path();
    std::fs::write(d.join("a-file"), "").unwrap();
    let bad = d.join("a-file/state");
    for cmd in ["run", "clean"] {
        Command::new(HARNESS)
            .current_dir(d)
            .env("RAFT_HARNESS_STATE_DIR", &bad)
            .args([cmd, spec.to_str().unwrap()])
            .timeout(Duration::from_secs(60))
            .assert()
            .code(3)
            .stderr(predicate::str::contains(bad.to_str().unwrap()))
            .stderr(predicate::str::contains("not usable"));
    }
    assert!(!ports(26080).any(port_open));
}

/// A user for the test (root only: `useradd -r`), made once.
fn other_user() -> u32 {
    let name = "raftharness-test";
    let id = |n: &str| {
        std::process::Command::new("id")
            .args(["-u", n])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
    };
    if let Some(uid) = id(name) {
        return uid;
    }
    let st = std::process::Command::new("useradd")
        .args(["-r", "-M", "-s", "/usr/sbin/nologin", name])
        .status()
        .expect("useradd (this test runs as root, as in CI)");
    // Another test may have created it in between.
    assert!(st.success() || id(name).is_some(), "useradd failed");
    id(name).unwrap()
}

/// A python listener on `addr:port` whose command line also names `rust-node`
/// and the port, so that it looks like a hand-started node.
fn listener(addr: &str, port: u16, uid: Option<u32>) -> Guard {
    let code = format!(
        "import socket,time\ns=socket.socket()\ns.bind(('{addr}',{port}))\ns.listen()\ntime.sleep(300)"
    );
    let mut cmd = match uid {
        Some(u) => {
            // A system python the other user may execute (not a per-user shim).
            let py = ["/usr/bin/python3", "/usr/local/bin/python3"]
                .into_iter()
                .find(|p| Path::new(p).exists())
                .unwrap_or("python3");
            let mut c = std::process::Command::new("setpriv");
            c.args([
                &format!("--reuid={u}"),
                &format!("--regid={u}"),
                "--clear-groups",
                py,
            ]);
            c
        }
        None => std::process::Command::new("python3"),
    };
    cmd.args(["-c", &code, "/opt/x/rust-node", "1", &port.to_string()])
        .current_dir("/")
        .stdin(Stdio::null());
    let g = Guard(cmd.spawn().unwrap());
    assert!(
        wait_until(Duration::from_secs(20), || {
            std::fs::read_to_string("/proc/net/tcp")
                .unwrap_or_default()
                .contains(&format!(":{port:04X} 00000000:0000 0A"))
        }),
        "listener on {addr}:{port} did not start"
    );
    g
}

/// §8: a server of another user on a suite port, though it looks like this
/// kind's node started by hand, is a stranger: named (with its uid), untouched.
#[test]
fn another_users_server_is_named_and_left_alive() {
    if !nix::unistd::getuid().is_root() {
        eprintln!("skipped: needs root to create a user (CI runs as root)");
        return;
    }
    let uid = other_user();
    let (dir, spec) = suite_in_new_dir("theirs", "rust", 26090, &busy(1));
    let d = dir.path();
    let g = listener("127.0.0.1", 26092, Some(uid));
    // setpriv execs python3: the listener is the guarded pid itself.
    let pid = g.0.id();
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap()
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .unwrap()
            .split_whitespace()
            .nth(1),
        Some(uid.to_string().as_str())
    );
    for cmd in ["clean", "run"] {
        harness(d, "state")
            .args([cmd, spec.to_str().unwrap()])
            .timeout(Duration::from_secs(60))
            .assert()
            .code(3)
            .stderr(predicate::str::contains("port 26092"))
            .stderr(predicate::str::contains(format!("pid {pid} (uid {uid})")));
        assert!(alive(pid), "`{cmd}` ended another user's process");
    }
    assert!(!port_open(26091) && !port_open(26093));
}

/// §8: a listener on 127.0.0.2 does not block a node on 127.0.0.1 with the
/// same port (and is left alone).
#[test]
fn a_listener_on_another_loopback_address_does_not_block_the_port() {
    let (dir, spec) = suite_in_new_dir("beside", "rust", 26100, &busy(1));
    let d = dir.path();
    let g = listener("127.0.0.2", 26102, None);
    run_cmd(d, "state", &spec, "beside")
        .timeout(Duration::from_secs(120))
        .assert()
        .code(0);
    assert!(alive(g.0.id()), "the listener on 127.0.0.2 was ended");
    assert_ports_free(26100);
}

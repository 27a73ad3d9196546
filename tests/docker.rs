//! Issue 17: the reference cluster in containers. One test, in order, because all parts share
//! one engine: start `dockerd` where none answers (and stop it at the end, only if this test
//! started it), build the node images (docker/build.sh: the debootstrap base is made once and
//! cached, nothing is pulled), run the 5-node mixed `failover` suite and `partition-leader`
//! with `backend = "docker"` and check that no container or network of the runs is left,
//! then bring up `raft-harness compose suites/failover.toml` with docker-compose, see a
//! leader, write through a published port with python-node/raft_client.py, and bring it down.
//!
//! Needs root, Debian's `docker.io`, `docker-compose` and `debootstrap`: it is `#[ignore]`d in
//! the plain `cargo test` step and run by the docker step of tests/run-all.sh
//! (`cargo test --test docker -- --ignored`), which installs what is missing first.
//! Ports: 30410–30425 (suites), 30401–30405 (compose, `--port-offset 15300`).
mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const HARNESS: &str = env!("CARGO_BIN_EXE_raft-harness");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn docker(args: &[&str]) -> (bool, String) {
    let out = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the docker client runs");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// The engine this test started (stopped by pid on drop), or none when one was running.
struct Engine(Option<Child>);

impl Engine {
    fn ensure(log: &Path) -> Engine {
        if docker(&["info"]).0 {
            return Engine(None);
        }
        let out = std::fs::File::create(log).unwrap();
        let child = Command::new("dockerd")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("dockerd starts (apt-get install docker.io)");
        eprintln!("started dockerd, pid {}", child.id());
        let e = Engine(Some(child));
        assert!(
            support::wait_until(Duration::from_secs(90), || docker(&["info"]).0),
            "dockerd did not answer within 90 s; its log: {}",
            log.display()
        );
        e
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let pid = nix::unistd::Pid::from_raw(c.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            if support::wait_exit(c, Duration::from_secs(30)).is_none() {
                let _ = c.kill();
            }
            let _ = c.wait();
            eprintln!("stopped the dockerd this test started");
        }
    }
}

/// Labelled containers and networks the engine still holds (all runs).
fn leftovers() -> String {
    let f = "label=org.raft-harness.run";
    let (ok1, c) = docker(&["ps", "-a", "-q", "--filter", f]);
    let (ok2, n) = docker(&["network", "ls", "-q", "--filter", f]);
    assert!(ok1 && ok2, "listing failed: {c} {n}");
    format!("{}{}", c.trim(), n.trim())
}

fn run_suite(suite: &str, reports: &Path, state: &Path) {
    let out = Command::new(HARNESS)
        .current_dir(repo())
        .args(["run", suite, "--reports"])
        .arg(reports)
        .env("RAFT_HARNESS_STATE_DIR", state)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{suite} did not pass:\n{text}");
    assert!(text.contains("PASS"), "{text}");
    assert_eq!(leftovers(), "", "{suite} left containers or networks");
}

/// A node answering GetStatus on a published port says it is the leader.
fn leader_seen(ports: &[u16]) -> bool {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        for p in ports {
            let addr = format!("127.0.0.1:{p}").parse().unwrap();
            let mut c = raft_harness::client::lazy(addr, Duration::from_millis(500));
            if let Ok(s) = raft_harness::client::status(&mut c, Duration::from_millis(500)).await {
                if s.state == "Leader" {
                    return true;
                }
            }
        }
        false
    })
}

struct ComposeUp<'a>(&'a Path);

impl Drop for ComposeUp<'_> {
    fn drop(&mut self) {
        let st = Command::new("docker-compose")
            .args(["-p", "rhdockertest", "down", "-v"])
            .current_dir(self.0)
            .status();
        eprintln!("docker-compose down: {st:?}");
    }
}

fn compose_round_trip(dir: &Path) {
    let file = dir.join("docker-compose.yml");
    let st = Command::new(HARNESS)
        .current_dir(repo())
        .args([
            "compose",
            "suites/failover.toml",
            "--port-offset",
            "15300",
            "-o",
        ])
        .arg(&file)
        .status()
        .unwrap();
    assert!(st.success());
    let up = Command::new("docker-compose")
        .args(["-p", "rhdockertest", "up", "-d"])
        .current_dir(dir)
        .output()
        .unwrap();
    let _down = ComposeUp(dir);
    assert!(
        up.status.success(),
        "docker-compose up: {}",
        String::from_utf8_lossy(&up.stderr)
    );
    let ports: Vec<u16> = (30401..=30405).collect();
    assert!(
        support::wait_until(Duration::from_secs(120), || leader_seen(&ports)),
        "no leader through the published ports within 120 s"
    );
    let cluster = ports
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",");
    let client = |args: &[&str]| {
        let out = Command::new(repo().join("python-node/.venv/bin/python"))
            .arg(repo().join("python-node/raft_client.py"))
            .args(["--cluster", &cluster, "--timeout", "20"])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(client(&["SET", "compose-key", "v17"]), "APPLIED OK");
    assert_eq!(client(&["GET", "compose-key"]), "APPLIED v17");
}

#[test]
#[ignore = "needs root and a Docker engine: run by tests/run-all.sh's docker step (cargo test --test docker -- --ignored)"]
fn the_cluster_runs_in_containers_through_the_backend_and_compose() {
    let tmp = tempfile::tempdir().unwrap();
    let _engine = Engine::ensure(&tmp.path().join("dockerd.log"));
    let st = Command::new(repo().join("docker/build.sh"))
        .status()
        .expect("docker/build.sh runs");
    assert!(st.success(), "docker/build.sh failed");
    let reports = tmp.path().join("reports");
    let state = tmp.path().join("state");
    run_suite("suites/docker/failover.toml", &reports, &state);
    run_suite("suites/docker/partition-leader.toml", &reports, &state);
    compose_round_trip(tmp.path());
    let (_, vols) = docker(&["volume", "ls", "-q", "--filter", "name=rhdockertest"]);
    assert_eq!(vols.trim(), "", "compose volumes left");
}

//! End-to-end findings about misbehaving nodes (issue 11 §3): a node whose
//! process lives but stops answering fails `responsiveness`, naming it (and
//! other checks name it as silent); a node that prints a traceback fails
//! `node_errors`, naming it. Real runs of the harness binary with this build's
//! rust-node behind small wrapper scripts. Ports 28100-28199.
use assert_cmd::Command;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const HARNESS: &str = env!("CARGO_BIN_EXE_raft-harness");
const NODE: &str = env!("CARGO_BIN_EXE_rust-node");

/// The rust-node arguments every kind below passes on.
const ARGS: &str = r#""{id}", "{port}", "{peers}", "--host", "{host}",
           "--data-dir", "{data_dir}", "--journal", "{journal}",
           "--election-timeout-ms", "{election_timeout_ms}", "--heartbeat-ms", "{heartbeat_ms}""#;

/// `hang.sh`: rust-node, SIGSTOPped by its own wrapper after 3 s — the process
/// lives, the harness never paused it, and GetStatus gets no answer.
/// `noisy.sh`: rust-node, plus a real Python traceback on stderr after 1 s.
fn kinds(dir: &Path) {
    let hang = dir.join("hang.sh");
    std::fs::write(
        &hang,
        format!(
            "#!/bin/sh\n\"{NODE}\" \"$@\" &\nchild=$!\nsleep 3\nkill -STOP $child\nwait $child\n"
        ),
    )
    .unwrap();
    let noisy = dir.join("noisy.sh");
    std::fs::write(
        &noisy,
        format!(
            "#!/bin/sh\n(sleep 1; python3 -c 'import sys; l = []; l[3]' ) &\nexec \"{NODE}\" \"$@\"\n"
        ),
    )
    .unwrap();
    let kinds = format!(
        r#"
[kind.rust]
command = ["{NODE}", {ARGS}]
ready_timeout_s = 20
[kind.hang]
command = ["sh", "{hang}", {ARGS}]
ready_timeout_s = 20
stop_grace_s = 1
[kind.noisy]
command = ["sh", "{noisy}", {ARGS}]
ready_timeout_s = 20
"#,
        hang = hang.display(),
        noisy = noisy.display()
    );
    std::fs::write(dir.join("kinds.toml"), kinds).unwrap();
}

/// Three nodes (node 3 of `kind3`) on base+1..+3, a workload, 9 s of running.
fn suite(dir: &Path, base: u16, kind3: &str) -> PathBuf {
    kinds(dir);
    let p = dir.join("s.toml");
    std::fs::write(
        &p,
        format!(
            r#"include = ["kinds.toml"]
[cluster]
base_port = {base}
election_timeout_ms = [300, 600]
heartbeat_ms = 50
[[node]]
id = 1
kind = "rust"
[[node]]
id = 2
kind = "rust"
[[node]]
id = 3
kind = "{kind3}"
[workload]
type = "register"
clients = 2
rate = 20
targets = [1, 2]
request_timeout_ms = 1000
[[step]]
wait = "leader"
timeout_s = 20
[[step]]
workload = "start"
[[step]]
sleep_s = 9
[[step]]
workload = "stop"
[checks]
settle_timeout_s = 3
"#
        ),
    )
    .unwrap();
    p
}

fn harness(dir: &Path) -> Command {
    let mut c = Command::new(HARNESS);
    c.current_dir(dir)
        .env("RAFT_HARNESS_STATE_DIR", dir.join("state"));
    c
}

fn report(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("reports/latest/report.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn check<'a>(r: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {r}"))
}

/// No listener remains on the suite's ports (every node is gone).
fn assert_ports_free(base: u16) {
    for p in base + 1..=base + 3 {
        let end = Instant::now() + Duration::from_secs(10);
        let addr = format!("127.0.0.1:{p}").parse().unwrap();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            assert!(
                Instant::now() < end,
                "port {p} still served: a node was left running"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn a_node_that_stops_answering_fails_responsiveness_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let spec = suite(dir.path(), 28100, "hang");
    let out = harness(dir.path())
        .args(["run", spec.to_str().unwrap(), "--seed", "5"])
        .timeout(Duration::from_secs(180))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let r = report(dir.path());
    let c = check(&r, "responsiveness");
    assert_eq!(c["status"], "fail", "{c}");
    let s = c["summary"].as_str().unwrap();
    assert!(s.starts_with("node 3 stopped answering GetStatus"), "{s}");
    assert!(s.contains("its last status:"), "{s}");
    assert!(s.contains("DeadlineExceeded"), "{s}");
    // Only node 3 is named.
    let ev = c["evidence"].as_array().unwrap();
    assert!(
        ev.iter()
            .all(|e| e.as_str().unwrap().starts_with("node 3 ")),
        "{c}"
    );
    // Durability names the silent node it had no final log from.
    let d = check(&r, "durability");
    let based = d["based_on"].as_str().unwrap();
    assert!(
        based.contains("no final log from node(s) 3 (node 3 silent since"),
        "{d}\n{c}\n{stderr}"
    );
    assert_ports_free(28100);
}

#[test]
fn a_node_that_prints_a_traceback_fails_node_errors_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let spec = suite(dir.path(), 28110, "noisy");
    let out = harness(dir.path())
        .args(["run", spec.to_str().unwrap(), "--seed", "5"])
        .timeout(Duration::from_secs(180))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let r = report(dir.path());
    let c = check(&r, "node_errors");
    assert_eq!(c["status"], "fail", "{c}");
    let s = c["summary"].as_str().unwrap();
    assert!(s.starts_with("node 3: Python traceback at "), "{s}");
    assert!(s.contains("3.log:"), "{s}");
    assert!(s.contains("IndexError: list index out of range"), "{s}");
    assert_eq!(c["evidence"].as_array().unwrap().len(), 1, "{c}");
    // Everything else about the run is healthy.
    assert_eq!(check(&r, "responsiveness")["status"], "pass");
    assert_ports_free(28110);

    // The same run with node_errors lowered to a warning passes.
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(
        &spec,
        text.replace("[checks]\n", "[checks]\nnode_errors = \"warning\"\n"),
    )
    .unwrap();
    let out = harness(dir.path())
        .args(["run", spec.to_str().unwrap(), "--seed", "5"])
        .timeout(Duration::from_secs(180))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let r = report(dir.path());
    assert_eq!(check(&r, "node_errors")["status"], "warn", "{r}");
    assert_ports_free(28110);
}

//! Suites for the integration tests, built from parts: a `[cluster]` of rust-node kinds on
//! fixed ports, a register workload, and steps (`[[step]]` tables). The runs go through this
//! build's `raft-harness` binary with a private state dir.
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{port_open, wait_until};

/// This build's harness binary.
pub const HARNESS: &str = env!("CARGO_BIN_EXE_raft-harness");

/// `raft-harness` run in `dir`, with its state dir `dir/state` (never the user's default).
pub fn harness(dir: &Path) -> assert_cmd::Command {
    assert_cmd::Command::from_std(harness_std(dir))
}

/// [`harness`] as a plain `std::process::Command`, for children the test signals or bounds.
pub fn harness_std(dir: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(HARNESS);
    c.current_dir(dir)
        .env("RAFT_HARNESS_STATE_DIR", dir.join("state"));
    c
}

/// `n` `[[node]]` tables of `kind`, ids 1..=n, each followed by `extra` TOML lines.
pub fn nodes(n: u32, kind: &str, extra: &str) -> String {
    (1..=n)
        .map(|id| format!("[[node]]\nid = {id}\nkind = \"{kind}\"\n{extra}"))
        .collect()
}

/// The head of a suite: `include = ["kinds.toml"]`, a `[cluster]` on `base_port` (election
/// timeout 300–600 ms, heartbeat 50 ms, link proxies when `proxies`), then `nodes`.
pub fn cluster(base_port: u16, proxies: bool, nodes: &str) -> String {
    cluster_with("kinds.toml", base_port, 50, proxies, nodes)
}

/// The head of a suite: `include = [include]`, a `[cluster]` on `base_port` (election timeout
/// 300–600 ms, heartbeat `heartbeat_ms`, link proxies when `proxies`), then `nodes`.
pub fn cluster_with(
    include: &str,
    base_port: u16,
    heartbeat_ms: u32,
    proxies: bool,
    nodes: &str,
) -> String {
    let proxies = if proxies { "proxies = true\n" } else { "" };
    format!(
        "include = [\"{include}\"]\n[cluster]\nbase_port = {base_port}\n\
         election_timeout_ms = [300, 600]\nheartbeat_ms = {heartbeat_ms}\n{proxies}{nodes}"
    )
}

/// `[checks]` requiring every safety check and `linearizable`: what a planted bug must fail.
pub const SAFETY_REQUIRED: &str = "[checks]\nrequired = [\"election_safety\", \"log_matching\", \
     \"state_machine_safety\", \"durability\", \"linearizable\"]\n";

/// The head of a suite hunting a planted bug: [`cluster_with`] `include` on `base_port`
/// (heartbeat 60 ms) of three `kind` nodes, a register workload of `clients` at `rate` ops/s
/// on 2 keys, and [`SAFETY_REQUIRED`].
pub fn bug_hunt(include: &str, base_port: u16, kind: &str, clients: u32, rate: u32) -> String {
    let head = cluster_with(include, base_port, 60, false, &nodes(3, kind, ""));
    format!(
        "{head}{}keys = 2\n{SAFETY_REQUIRED}",
        register(clients, rate)
    )
}

/// A `[workload]` of `clients` register clients at `rate` ops/s in all (0: closed loop).
pub fn register(clients: u32, rate: u32) -> String {
    format!("[workload]\ntype = \"register\"\nclients = {clients}\nrate = {rate}\n")
}

/// One `[[step]]` table of `key = value` lines (values are TOML).
pub fn step(lines: &[(&str, &str)]) -> String {
    let body: String = lines.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
    format!("[[step]]\n{body}")
}

/// The one step `wait = "leader"` (within the default wait timeout).
pub const LEADER: &str = "[[step]]\nwait = \"leader\"\n";

/// `wait = "leader"` within `timeout_s`.
pub fn leader(timeout_s: u32) -> String {
    step(&[
        ("wait", "\"leader\""),
        ("timeout_s", &timeout_s.to_string()),
    ])
}

/// Steps: elect a leader (30 s), start the workload, write for `sleep_s` seconds.
pub fn write_under_leader(sleep_s: &str) -> String {
    steps(&[
        r#"wait = "leader"; timeout_s = 30"#,
        r#"workload = "start""#,
        &format!("sleep_s = {sleep_s}"),
    ])
}

/// Elect a leader (30 s), start the workload, write for `secs`, stop it.
pub fn busy(secs: u32) -> String {
    write_under_leader(&secs.to_string()) + &steps(&[r#"workload = "stop""#])
}

/// Writes `dir/NAME.toml` with `text`; its path.
pub fn write_suite(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, text).unwrap();
    p
}

/// Every port in `ports` stops being served within 10 s (no node left running).
pub fn assert_ports_free(ports: impl IntoIterator<Item = u16>) {
    for p in ports {
        assert!(
            wait_until(Duration::from_secs(10), || !port_open(p)),
            "port {p} is still served after the run: a node was left running"
        );
    }
}

/// The JSON file at `path`; panics naming it when unreadable or not JSON.
pub fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}: {text}", path.display()))
}

/// The first item of the JSON array `list` whose `key` is `value`; panics naming them when none.
pub fn find<'a>(list: &'a serde_json::Value, key: &str, value: &str) -> &'a serde_json::Value {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .find(|c| c[key] == value)
        .unwrap_or_else(|| panic!("no {key} = {value:?} in {list}"))
}

/// The entry of `report.json`'s `checks` named `name`; panics when absent.
pub fn check<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    find(&report["checks"], "name", name)
}

/// Five rust nodes that answer reads from local state (`--unsafe-stale-reads`) behind proxies
/// on `base_port`+1..+5, six clients at 120 ops/s on one key, node 1 cut off for 4 s while
/// writes go on: values the majority has overwritten are read, and `linearizable` must fail.
pub fn stale_reads(base_port: u16) -> String {
    let nodes = nodes(5, "rust", "args = [\"--unsafe-stale-reads\"]\n");
    let steps = [
        leader(30),
        step(&[("workload", "\"start\"")]),
        step(&[("sleep_s", "1")]),
        step(&[("net", "\"isolate\""), ("target", "[1]")]),
        step(&[("sleep_s", "4")]),
        step(&[("heal", "true")]),
        step(&[("workload", "\"stop\"")]),
    ];
    format!(
        "{}{}keys = 1\n{}",
        cluster(base_port, true, &nodes),
        register(6, 120),
        steps.concat()
    )
}

/// `raft-harness run SPEC --seed SEED` in `dir`, killed after `limit`: its exit code (None:
/// killed by a signal) and stderr.
pub fn run_seeded(dir: &Path, spec: &Path, seed: u64, limit: Duration) -> (Option<i32>, String) {
    let out = harness(dir)
        .args(["run", spec.to_str().unwrap(), "--seed", &seed.to_string()])
        .timeout(limit)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), stderr)
}

/// `raft-harness run SPEC --seed SEED` in `dir` (killed after 180 s), to assert on.
pub fn run_assert(dir: &Path, spec: &Path, seed: u64) -> assert_cmd::assert::Assert {
    harness(dir)
        .args(["run", spec.to_str().unwrap(), "--seed", &seed.to_string()])
        .timeout(Duration::from_secs(180))
        .assert()
}

/// `dir/reports/latest/report.json`, the last run's report.
pub fn latest_report(dir: &Path) -> serde_json::Value {
    json(&dir.join("reports/latest/report.json"))
}

/// `[[step]]` tables, one a item: its `key = value` lines joined by `"; "`
/// (`r#"fault = "kill"; target = "leader""#`).
pub fn steps(list: &[&str]) -> String {
    list.iter()
        .map(|s| format!("[[step]]\n{}\n", s.replace("; ", "\n")))
        .collect()
}

/// Steps: elect a leader, start the workload, write for `sleep_s`, `fault` the leader (`kill`,
/// `pause`, …) and wait for a new leader (30 s for each wait).
pub fn fault_leader_under_load(sleep_s: &str, fault: &str) -> String {
    write_under_leader(sleep_s)
        + &steps(&[
            &format!(r#"fault = "{fault}"; target = "leader""#),
            r#"wait = "new-leader"; timeout_s = 30"#,
        ])
}

/// Each of `cmds` (`validate`, `run`, `clean`) on `file` in `dir` exits 2 with every `want`
/// and no `unwanted` text (nor a panic) in its stderr, and nothing starts (no `dir/reports`):
/// how bad input is refused. The first command's stderr.
pub fn refused_by(
    dir: &Path,
    cmds: &[&str],
    file: &Path,
    want: &[&str],
    unwanted: &[&str],
) -> String {
    let mut first = None;
    for cmd in cmds {
        let out = harness(dir)
            .arg(cmd)
            .arg(file)
            .timeout(Duration::from_secs(300))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{cmd}: {err}");
        for w in want {
            assert!(err.contains(w), "{cmd}: missing {w:?} in:\n{err}");
        }
        for u in unwanted.iter().chain(&["panicked"]) {
            assert!(!err.contains(u), "{cmd}: {u:?} in:\n{err}");
        }
        first.get_or_insert(err);
    }
    assert!(!dir.join("reports").exists(), "{cmds:?} started something");
    first.unwrap_or_default()
}

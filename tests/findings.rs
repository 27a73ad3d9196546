//! End-to-end findings about misbehaving nodes (issue 11 §3): a node whose
//! process lives but stops answering fails `responsiveness`, naming it (and
//! other checks name it as silent); a node that prints a traceback fails
//! `node_errors`, naming it. Real runs of the harness binary with this build's
//! rust-node behind small wrapper scripts. Ports 28100-28199.
mod support;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::kinds::{kind, node_command, write_kinds};
use support::suite::{
    busy, check, cluster, latest_report, nodes, register, run_seeded, write_suite,
};

/// Both wrappers run the node command they are given (`"$@"`).
/// `hang.sh`: rust-node, SIGSTOPped by its own wrapper after 3 s — the process
/// lives, the harness never paused it, and GetStatus gets no answer.
/// `noisy.sh`: rust-node, plus a real Python traceback on stderr after 1 s.
fn kinds(dir: &Path) {
    let hang = dir.join("hang.sh");
    std::fs::write(
        &hang,
        "#!/bin/sh\n\"$@\" &\nchild=$!\nsleep 3\nkill -STOP $child\nwait $child\n",
    )
    .unwrap();
    let noisy = dir.join("noisy.sh");
    std::fs::write(
        &noisy,
        "#!/bin/sh\n(sleep 1; python3 -c 'import sys; l = []; l[3]' ) &\nexec \"$@\"\n",
    )
    .unwrap();
    let (hang, noisy) = (hang.display().to_string(), noisy.display().to_string());
    write_kinds(
        dir,
        &[
            kind("hang", &node_command(&["sh", &hang]), "stop_grace_s = 1"),
            kind("noisy", &node_command(&["sh", &noisy]), ""),
        ],
    );
}

/// Three nodes (node 3 of `kind3`) on base+1..+3, a workload, 9 s of running.
fn suite(dir: &Path, base: u16, kind3: &str) -> PathBuf {
    kinds(dir);
    let nodes = nodes(2, "rust", "") + &format!("[[node]]\nid = 3\nkind = \"{kind3}\"\n");
    let workload = "targets = [1, 2]\nrequest_timeout_ms = 1000\n";
    let checks = "[checks]\nsettle_timeout_s = 3\n";
    let text = cluster(base, false, &nodes) + &register(2, 20) + workload + &busy(9) + checks;
    write_suite(dir, "s", &text)
}

/// `raft-harness run SPEC --seed 5`: its exit code, stderr, and report.json.
fn run(dir: &Path, spec: &Path) -> (Option<i32>, String, serde_json::Value) {
    let (code, stderr) = run_seeded(dir, spec, 5, Duration::from_secs(180));
    (code, stderr, latest_report(dir))
}

/// What the `responsiveness` summary of a node that stops answering starts with, then holds.
const HANG_SUMMARY: &[&str] = &[
    "node 3 stopped answering GetStatus",
    "its last status:",
    "DeadlineExceeded",
];

/// What the `node_errors` summary of a node that prints a traceback starts with, then holds.
const NOISY_SUMMARY: &[&str] = &[
    "node 3: Python traceback at ",
    "3.log:",
    "IndexError: list index out of range",
];

/// A run of [`suite`] on `base` with node 3 of `kind3`: exit 1 and check `name` fails with a
/// summary that starts with `summary[0]` and holds every other item. The folder, the suite,
/// stderr and report.json.
fn failing_run(
    base: u16,
    kind3: &str,
    name: &str,
    summary: &[&str],
) -> (tempfile::TempDir, PathBuf, String, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let spec = suite(dir.path(), base, kind3);
    let (code, stderr, r) = run(dir.path(), &spec);
    assert_eq!(code, Some(1), "{stderr}");
    let c = check(&r, name);
    assert_eq!(c["status"], "fail", "{c}");
    let s = c["summary"].as_str().unwrap();
    assert!(s.starts_with(summary[0]), "{s}");
    for part in &summary[1..] {
        assert!(s.contains(part), "{s}");
    }
    (dir, spec, stderr, r)
}

/// No listener remains on the suite's ports (every node is gone).
fn assert_ports_free(base: u16) {
    support::suite::assert_ports_free(base + 1..=base + 3);
}

#[test]
fn a_node_that_stops_answering_fails_responsiveness_naming_it() {
    let (_dir, _, stderr, r) = failing_run(28100, "hang", "responsiveness", HANG_SUMMARY);
    let c = check(&r, "responsiveness");
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
    let (dir, spec, _, r) = failing_run(28110, "noisy", "node_errors", NOISY_SUMMARY);
    let c = check(&r, "node_errors");
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
    let (code, stderr, r) = run(dir.path(), &spec);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(check(&r, "node_errors")["status"], "warn", "{r}");
    assert_ports_free(28110);
}

//! Open-loop arrivals keep sending while the leader is down (issue 13 §1): a real
//! `raft-harness run` of three of this build's rust-nodes on ports 33701–33703.
mod support;
use std::path::Path;
use support::kinds::write_kinds;
use support::suite::{
    assert_ports_free, cluster, find, latest_report, nodes, run_assert, steps, write_suite,
};

/// The history of the last run (`history.jsonl`), one JSON object a line.
fn history(dir: &Path) -> Vec<serde_json::Value> {
    let p = dir.join("reports/latest/history.jsonl");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn arrivals_keep_being_issued_while_the_killed_leader_is_down() {
    let dir = tempfile::tempdir().unwrap();
    write_kinds(dir.path(), &[]);
    let workload = "[workload]\ntype = \"register\"\nmode = \"open\"\nclients = 2\nrate = 50\n\
                    request_timeout_ms = 1000\n";
    let text = cluster(33700, false, &nodes(3, "rust", ""))
        + workload
        + &steps(&[
            r#"wait = "leader"; timeout_s = 30"#,
            r#"workload = "start""#,
            "sleep_s = 1",
            r#"fault = "kill"; target = "leader""#,
            "sleep_s = 3",
            r#"fault = "restart"; target = "down""#,
            "sleep_s = 1",
            r#"workload = "stop""#,
        ]);
    let spec = write_suite(dir.path(), "open-kill", &text);
    run_assert(dir.path(), &spec, 7).success();
    assert_ports_free(33701..=33703);
    let report = latest_report(dir.path());
    let kill = find(&report["faults"], "action", "kill");
    let killed = kill["nodes"][0].as_i64().expect("the kill names its node");
    let restart = find(&report["faults"], "action", "restart");
    let (from, to) = (
        kill["t_us"].as_u64().unwrap(),
        restart["t_us"].as_u64().unwrap(),
    );
    let h = history(dir.path());
    let during: Vec<&serde_json::Value> = h
        .iter()
        .filter(|o| o["client"].as_u64() != Some(0))
        .filter(|o| (from..to).contains(&o["invoke_us"].as_u64().unwrap()))
        .collect();
    // 50 arrivals a second for the 3 s the leader is down: ~150 expected; a workload that
    // stalled on the dead leader would send a handful.
    assert!(
        during.len() >= 40,
        "only {} requests sent while the leader was down",
        during.len()
    );
    // Arrivals went to every node, the dead one too (refused: a definite `fail`).
    let to_dead = during.iter().filter(|o| o["node"].as_i64() == Some(killed));
    assert!(
        to_dead.clone().count() > 0,
        "no request to the dead node {killed}"
    );
    assert!(to_dead.clone().all(|o| o["outcome"] != "ok"));
    let acked = during.iter().filter(|o| o["outcome"] == "ok").count();
    assert!(
        acked > 0,
        "nothing acknowledged while the old leader was down"
    );
    let m = &report["metrics"];
    assert_eq!(m["arrivals_dropped"], 0.0, "{m}");
    assert!(m["logical_clients"].as_f64().unwrap() >= 2.0, "{m}");
    assert!(m["ok_per_s_after_fault.1"].is_number(), "{m}");
    // Every process of the history has at most one request open at a time.
    let mut by_client: std::collections::BTreeMap<u64, Vec<(u64, u64)>> = Default::default();
    for o in h.iter().filter(|o| o["client"].as_u64() != Some(0)) {
        let start = o["invoke_us"].as_u64().unwrap();
        let end = o["complete_us"].as_u64().unwrap_or(u64::MAX);
        by_client
            .entry(o["client"].as_u64().unwrap())
            .or_default()
            .push((start, end));
    }
    for (c, mut ops) in by_client {
        ops.sort_unstable();
        for w in ops.windows(2) {
            assert!(w[0].1 <= w[1].0, "client {c} has two requests open: {w:?}");
        }
    }
}

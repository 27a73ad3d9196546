//! The run's numbers for the report: throughput, latency, first commit after
//! each disruptive fault, leader terms seen. The schedule's own numbers
//! (`failover_ms.N`, `workload_s`) come from [`crate::schedule::Record`].
use crate::check::Evidence;
use crate::history::Outcome;
use crate::report::Report;
use crate::schedule::first_commit_after_ms;

/// Throughput, latency and failover numbers for the report. `deadline_us`: the workload
/// clients' request deadline (µs), if the suite has a workload.
pub fn add(ev: &Evidence, report: &mut Report, deadline_us: Option<u64>) {
    let m = &mut report.metrics;
    let count = |o: Outcome| ev.history.iter().filter(|op| op.outcome == o).count() as f64;
    m.insert("ops_ok".into(), count(Outcome::Ok));
    m.insert("ops_fail".into(), count(Outcome::Fail));
    m.insert("ops_info".into(), count(Outcome::Info));
    let mut lat: Vec<u64> = ev
        .history
        .iter()
        .filter(|o| o.outcome == Outcome::Ok && o.client != 0)
        .filter_map(|o| o.complete_us.map(|c| c - o.invoke_us))
        .collect();
    lat.sort_unstable();
    if !lat.is_empty() {
        let pct = |p: f64| lat[((lat.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0;
        m.insert("latency_p50_ms".into(), pct(0.5));
        m.insert("latency_p99_ms".into(), pct(0.99));
        let secs = m.get("workload_s").copied().unwrap_or(0.0);
        if secs > 0.0 {
            m.insert(
                "throughput_ok_per_s".into(),
                (lat.len() as f64 / secs * 10.0).round() / 10.0,
            );
        }
    }
    let mut n = 0;
    let mut fault_us = Vec::new();
    for f in &report.faults {
        if !f.action.is_disruptive() {
            continue;
        }
        fault_us.push(f.t_us);
        n += 1;
        if let Some(ms) = first_commit_after_ms(&ev.history, f.t_us) {
            m.insert(format!("first_commit_after_fault_ms.{n}"), ms as f64);
        }
    }
    m.extend(crate::workload::inflight::metrics(
        &ev.history,
        &fault_us,
        deadline_us,
    ));
    // Terms with a current leader (a majority followed it), as the waits judge.
    let terms = crate::observe::view::leader_terms(&ev.statuses, ev.nodes.len(), 1_000_000);
    m.insert("leader_terms_seen".into(), terms.len() as f64);
}

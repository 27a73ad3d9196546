//! Requests in flight at each fault (issue 13 §1, "a workload that keeps the pressure on"): a
//! fault that never catches a request between its invocation and its answer cannot test "the
//! leader dies after appending, before answering". Counted from the history afterwards.

use crate::history::Op;

/// Client requests in flight at `t_us` (µs on the run clock): invoked at or before it and not
/// answered before it. An `info` op has no answer time (it may take effect at any time), so it
/// counts until its invocation + `info_window_us` (see [`info_window_us`]).
pub fn in_flight_at(history: &[Op], t_us: u64, info_window_us: u64) -> usize {
    history
        .iter()
        .filter(|op| {
            let end = op.complete_us.unwrap_or(op.invoke_us + info_window_us);
            op.invoke_us <= t_us && end > t_us
        })
        .count()
}

/// How long an unanswered (`info`) request is counted in flight when the client's deadline is
/// not known: the longest latency of an answered one in the run (0 when none was answered).
pub fn info_window_us(history: &[Op]) -> u64 {
    history
        .iter()
        .filter_map(|op| op.complete_us.map(|c| c.saturating_sub(op.invoke_us)))
        .max()
        .unwrap_or(0)
}

/// Metrics for the faults at `fault_us` (numbered 1.. in order, like
/// `first_commit_after_fault_ms.N`): `in_flight_at_fault.N` each, and
/// `faults_with_requests_in_flight` (0 says this run's faults never caught a request). An
/// unanswered (`info`) request counts until its client's deadline `deadline_us` (the history
/// records no end for it; its client waited at most that long), or, without one, for
/// [`info_window_us`]. Empty without a history.
pub fn metrics(history: &[Op], fault_us: &[u64], deadline_us: Option<u64>) -> Vec<(String, f64)> {
    if history.is_empty() || fault_us.is_empty() {
        return Vec::new();
    }
    let w = deadline_us.unwrap_or_else(|| info_window_us(history));
    let counts: Vec<usize> = fault_us
        .iter()
        .map(|&t| in_flight_at(history, t, w))
        .collect();
    let mut m: Vec<(String, f64)> = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| (format!("in_flight_at_fault.{}", i + 1), c as f64))
        .collect();
    let caught = counts.iter().filter(|&&c| c > 0).count();
    m.push(("faults_with_requests_in_flight".into(), caught as f64));
    for (i, &t) in fault_us.iter().enumerate() {
        let rate = ok_per_s_after(history, t, AFTER_FAULT_US);
        m.push((format!("ok_per_s_after_fault.{}", i + 1), rate));
    }
    m
}

/// The window after a fault in which `ok_per_s_after_fault.N` counts acknowledgements: 2 s.
pub const AFTER_FAULT_US: u64 = 2_000_000;

/// Acknowledged client operations per second in `[t_us, t_us + window_us)`: `ok` ops of the
/// workload's clients (not the harness's probes, client 0) answered in the window, whenever
/// invoked. What the workload kept committing while the fault was fresh.
pub fn ok_per_s_after(history: &[Op], t_us: u64, window_us: u64) -> f64 {
    let n = history
        .iter()
        .filter(|op| op.client != 0 && op.outcome == crate::history::Outcome::Ok)
        .filter(|op| {
            op.complete_us
                .is_some_and(|c| c >= t_us && c < t_us + window_us)
        })
        .count();
    n as f64 / (window_us as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Outcome;

    fn op(id: u64, invoke_us: u64, complete_us: Option<u64>) -> Op {
        Op {
            id,
            client: id as u32,
            node: 1,
            command: "SET k 1".into(),
            invoke_us,
            complete_us,
            outcome: if complete_us.is_some() {
                Outcome::Ok
            } else {
                Outcome::Info
            },
            result: None,
            message: String::new(),
        }
    }

    #[test]
    fn counts_requests_open_at_the_instant_and_says_when_none_were() {
        let h = vec![
            op(1, 100, Some(200)),
            op(2, 150, None),
            op(3, 300, Some(400)),
        ];
        assert_eq!(info_window_us(&h), 100);
        assert_eq!(in_flight_at(&h, 50, 100), 0);
        assert_eq!(in_flight_at(&h, 160, 100), 2);
        let at_200 = in_flight_at(&h, 200, 100);
        assert_eq!(at_200, 1, "answered at the instant: not in flight");
        assert_eq!(
            in_flight_at(&h, 240, 100),
            1,
            "the info op, until 150 + 100"
        );
        assert_eq!(in_flight_at(&h, 260, 100), 0, "its window ended at 250");
        assert_eq!(in_flight_at(&h, 350, 100), 1);
        let m = metrics(&h, &[50, 160], None);
        assert_eq!(m[0], ("in_flight_at_fault.1".to_string(), 0.0));
        assert_eq!(m[1], ("in_flight_at_fault.2".to_string(), 2.0));
        assert_eq!(m[2], ("faults_with_requests_in_flight".to_string(), 1.0));
        let none = metrics(&h, &[50], None);
        assert_eq!(none[1], ("faults_with_requests_in_flight".to_string(), 0.0));
        assert!(metrics(&[], &[50], None).is_empty());
    }

    #[test]
    fn unanswered_requests_count_until_the_clients_deadline_even_when_none_was_answered() {
        // msg-figure8-exact: every request ended `info`; none answered gives no window.
        let h = vec![op(1, 100, None), op(2, 150, None)];
        let without = metrics(&h, &[200], None);
        assert_eq!(without[0], ("in_flight_at_fault.1".to_string(), 0.0));
        let with = metrics(&h, &[200], Some(1000));
        assert_eq!(with[0], ("in_flight_at_fault.1".to_string(), 2.0));
        let after = metrics(&h, &[1200], Some(1000));
        assert_eq!(
            after[0],
            ("in_flight_at_fault.1".to_string(), 0.0),
            "both gave up by 1150"
        );
    }

    #[test]
    fn acknowledgements_after_a_fault_count_ok_answers_of_clients_in_the_window() {
        let mut probe = op(9, 100, Some(150));
        probe.client = 0;
        let mut failed = op(10, 100, Some(160));
        failed.outcome = Outcome::Fail;
        let h = vec![
            op(1, 50, Some(90)),    // answered before the fault
            op(2, 80, Some(120)),   // invoked before, answered in the window: counts
            op(3, 200, Some(1099)), // last µs of the window: counts
            op(4, 300, Some(1100)), // answered at the window's end: not counted
            op(5, 300, None),       // info: never acknowledged
            probe,
            failed,
        ];
        // Window [100, 1100) of 1000 µs = 1 ms: 2 ops → 2000 per second.
        assert_eq!(ok_per_s_after(&h, 100, 1000), 2000.0);
        assert_eq!(ok_per_s_after(&h, 2000, 1000), 0.0);
        let m = metrics(&h, &[100], None);
        assert_eq!(m.last().unwrap().0, "ok_per_s_after_fault.1");
    }
}

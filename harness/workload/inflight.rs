//! Requests in flight at each fault (issue 13 §1, "a workload that keeps the pressure on"): a
//! fault that never catches a request between its invocation and its answer cannot test "the
//! leader dies after appending, before answering". Counted from the history afterwards.

use crate::history::Op;

/// Client requests in flight at `t_us` (µs on the run clock): invoked at or before it and not
/// answered before it (a request never answered counts until the end of the run).
pub fn in_flight_at(history: &[Op], t_us: u64) -> usize {
    history
        .iter()
        .filter(|op| op.invoke_us <= t_us && op.complete_us.is_none_or(|c| c > t_us))
        .count()
}

/// Metrics for the faults at `fault_us` (numbered 1.. in order, like
/// `first_commit_after_fault_ms.N`): `in_flight_at_fault.N` each, and
/// `faults_with_requests_in_flight` (0 says this run's faults never caught a request). Empty
/// without a history.
pub fn metrics(history: &[Op], fault_us: &[u64]) -> Vec<(String, f64)> {
    if history.is_empty() || fault_us.is_empty() {
        return Vec::new();
    }
    let counts: Vec<usize> = fault_us.iter().map(|&t| in_flight_at(history, t)).collect();
    let mut m: Vec<(String, f64)> = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| (format!("in_flight_at_fault.{}", i + 1), c as f64))
        .collect();
    let caught = counts.iter().filter(|&&c| c > 0).count();
    m.push(("faults_with_requests_in_flight".into(), caught as f64));
    m
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
        assert_eq!(in_flight_at(&h, 50), 0);
        assert_eq!(in_flight_at(&h, 160), 2);
        assert_eq!(
            in_flight_at(&h, 200),
            1,
            "answered at the instant: not in flight"
        );
        assert_eq!(
            in_flight_at(&h, 350),
            2,
            "the unanswered one stays in flight"
        );
        let m = metrics(&h, &[50, 160]);
        assert_eq!(m[0], ("in_flight_at_fault.1".to_string(), 0.0));
        assert_eq!(m[1], ("in_flight_at_fault.2".to_string(), 2.0));
        assert_eq!(m[2], ("faults_with_requests_in_flight".to_string(), 1.0));
        let none = metrics(&h, &[50]);
        assert_eq!(none.last().unwrap().1, 0.0);
        assert!(metrics(&[], &[50]).is_empty());
    }
}

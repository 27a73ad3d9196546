//! Read validity of the register workload: every GET that completed returns
//! "missing" or a value some SET/CAS wrote to that key — a write that did not
//! certainly fail, and that was invoked before the GET completed. Values are
//! unique per write, so a value names its writer. A cheap, always-decisive
//! complement of the linearizability check, with evidence a person can read.
use super::{secs, CheckResult, Evidence};
use crate::history::{Op, Outcome};
use std::collections::HashMap;

pub const NAME: &str = "read_validity";

pub fn check(ev: &Evidence) -> CheckResult {
    let words = |o: &Op| o.command.split(' ').map(str::to_string).collect::<Vec<_>>();
    // (key, value) -> writer
    let mut writers: HashMap<(String, String), &Op> = HashMap::new();
    for o in &ev.history {
        let w = words(o);
        match w.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["SET", k, v] | ["CAS", k, _, v] => {
                writers.insert((k.to_string(), v.to_string()), o);
            }
            _ => {}
        }
    }
    let reads: Vec<&Op> = ev
        .history
        .iter()
        .filter(|o| o.outcome == Outcome::Ok && o.command.starts_with("GET "))
        .collect();
    if reads.is_empty() {
        return CheckResult::not_checked(NAME, "the history has no completed GET");
    }
    let mut violations = Vec::new();
    for r in &reads {
        let key = r.command[4..].to_string();
        let Some(v) = &r.result else { continue }; // missing key: always possible before a write
        let done = r.complete_us.unwrap_or(u64::MAX);
        let read = format!(
            "GET {key} by client {} via node {} [{} – {}] returned {v:?}",
            r.client,
            r.node,
            secs(r.invoke_us),
            secs(done)
        );
        match writers.get(&(key.clone(), v.clone())) {
            None => violations.push(format!("{read}, a value never written to {key}")),
            Some(w) if w.outcome == Outcome::Fail => violations.push(format!(
                "{read}, written only by {:?} (client {}), which failed for certain: {}",
                w.command, w.client, w.message
            )),
            Some(w) if w.invoke_us > done => violations.push(format!(
                "{read}, written by {:?} invoked later, at {}",
                w.command,
                secs(w.invoke_us)
            )),
            Some(_) => {}
        }
    }
    CheckResult::new(
        NAME,
        format!("{} completed GETs, {} writes", reads.len(), writers.len()),
    )
    .with_violations(
        violations,
        format!("all {} reads returned a written value", reads.len()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixtures::*;
    use crate::check::Status;

    #[test]
    fn reads_of_written_or_missing_values_pass() {
        let ev = Evidence {
            history: vec![
                op(0, 1, "GET k", 0, Some(5), Outcome::Ok, None),
                op(1, 1, "SET k 7", 10, Some(20), Outcome::Ok, Some("OK")),
                op(2, 2, "GET k", 15, Some(30), Outcome::Ok, Some("7")),
                op(3, 2, "CAS k 7 8", 31, None, Outcome::Info, None),
                op(4, 3, "GET k", 40, Some(50), Outcome::Ok, Some("8")),
            ],
            ..Default::default()
        };
        assert_eq!(check(&ev).status, Status::Pass, "{:?}", check(&ev));
    }

    #[test]
    fn value_of_a_failed_write_fails() {
        let ev = Evidence {
            history: vec![
                op(0, 1, "SET k 7", 0, Some(5), Outcome::Fail, None),
                op(1, 2, "GET k", 6, Some(9), Outcome::Ok, Some("7")),
            ],
            ..Default::default()
        };
        let r = check(&ev);
        assert_eq!(r.status, Status::Fail);
        assert!(r.summary.contains("failed for certain"), "{}", r.summary);
    }

    #[test]
    fn never_written_and_future_values_fail() {
        let ev = Evidence {
            history: vec![
                op(0, 2, "GET k", 0, Some(3), Outcome::Ok, Some("9")),
                op(1, 1, "SET k 7", 10, Some(15), Outcome::Ok, None),
                op(2, 2, "GET k", 1, Some(4), Outcome::Ok, Some("7")),
            ],
            ..Default::default()
        };
        let r = check(&ev);
        assert_eq!(r.status, Status::Fail);
        assert_eq!(r.evidence.len(), 2, "{r:?}");
    }

    #[test]
    fn no_reads_is_not_a_pass() {
        assert_eq!(check(&Evidence::default()).status, Status::NotChecked);
    }
}

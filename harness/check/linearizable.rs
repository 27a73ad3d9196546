//! Linearizability of the register workload (Herlihy & Wing): the client
//! history, split by key, must have a sequential order consistent with real
//! time and with a key-value register. Search: `crate::lin` (Wing–Gong with
//! Lowe's memoisation). A search that hits its bound is `Unknown`, never a pass.
use super::{CheckResult, Evidence, Status};
use crate::history::{Command, Op, Outcome};
use crate::lin::{check_kv_history, Cancel, Limits, Verdict, VerdictKind};
use std::time::Duration;

pub const NAME: &str = "linearizable";

/// Operations that observed the register's state: a GET or a CAS that completed
/// `ok` (its answer, true or false, depends on the value it read). Issue 11 §5:
/// a history with none of them has not tested linearizability.
pub fn completed_reads(history: &[Op]) -> usize {
    history
        .iter()
        .filter(|o| {
            o.outcome == Outcome::Ok
                && matches!(o.kv(), Some(Command::Get { .. } | Command::Cas { .. }))
        })
        .count()
}

pub fn check(ev: &Evidence, time_limit: Duration) -> CheckResult {
    check_until(ev, time_limit, None)
}

/// [`check`] that also ends (as `unknown`, bound `interrupted`) once `cancel` is set.
pub fn check_until(ev: &Evidence, time_limit: Duration, cancel: Option<Cancel>) -> CheckResult {
    let kv_ops = ev.history.iter().filter(|o| o.kv().is_some()).count();
    if kv_ops == 0 {
        return CheckResult::not_checked(NAME, "the history has no SET/GET/CAS/DEL operation");
    }
    let reads = completed_reads(&ev.history);
    if reads == 0 {
        return CheckResult::not_checked(
            NAME,
            format!(
                "no read completed ({kv_ops} key-value operations, none a GET or CAS that answered): \
                 blind writes alone do not test linearizability"
            ),
        );
    }
    let limits = Limits {
        time: Some(time_limit),
        cancel,
        ..Limits::default()
    };
    let r = check_kv_history(&ev.history, limits);
    let based_on = format!(
        "{} key-value operations over {} keys; {} states explored in {:.1} ms",
        r.stats.ops,
        r.keys.len(),
        r.stats.states_explored,
        r.stats.elapsed_us as f64 / 1000.0
    );
    let mut res = CheckResult::new(NAME, based_on);
    res.detail = serde_json::to_value(&r).ok();
    match r.verdict {
        VerdictKind::Ok => {
            res.summary = format!("{} keys linearizable", r.keys.len());
        }
        VerdictKind::Illegal => {
            res.status = Status::Fail;
            for p in &r.keys {
                if let Verdict::Illegal(e) = &p.verdict {
                    let text = e.to_string();
                    if res.summary.is_empty() {
                        res.summary = format!(
                            "key {}: {} cannot be placed after a linearizable prefix of {} ops",
                            p.key, e.stuck, e.prefix_len
                        );
                    }
                    res.evidence.extend(text.lines().map(str::to_string));
                }
            }
        }
        VerdictKind::Unknown => {
            res.status = Status::Unknown;
            let why: Vec<String> = r
                .keys
                .iter()
                .filter_map(|p| match &p.verdict {
                    Verdict::Unknown { bound } => Some(format!("key {}: {bound}", p.key)),
                    _ => None,
                })
                .collect();
            res.summary = format!("search bound hit — {}", why.join("; "));
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixtures::op;

    #[test]
    fn sequential_register_history_is_linearizable() {
        let ev = Evidence {
            history: vec![
                op(0, 1, "SET k 1", 0, Some(10), Outcome::Ok, Some("OK")),
                op(1, 2, "GET k", 20, Some(30), Outcome::Ok, Some("1")),
                op(2, 1, "CAS k 1 2", 40, Some(50), Outcome::Ok, Some("true")),
                op(3, 2, "GET k", 60, Some(70), Outcome::Ok, Some("2")),
            ],
            ..Default::default()
        };
        let r = check(&ev, Duration::from_secs(5));
        assert_eq!(r.status, Status::Pass, "{r:?}");
    }

    #[test]
    fn stale_read_after_a_completed_write_is_illegal() {
        let ev = Evidence {
            history: vec![
                op(0, 1, "SET k 1", 0, Some(10), Outcome::Ok, Some("OK")),
                op(1, 1, "SET k 2", 20, Some(30), Outcome::Ok, Some("OK")),
                op(2, 2, "GET k", 40, Some(50), Outcome::Ok, Some("1")),
            ],
            ..Default::default()
        };
        let r = check(&ev, Duration::from_secs(5));
        assert_eq!(r.status, Status::Fail, "{r:?}");
        assert!(r.summary.starts_with("key k:"), "{}", r.summary);
        assert!(!r.evidence.is_empty());
    }

    #[test]
    fn a_search_cut_short_is_unknown_never_pass() {
        // 16 concurrent writes, then a read of a value none of them wrote: deciding
        // it means trying every subset of the writes, far more than a 1 ns budget.
        let mut h: Vec<_> = (0..16u64)
            .map(|i| {
                op(
                    i,
                    i as u32,
                    &format!("SET k {i}"),
                    i,
                    Some(1000 + i),
                    Outcome::Ok,
                    Some("OK"),
                )
            })
            .collect();
        h.push(op(
            99,
            30,
            "GET k",
            2000,
            Some(2100),
            Outcome::Ok,
            Some("999"),
        ));
        let ev = Evidence {
            history: h.clone(),
            ..Default::default()
        };
        let r = check(&ev, Duration::from_nanos(1));
        assert_eq!(r.status, Status::Unknown, "{r:?}");
        assert!(r.summary.contains("time limit"), "{}", r.summary);
        // With time enough, the same history is decided: illegal.
        let ev = Evidence {
            history: h,
            ..Default::default()
        };
        assert_eq!(check(&ev, Duration::from_secs(30)).status, Status::Fail);
    }

    #[test]
    fn blind_writes_without_a_completed_read_are_not_checked() {
        // Writes acknowledged, the only GET timed out: nothing was read back.
        let ev = Evidence {
            history: vec![
                op(0, 1, "SET k 1", 0, Some(10), Outcome::Ok, Some("OK")),
                op(1, 2, "SET k 2", 5, None, Outcome::Info, None),
                op(2, 3, "GET k", 20, None, Outcome::Info, None),
                op(3, 3, "CAS k 1 3", 30, Some(40), Outcome::Fail, None),
            ],
            ..Default::default()
        };
        let r = check(&ev, Duration::from_secs(5));
        assert_eq!(r.status, Status::NotChecked, "{r:?}");
        assert!(r.summary.contains("no read completed"), "{}", r.summary);
        // One answered CAS is a read: the history is then judged.
        let mut ev = ev;
        ev.history.push(op(
            4,
            3,
            "CAS k 2 5",
            50,
            Some(60),
            Outcome::Ok,
            Some("false"),
        ));
        assert_eq!(check(&ev, Duration::from_secs(5)).status, Status::Pass);
    }

    #[test]
    fn no_kv_ops_is_not_checked() {
        let ev = Evidence {
            history: vec![op(0, 1, "op-c1-0", 0, Some(1), Outcome::Ok, None)],
            ..Default::default()
        };
        assert_eq!(
            check(&ev, Duration::from_secs(1)).status,
            Status::NotChecked
        );
    }
}

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
    use crate::check::fixtures::*;

    fn judge(ops: impl IntoIterator<Item = Op>, limit: Duration) -> CheckResult {
        check(&Evidence::default().with_history(history(ops)), limit)
    }

    const LONG: Duration = Duration::from_secs(5);

    #[test]
    fn sequential_register_history_is_linearizable() {
        let r = judge(
            [
                ok(1, "SET k 1", (0, 10), Some("OK")),
                ok(2, "GET k", (20, 30), Some("1")),
                ok(1, "CAS k 1 2", (40, 50), Some("true")),
                ok(2, "GET k", (60, 70), Some("2")),
            ],
            LONG,
        );
        assert_verdict(&r, Status::Pass, &[]);
    }

    #[test]
    fn stale_read_after_a_completed_write_is_illegal() {
        let r = judge(stale_read(), LONG);
        assert_summary_starts(&r, Status::Fail, "key k:");
        assert!(!r.evidence.is_empty());
    }

    #[test]
    fn a_search_cut_short_is_unknown_never_pass() {
        // 16 concurrent writes, then a read of a value none of them wrote: deciding it
        // means trying every subset of the writes, far more than a 1 ns budget.
        let r = judge(hard_history(16), Duration::from_nanos(1));
        assert_verdict(&r, Status::Unknown, &["time limit"]);
        // With time enough, the same history is decided: illegal.
        let r = judge(hard_history(16), Duration::from_secs(30));
        assert_verdict(&r, Status::Fail, &[]);
    }

    #[test]
    fn blind_writes_without_a_completed_read_are_not_checked() {
        // Writes acknowledged, the only GET timed out: nothing was read back.
        let mut h = vec![
            ok(1, "SET k 1", (0, 10), Some("OK")),
            info(2, "SET k 2", 5),
            info(3, "GET k", 20),
            fail(3, "CAS k 1 3", (30, 40)),
        ];
        let r = judge(h.clone(), LONG);
        assert_verdict(&r, Status::NotChecked, &["no read completed"]);
        // One answered CAS is a read: the history is then judged.
        h.push(ok(3, "CAS k 2 5", (50, 60), Some("false")));
        assert_verdict(&judge(h, LONG), Status::Pass, &[]);
    }

    #[test]
    fn no_kv_ops_is_not_checked() {
        let r = judge([ok(1, "op-c1-0", (0, 1), None)], Duration::from_secs(1));
        assert_verdict(&r, Status::NotChecked, &[]);
    }
}

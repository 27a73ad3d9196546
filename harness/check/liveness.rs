//! Liveness as the suite asked for it: every `wait` step met its condition in
//! time (or, with `expect = "timeout"`, did not), and no node exited on its own.
//!
//! A schedule cut short (Ctrl+C, a step that could not run) never ran its later
//! waits: a wait that failed before the cut still fails, but otherwise the
//! verdict is `not checked`, never `pass`.
use super::{CheckResult, Evidence};

pub const NAME: &str = "liveness";

pub fn check(ev: &Evidence) -> CheckResult {
    let completed = ev.schedule == super::ScheduleEnd::Completed;
    if completed && ev.waits.is_empty() && ev.unexpected_exits.is_empty() {
        return CheckResult::not_checked(NAME, "the schedule has no wait step");
    }
    let mut violations = Vec::new();
    for w in &ev.waits {
        match (w.met_after_ms, w.expect_timeout) {
            (None, false) => violations.push(format!(
                "{}: `{}` not met within {} ms{}",
                w.at,
                w.condition,
                w.timeout_ms,
                if w.detail.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", w.detail)
                }
            )),
            (Some(ms), true) => violations.push(format!(
                "{}: `{}` was met after {ms} ms but must not be within {} ms ({})",
                w.at, w.condition, w.timeout_ms, w.detail
            )),
            _ => {}
        }
    }
    for (node, how, t) in &ev.unexpected_exits {
        violations.push(format!(
            "node {node} {how} at {} without a fault asking for it",
            super::secs(*t)
        ));
    }
    if let (true, Some(cut)) = (violations.is_empty(), ev.schedule.cut()) {
        return CheckResult::not_checked(
            NAME,
            format!(
                "{cut}; {} wait steps ran and passed, the later ones never ran",
                ev.waits.len()
            ),
        );
    }
    let met: Vec<String> = ev
        .waits
        .iter()
        .filter_map(|w| w.met_after_ms.map(|ms| format!("{} {ms} ms", w.condition)))
        .collect();
    CheckResult::new(
        NAME,
        format!("{} wait steps; process exits", ev.waits.len()),
    )
    .with_violations(
        violations,
        format!("all waits as expected ({})", met.join(", ")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixtures::assert_verdict;
    use crate::check::{ScheduleEnd, Status, WaitRecord};

    fn w(met: Option<u64>, expect_timeout: bool) -> WaitRecord {
        WaitRecord {
            at: "x.toml:3".into(),
            condition: crate::trace::WaitCondition::Leader,
            timeout_ms: 1000,
            expect_timeout,
            met_after_ms: met,
            detail: String::new(),
        }
    }

    fn ev(waits: Vec<WaitRecord>, schedule: ScheduleEnd) -> Evidence {
        Evidence {
            waits,
            schedule,
            ..Default::default()
        }
    }

    #[test]
    fn met_waits_pass() {
        let ev = ev(
            vec![w(Some(300), false), w(None, true)],
            ScheduleEnd::Completed,
        );
        assert_verdict(&check(&ev), Status::Pass, &[]);
    }

    #[test]
    fn unmet_wait_and_unexpected_commit_fail() {
        let r = check(&ev(
            vec![w(None, false), w(Some(5), true)],
            ScheduleEnd::Completed,
        ));
        assert_verdict(&r, Status::Fail, &[]);
        assert_eq!(r.evidence.len(), 2);
    }

    #[test]
    fn a_cut_schedule_is_not_checked_unless_a_wait_already_failed() {
        let cut = ScheduleEnd::Interrupted { at_us: 1_500_000 };
        let r = check(&ev(vec![w(Some(300), false)], cut.clone()));
        assert_verdict(&r, Status::NotChecked, &["interrupted at 1.500 s"]);
        // Nothing ran before the cut: still not a pass.
        let stopped = ScheduleEnd::Stopped {
            at_us: 1,
            why: "node 2 could not be restarted".into(),
        };
        assert_verdict(&check(&ev(vec![], stopped)), Status::NotChecked, &[]);
        // A wait that failed before the cut is a real failure.
        assert_verdict(&check(&ev(vec![w(None, false)], cut)), Status::Fail, &[]);
    }

    #[test]
    fn crashed_node_fails() {
        let mut ev = ev(vec![w(Some(1), false)], ScheduleEnd::Completed);
        ev.unexpected_exits = vec![(3, "exited with code 1".into(), 2_000_000)];
        assert!(check(&ev)
            .summary
            .contains("node 3 exited with code 1 at 2.000 s"));
    }
}

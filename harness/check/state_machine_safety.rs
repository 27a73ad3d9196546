//! State Machine Safety (Raft §5.4.3, Figure 3): if a server has applied a log
//! entry at a given index, no other server ever applies a different entry for
//! that index. Evidence: journal `apply` events, and the committed prefixes of
//! GetLog snapshots of nodes that report their commit index.
use super::{secs, CheckResult, Evidence};
use crate::observe::journal::Kind;
use std::collections::BTreeMap;

pub const NAME: &str = "state_machine_safety";

pub fn check(ev: &Evidence) -> CheckResult {
    // index -> (term, command, who, when)
    let mut at: BTreeMap<i64, (i64, String, String, u64)> = BTreeMap::new();
    let mut violations = Vec::new();
    let mut facts = 0usize;
    let mut record = |index: i64,
                      term: i64,
                      cmd: &str,
                      who: String,
                      t: u64,
                      violations: &mut Vec<String>| {
        facts += 1;
        match at.get(&index) {
            None => {
                at.insert(index, (term, cmd.to_string(), who, t));
            }
            Some((t0, c0, w0, when0)) if *t0 != term || c0 != cmd => violations.push(format!(
                "index {index}: {w0} applied (term {t0}, {c0:?}) at {}, {who} applied (term {term}, {cmd:?}) at {}",
                secs(*when0),
                secs(t)
            )),
            Some(_) => {}
        }
    };
    let mut journaled = Vec::new();
    for (node, events) in &ev.journals {
        let mut any = false;
        for e in events.iter().filter(|e| e.event == Kind::Apply) {
            if let (Some(i), Some(t)) = (e.index, e.term) {
                any = true;
                record(
                    i,
                    t,
                    e.command.as_deref().unwrap_or(""),
                    format!("node {node} (journal)"),
                    e.t_us,
                    &mut violations,
                );
            }
        }
        if any {
            journaled.push(*node);
        }
    }
    let mut snaps = 0;
    for s in ev.logs.iter().chain(ev.final_logs.iter()) {
        if let Some(c) = s.committed() {
            snaps += 1;
            for e in c {
                record(
                    e.index as i64,
                    e.term as i64,
                    &e.command,
                    format!("node {} (committed log)", s.node),
                    s.t_us,
                    &mut violations,
                );
            }
        }
    }
    if facts == 0 {
        return CheckResult::not_checked(
            NAME,
            "no journal apply events and no commit index reported with a log (black-box nodes only)",
        );
    }
    let based_on = format!(
        "apply events of nodes [{}]; committed prefixes of {snaps} snapshots",
        super::list(journaled)
    );
    CheckResult::new(NAME, based_on).with_violations(
        violations,
        format!("{} applied indices agree across nodes", at.len()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixtures::*;
    use crate::check::Status;

    #[test]
    fn same_entries_applied_everywhere_pass() {
        let ev = Evidence::default()
            .with_journal(
                1,
                vec![apply(1, 1, 0, 1, "SET a 1"), apply(1, 2, 1, 1, "GET a")],
            )
            .with_journal(2, vec![apply(2, 3, 0, 1, "SET a 1")]);
        assert_verdict(&check(&ev), Status::Pass, &[]);
    }

    #[test]
    fn different_entries_at_one_index_fail() {
        let ev = Evidence::default()
            .with_journal(1, vec![apply(1, 1, 0, 1, "SET a 1")])
            .with_journal(2, vec![apply(2, 3, 0, 2, "SET a 2")]);
        assert_summary_starts(&check(&ev), Status::Fail, "index 0:");
    }

    #[test]
    fn committed_prefixes_of_snapshots_are_compared_too() {
        let ev = Evidence::default().with_logs(vec![
            snap(1, 10, "Leader", 1, Some(0), &[(1, "a")]),
            snap(2, 20, "Follower", 1, Some(0), &[(1, "b")]),
        ]);
        assert_verdict(&check(&ev), Status::Fail, &[]);
    }

    #[test]
    fn black_box_only_is_not_checked() {
        let ev = Evidence::default().with_logs(vec![snap(1, 10, "Leader", 1, None, &[(1, "a")])]);
        assert_verdict(&check(&ev), Status::NotChecked, &[]);
    }
}

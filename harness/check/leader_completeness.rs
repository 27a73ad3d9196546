//! Leader Completeness and Leader Append-Only (Raft §5.4, Figure 3).
//!
//! Completeness: an entry committed before a leader was elected is in that
//! leader's log. A committed entry is known from a node's own commit index
//! (GetStatus read just before a GetLog) or from a journal `apply`; the time it
//! was known is an upper bound on its commit time. A leader's election time is
//! bounded from below by the last moment it was seen in an older term (status
//! samples) or by its journal `term` event. Only pairs where the order is
//! certain are judged, so a pass never rests on a guess.
//!
//! Append-only: a leader never overwrites or deletes entries of its log — no
//! journal `truncate` while Leader, and successive snapshots of one leader term
//! extend each other.
use super::{secs, CheckResult, Evidence};
use crate::observe::journal::Kind;
use crate::observe::view::Role;
use crate::observe::LogSnapshot;
use std::collections::BTreeMap;

pub const NAME: &str = "leader_completeness";

struct Fact {
    index: i32,
    term: i32,
    command: String,
    known_us: u64,
    source: String,
}

fn committed_facts(ev: &Evidence) -> Vec<Fact> {
    let mut by_index: BTreeMap<i32, Fact> = BTreeMap::new();
    let mut add = |f: Fact| {
        let keep = by_index
            .get(&f.index)
            .is_none_or(|old| old.known_us > f.known_us);
        if keep {
            by_index.insert(f.index, f);
        }
    };
    for s in ev.logs.iter().chain(ev.final_logs.iter()) {
        if let Some(c) = s.committed() {
            for e in c {
                add(Fact {
                    index: e.index,
                    term: e.term,
                    command: e.command.clone(),
                    known_us: s.status.t_us,
                    source: format!("node {} commit index", s.node),
                });
            }
        }
    }
    for (node, events) in &ev.journals {
        for e in events.iter().filter(|e| e.event == Kind::Apply) {
            if let (Some(i), Some(t)) = (e.index, e.term) {
                add(Fact {
                    index: i as i32,
                    term: t as i32,
                    command: e.command.clone().unwrap_or_default(),
                    known_us: e.t_us,
                    source: format!("node {node} journal apply"),
                });
            }
        }
    }
    by_index.into_values().collect()
}

/// A lower bound of the time `s.node` was elected leader of `s.status.term`, for a
/// snapshot taken while it led that term: the last moment before the snapshot at
/// which the node was seen in an older term (status), or its journal `term` event
/// for that term. Only evidence from before the snapshot counts: a node restarted
/// without its data starts again from term 0.
fn election_lower_bound(ev: &Evidence, s: &LogSnapshot) -> Option<u64> {
    let (node, term, before) = (s.node, s.status.term, s.status.sent_us);
    let from_status = ev
        .statuses
        .iter()
        .filter(|x| x.node == node && x.term < term && x.t_us <= before)
        .map(|x| x.sent_us)
        .max();
    let from_journal = ev.journals.get(&node).and_then(|j| {
        j.iter()
            .filter(|e| e.event == Kind::Term && e.term == Some(term as i64) && e.t_us <= before)
            .map(|e| e.t_us)
            .max()
    });
    from_status.into_iter().chain(from_journal).max()
}

pub fn check(ev: &Evidence) -> CheckResult {
    let facts = committed_facts(ev);
    let leader_snaps: Vec<&LogSnapshot> = ev
        .logs
        .iter()
        .chain(ev.final_logs.iter())
        .filter(|s| s.status.is_leader())
        .collect();
    let journals = ev.journals.values().any(|j| !j.is_empty());
    if leader_snaps.is_empty() && !journals {
        return CheckResult::not_checked(NAME, "no GetLog snapshot of a leader and no journals");
    }
    let mut violations = Vec::new();
    let mut judged_pairs = 0usize;
    for s in &leader_snaps {
        let Some(lb) = election_lower_bound(ev, s) else {
            continue;
        };
        for f in facts.iter().filter(|f| f.known_us < lb) {
            judged_pairs += 1;
            let has = s.entries.get(f.index as usize);
            if has.is_none_or(|e| e.term != f.term || e.command != f.command) {
                let got = has
                    .map(|e| format!("(term {}, {:?})", e.term, e.command))
                    .unwrap_or_else(|| {
                        format!("nothing (its log ends at {})", s.entries.len() as i64 - 1)
                    });
                violations.push(format!(
                    "node {}, leader of term {} (elected after {}), lacks committed entry {} (term {}, {:?}) known committed at {} ({}); it has {got}",
                    s.node,
                    s.status.term,
                    secs(lb),
                    f.index,
                    f.term,
                    f.command,
                    secs(f.known_us),
                    f.source
                ));
            }
        }
    }
    violations.extend(append_only(ev, &leader_snaps));
    let based_on = format!(
        "{} committed entries known, {} leader log snapshots, {} (entry, leader) pairs ordered in time{}",
        facts.len(),
        leader_snaps.len(),
        judged_pairs,
        if journals { "; journal truncations" } else { "" }
    );
    // Issue 11 §5: with no (entry, leader) pair judged, completeness was not
    // tested (e.g. "0 committed entries known" against original-protocol
    // servers); only an append-only violation can still decide the check.
    if judged_pairs == 0 && violations.is_empty() {
        return CheckResult::not_checked(
            NAME,
            format!("no committed entry could be placed before a leader's election ({based_on})"),
        );
    }
    CheckResult::new(NAME, based_on).with_violations(
        violations,
        "every leader held every entry committed before its election",
    )
}

fn append_only(ev: &Evidence, leader_snaps: &[&LogSnapshot]) -> Vec<String> {
    let mut out = Vec::new();
    for (node, events) in &ev.journals {
        let mut leader = false;
        for e in events {
            match e.event {
                Kind::Start => leader = false,
                Kind::Role => leader = e.role == Some(Role::Leader),
                Kind::Truncate if leader => out.push(format!(
                    "node {node} truncated its log from index {} at {} while Leader",
                    e.from_index.unwrap_or(-1),
                    secs(e.t_us)
                )),
                _ => {}
            }
        }
    }
    let mut by_term: BTreeMap<(u32, i32), Vec<&LogSnapshot>> = BTreeMap::new();
    for s in leader_snaps {
        by_term.entry((s.node, s.status.term)).or_default().push(s);
    }
    for ((node, term), mut snaps) in by_term {
        snaps.sort_by_key(|s| s.t_us);
        for w in snaps.windows(2) {
            let (a, b) = (w[0], w[1]);
            let lost = a
                .entries
                .iter()
                .enumerate()
                .find(|(i, e)| b.entries.get(*i) != Some(*e));
            if let Some((i, e)) = lost {
                out.push(format!(
                    "node {node}, leader of term {term}, had entry {i} (term {}, {:?}) at {} but not at {}",
                    e.term,
                    e.command,
                    secs(a.t_us),
                    secs(b.t_us)
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixtures::*;
    use crate::check::Status;
    use crate::observe::journal::Event;

    const AB: [(i32, &str); 2] = [(1, "SET a 1"), (1, "SET b 2")];

    fn base() -> Evidence {
        Evidence::default()
            // Node 2 was still in term 1 at 2.0 s, so its term-2 election came later.
            .with_statuses(vec![status(2, 2_000_000, "Follower", 1, Some(0))])
            // At 1.0 s node 1 (leader of term 1) had committed index 0 and 1.
            .with_logs(vec![snap(1, 1_000_000, "Leader", 1, Some(1), &AB)])
    }

    /// `base()` plus snapshots of node 2 leading term 2: (µs, log).
    fn led_by_2(snaps: &[(u64, &[(i32, &str)])]) -> Evidence {
        let mut ev = base();
        for (t, log) in snaps {
            ev.logs.push(snap(2, *t, "Leader", 2, Some(0), log));
        }
        ev
    }

    #[test]
    fn leader_with_all_committed_entries_passes() {
        let log = [AB[0], AB[1], (2, "")];
        assert_verdict(&check(&led_by_2(&[(3_000_000, &log)])), Status::Pass, &[]);
    }

    #[test]
    fn leader_missing_a_committed_entry_fails() {
        let log = [AB[0], (2, "")];
        let r = check(&led_by_2(&[(3_000_000, &log)]));
        assert_verdict(&r, Status::Fail, &["lacks committed entry 1"]);
    }

    #[test]
    fn samples_after_the_snapshot_do_not_move_the_election_bound() {
        // Node 2 led term 2 at 3.0 s; it was restarted without its data later and
        // reported term 0 at 9.0 s. That later sample says nothing about its election.
        let mut ev = base();
        ev.statuses.retain(|s| s.node != 2);
        ev.statuses.push(status(2, 9_000_000, "Follower", 0, None));
        ev.logs
            .push(snap(2, 3_000_000, "Leader", 2, None, &[(2, "")]));
        let r = check(&ev);
        assert_ne!(r.status, Status::Fail, "{r:?}");
    }

    #[test]
    fn leader_truncating_in_its_term_fails() {
        let (x, y) = ([AB[0], AB[1], (2, "x")], [AB[0], AB[1], (2, "y")]);
        let r = check(&led_by_2(&[(3_000_000, &x), (4_000_000, &y)]));
        assert_verdict(&r, Status::Fail, &[]);
        assert!(
            r.evidence.iter().any(|e| e.contains("had entry 2")),
            "{r:?}"
        );
    }

    #[test]
    fn journal_truncate_while_leader_fails() {
        let tr = Event {
            from_index: Some(5),
            ..jev(3, 20, "truncate")
        };
        let ev = base().with_journal(3, vec![role(3, 10, Role::Leader, 4), tr]);
        let r = check(&ev);
        assert_verdict(&r, Status::Fail, &["truncated its log from index 5"]);
    }

    #[test]
    fn no_committed_entry_known_is_not_a_pass() {
        // Black-box leaders seen twice in one term, no commit index, no journal:
        // nothing committed is known, so completeness was not tested.
        let mut ev = Evidence::default().with_logs(vec![
            snap(1, 1_000_000, "Leader", 1, None, &AB[..1]),
            snap(1, 2_000_000, "Leader", 1, None, &AB),
        ]);
        let r = check(&ev);
        assert_verdict(&r, Status::NotChecked, &["0 committed entries known"]);
        // The same snapshots with an overwritten entry still fail append-only.
        ev.logs[1].entries[0].command = "SET a 9".into();
        assert_verdict(&check(&ev), Status::Fail, &[]);
    }

    #[test]
    fn journals_without_a_judged_pair_are_not_a_pass() {
        let ev = Evidence::default().with_journal(3, vec![role(3, 10, Role::Leader, 1)]);
        assert_verdict(&check(&ev), Status::NotChecked, &[]);
    }

    #[test]
    fn no_leader_snapshots_is_not_a_pass() {
        let ev = Evidence::default().with_statuses(base().statuses);
        assert_verdict(&check(&ev), Status::NotChecked, &[]);
    }
}

//! Commit safety (Raft §5.4.2, Figure 8): a leader marks an entry committed only once it is
//! stored on a majority, and counts replicas only for entries of its current term; entries
//! of earlier terms are committed indirectly, by committing a later entry of its own term.
//!
//! From the wire: a leader L of term T that announced leaderCommit c must, before that
//! call, either have learned a commit index >= c (from the leaderCommit of calls delivered
//! to it, or announced by it before), or have had success replies in T from a majority
//! (itself included) matching through some index N >= c whose entry has term T.
//!
//! From journals (§5.4: a committed entry is never removed from a log): a node never
//! truncates its log at or below an index it had committed (`truncate.from_index` > the
//! highest `commit` index it journaled before), and a restarted node that keeps its data dir
//! must still hold every entry it had committed (`start.log_len` > that index).
use super::{secs, wire, CheckResult, Evidence};
use crate::net::trace::{Message, Request};
use crate::observe::journal::Kind;
use std::collections::BTreeMap;

pub const NAME: &str = "commit_safety";

pub fn check(ev: &Evidence) -> CheckResult {
    let journaled: Vec<u32> = ev
        .journals
        .iter()
        .filter(|(n, j)| !j.is_empty() && wire::keeps_data(ev, **n))
        .map(|(n, _)| *n)
        .collect();
    let trace = wire::messages(ev);
    if trace.is_none() && journaled.is_empty() {
        return CheckResult::not_checked(NAME, "no RPC-aware links and no journals");
    }
    let mut violations = Vec::new();
    let judged = trace.map_or(0, |t| from_trace(ev, t, &mut violations));
    let kept = from_journals(ev, &journaled, &mut violations);
    if judged == 0 && kept.restarts == 0 && kept.truncations == 0 {
        return CheckResult::not_checked(
            NAME,
            "no leaderCommit was announced and no journaled node was restarted or truncated its log",
        );
    }
    let based_on = format!(
        "{}; journals of nodes [{}]",
        trace.map_or("no RPC-aware links".into(), |t| format!(
            "{} calls",
            t.len()
        )),
        super::list(journaled)
    );
    let summary = pass_summary(trace.is_some(), judged, &kept);
    CheckResult::new(NAME, based_on).with_violations(violations, summary)
}

/// The pass line, naming what it was judged from: the trace (leaderCommit), the journals
/// (restarts, truncations), or both. A source that was absent is named as not checked, so a
/// journals-only pass never reads as a judgement of the wire.
fn pass_summary(traced: bool, judged: usize, kept: &Kept) -> String {
    let journals = format!(
        "from the journals, {} restarts and {} truncations kept every committed entry",
        kept.restarts, kept.truncations
    );
    let wire = format!(
        "from the trace, {judged} leaderCommit announcements backed by a majority or learned"
    );
    match (traced, kept.restarts + kept.truncations > 0) {
        (true, true) => format!("{wire}; {journals}"),
        (true, false) => format!("{wire}; journals: no restart or truncation to judge"),
        (false, _) => format!("{journals}; leaderCommit not checked (no RPC-aware links)"),
    }
}

/// Judges every AppendEntries with leaderCommit >= 0, in one pass over the calls in time
/// order; returns how many.
fn from_trace(ev: &Evidence, trace: &[Message], violations: &mut Vec<String>) -> usize {
    let majority = wire::cluster_size(ev) / 2 + 1;
    // (time, order, call): acknowledgements (at the reply the leader got), then commit
    // indexes delivered to a node (learned), then sends judged; at equal times a send sees
    // acks (<=) but not deliveries (<), as a leader can act only on what reached it.
    let mut events: Vec<(u64, u8, &Message)> = Vec::new();
    for m in trace.iter().filter(|m| wire::append(m).is_some()) {
        if wire::append_success(m) && m.fate.answered() {
            if let Some(r) = m.replied_us {
                events.push((r, 0, m));
            }
        }
        if m.fate.delivered() {
            if let Some(d) = m.delivered_us {
                events.push((d, 2, m));
            }
        }
        events.push((m.sent_us, 1, m));
    }
    events.sort_by_key(|e| (e.0, e.1));
    let mut learned: BTreeMap<u32, i64> = BTreeMap::new();
    // (leader, term) -> follower -> highest acknowledged match index
    let mut best: BTreeMap<(u32, i64), BTreeMap<u32, i64>> = BTreeMap::new();
    // (leader, term) -> acknowledged match indexes whose entry has that term
    let mut points: BTreeMap<(u32, i64), std::collections::BTreeSet<i64>> = BTreeMap::new();
    let mut judged = 0;
    for (t, kind, m) in events {
        let Some(Request::Append {
            term,
            leader_commit: c,
            prev_log_index,
            prev_log_term,
            last,
            ..
        }) = wire::append(m)
        else {
            continue;
        };
        match kind {
            0 => {
                let (n, nt) = last.unwrap_or((*prev_log_index, *prev_log_term));
                let b = best
                    .entry((m.from, *term))
                    .or_default()
                    .entry(m.to)
                    .or_insert(n);
                *b = (*b).max(n);
                if nt == *term {
                    points.entry((m.from, *term)).or_default().insert(n);
                }
            }
            2 => {
                let l = learned.entry(m.to).or_insert(-1);
                *l = (*l).max(*c);
            }
            _ if *c < 0 => {}
            _ => {
                judged += 1;
                let l = m.from;
                let known = learned.get(&l).copied().unwrap_or(-1);
                if *c <= known || counted(&best, &points, (l, *term), *c, majority) {
                    learned.insert(l, known.max(*c));
                    continue;
                }
                violations.push(format!(
                    "node {l}, leader of term {term}, announced leaderCommit {c} at {} with no majority matching an entry of term {term} at or after index {c} (and it had learned commit index {known} only)",
                    secs(t)
                ));
            }
        }
    }
    judged
}

/// True when a majority (the leader included) acknowledged in the term matching through
/// some index N >= c whose entry has the leader's term.
fn counted(
    best: &BTreeMap<(u32, i64), BTreeMap<u32, i64>>,
    points: &BTreeMap<(u32, i64), std::collections::BTreeSet<i64>>,
    key: (u32, i64),
    c: i64,
    majority: usize,
) -> bool {
    let Some(points) = points.get(&key) else {
        return false;
    };
    let mut matched: Vec<i64> = best
        .get(&key)
        .into_iter()
        .flatten()
        .map(|(_, b)| *b)
        .collect();
    matched.sort_unstable_by(|a, b| b.cmp(a));
    // The highest index held by `majority - 1` followers besides the leader.
    let reach = match majority {
        0 | 1 => i64::MAX,
        k => match matched.get(k - 2) {
            Some(r) => *r,
            None => return false,
        },
    };
    c <= reach && points.range(c..=reach).next().is_some()
}

/// How many journal events [`from_journals`] judged.
#[derive(Default)]
struct Kept {
    restarts: usize,
    truncations: usize,
}

/// Judges each restart and each log truncation of a journaled node that keeps its data
/// against the highest index it had committed before.
fn from_journals(ev: &Evidence, nodes: &[u32], violations: &mut Vec<String>) -> Kept {
    let mut kept = Kept::default();
    for node in nodes {
        let mut committed: i64 = -1;
        let mut started = false;
        for e in &ev.journals[node] {
            match e.event {
                Kind::Commit => committed = committed.max(e.index.unwrap_or(-1)),
                Kind::Truncate => {
                    kept.truncations += 1;
                    if let Some(from) = e.from_index.filter(|&f| f <= committed) {
                        violations.push(format!(
                            "node {node} truncated its log from index {from} at {}, but it had committed index {committed}",
                            secs(e.t_us)
                        ));
                    }
                }
                Kind::Start if started => {
                    kept.restarts += 1;
                    if let Some(len) = e.log_len.filter(|&len| len <= committed) {
                        violations.push(format!(
                            "node {node} restarted at {} holding {len} entries, but it had committed index {committed} (its data dir was kept)",
                            secs(e.t_us)
                        ));
                    }
                }
                Kind::Start => started = true,
                _ => {}
            }
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixtures::*;
    use crate::check::Status;
    use crate::observe::journal::Event;

    /// §5.4.2: a leader counts replicas only for an entry of its own term. Term 2's entry on
    /// a majority of 5 (leader 1, nodes 2 and 3) then `leaderCommit 0` passes; figure 8,
    /// committing an old term's entry by counting, fails.
    #[test]
    fn commits_counted_from_replicas_pass_only_for_an_entry_of_the_leaders_term() {
        let cases = [
            (
                vec![
                    append(1, 2, 2, (-1, 0), &[(0, 2)], -1, true, 100),
                    append(1, 3, 2, (-1, 0), &[(0, 2)], -1, true, 100),
                    append(1, 2, 2, (0, 2), &[], 0, true, 300),
                ],
                Status::Pass,
                &[][..],
            ),
            // Figure 8: leader 1 of term 4 gets its term-2 entry at index 1 onto 2 and 3 (a
            // majority of 5) and announces it committed, with no entry of term 4 on a majority.
            (
                vec![
                    // A leader of term 1 committed index 0 on 3, 4, 5 and told node 1.
                    append(3, 4, 1, (-1, 0), &[(0, 1)], -1, true, 10),
                    append(3, 5, 1, (-1, 0), &[(0, 1)], -1, true, 10),
                    append(3, 1, 1, (0, 1), &[], 0, true, 50),
                    append(1, 2, 4, (0, 1), &[(1, 2)], 0, true, 100),
                    append(1, 3, 4, (0, 1), &[(1, 2)], 0, true, 100),
                    append(1, 2, 4, (1, 2), &[], 1, true, 300),
                ],
                Status::Fail,
                &["leaderCommit 1"],
            ),
        ];
        for (trace, verdict, parts) in cases {
            assert_verdict(&check(&traced_nodes(5, trace)), verdict, parts);
        }
    }

    #[test]
    fn commit_on_a_minority_fails_and_a_learned_commit_passes() {
        let minority = vec![
            append(1, 2, 2, (-1, 0), &[(0, 2)], -1, true, 100),
            append(1, 2, 2, (0, 2), &[], 0, true, 300),
        ];
        assert_verdict(
            &check(&traced_nodes(5, minority.clone())),
            Status::Fail,
            &[],
        );
        // The same announcement after a leader of term 1 told node 1 index 0 is committed.
        let mut learned = vec![
            append(4, 2, 1, (-1, 0), &[(0, 1)], -1, true, 10),
            append(4, 3, 1, (-1, 0), &[(0, 1)], -1, true, 10),
            append(4, 1, 1, (0, 1), &[], 0, true, 50),
        ];
        learned.extend(minority);
        assert_verdict(&check(&traced_nodes(5, learned)), Status::Pass, &[]);
    }

    #[test]
    fn a_restart_that_lost_committed_entries_fails_from_the_journal() {
        let start = |t, term, len| Event {
            log_len: Some(len),
            ..journal(3, t, "start", Some(term), None)
        };
        let commit = Event {
            index: Some(4),
            ..jev(3, 20, "commit")
        };
        let mut e =
            Evidence::default().with_journal(3, vec![start(10, 0, 0), commit, start(30, 2, 3)]);
        assert_verdict(&check(&e), Status::Fail, &["holding 3 entries"]);
        e.journals.get_mut(&3).unwrap()[2] = start(30, 2, 5);
        assert_verdict(&check(&e), Status::Pass, &[]);
    }

    #[test]
    fn truncating_a_committed_entry_fails_from_the_journal() {
        let truncate = |t, from| Event {
            from_index: Some(from),
            ..jev(3, t, "truncate")
        };
        let commit = Event {
            index: Some(4),
            ..jev(3, 20, "commit")
        };
        // Truncating from index 4 removes the committed entry 4 (truncate-matching, §5.3).
        let mut e =
            Evidence::default().with_journal(3, vec![truncate(10, 2), commit, truncate(30, 4)]);
        assert_verdict(
            &check(&e),
            Status::Fail,
            &["truncated its log from index 4"],
        );
        // From index 5 removes only uncommitted entries; from 2 before the commit likewise.
        e.journals.get_mut(&3).unwrap()[2] = truncate(30, 5);
        assert_verdict(&check(&e), Status::Pass, &["2 truncations"]);
    }

    /// A TCP-only run (no trace) is judged from the journals alone: the pass line names the
    /// journals and says leaderCommit was not checked; with neither source it is not checked.
    #[test]
    fn a_pass_names_what_it_was_judged_from() {
        let start = |t, len| Event {
            log_len: Some(len),
            ..journal(3, t, "start", Some(1), None)
        };
        let commit = Event {
            index: Some(1),
            ..jev(3, 20, "commit")
        };
        let journals = vec![start(10, 0), commit, start(30, 2)];
        let r = check(&Evidence::default().with_journal(3, journals.clone()));
        assert_verdict(
            &r,
            Status::Pass,
            &["from the journals, 1 restarts", "leaderCommit not checked"],
        );
        assert!(!r.summary.contains("announcements"), "{}", r.summary);
        let wire = vec![
            append(1, 2, 2, (-1, 0), &[(0, 2)], -1, true, 100),
            append(1, 3, 2, (-1, 0), &[(0, 2)], -1, true, 100),
            append(1, 2, 2, (0, 2), &[], 0, true, 300),
        ];
        let both = traced_nodes(3, wire.clone()).with_journal(3, journals);
        let parts = [
            "from the trace, 1 leaderCommit",
            "from the journals, 1 restarts",
        ];
        assert_verdict(&check(&both), Status::Pass, &parts);
        assert_verdict(
            &check(&traced_nodes(3, wire)),
            Status::Pass,
            &["from the trace, 1 leaderCommit", "no restart or truncation"],
        );
        assert_verdict(&check(&Evidence::default()), Status::NotChecked, &[]);
    }

    #[test]
    fn no_evidence_is_not_checked() {
        assert_verdict(&check(&Evidence::default()), Status::NotChecked, &[]);
        assert_verdict(&check(&traced_nodes(5, vec![])), Status::NotChecked, &[]);
    }
}

//! Append consistency (Raft §5.3, Figure 2 "AppendEntries RPC" receiver rule 2): a follower
//! answers success only if its log contains an entry at prevLogIndex whose term matches
//! prevLogTerm. From the wire: a node answered success to an AppendEntries whose
//! (prevLogIndex, prevLogTerm) it could not have held — no call delivered to it before its
//! reply carried an entry at that index with that term, and it never led that term (a
//! leader creates the entries of its own term).
//!
//! Sound for black-box nodes: what a node could hold is over-approximated (every delivered
//! entry counts, whatever the reply; nothing is ever removed), so only impossible successes
//! fail. Evidence: `messages.jsonl` only.
use super::{secs, wire, CheckResult, Evidence};
use crate::net::trace::{Message, Request};
use std::collections::BTreeMap;

pub const NAME: &str = "append_consistency";

pub fn check(ev: &Evidence) -> CheckResult {
    let Some(trace) = wire::messages(ev) else {
        return CheckResult::not_checked(NAME, "no RPC-aware links (`network = \"rpc\"`)");
    };
    // node -> term -> first time it sent AppendEntries as leader of that term
    let mut led: BTreeMap<u32, BTreeMap<i64, u64>> = BTreeMap::new();
    // Entries delivered (inserted at delivery) and successes (judged at the reply), in time
    // order; at equal times the judgement comes first (only earlier deliveries count).
    let mut events: Vec<(u64, bool, &Message)> = Vec::new();
    for m in trace {
        let Some(Request::Append { term, first, .. }) = wire::append(m) else {
            continue;
        };
        let t = led
            .entry(m.from)
            .or_default()
            .entry(*term)
            .or_insert(m.sent_us);
        *t = (*t).min(m.sent_us);
        if let (Some(d), Some(_)) = (m.delivered_us, first) {
            if m.fate.delivered() {
                events.push((d, true, m));
            }
        }
        if wire::append_success(m) {
            events.push((m.replied_us.unwrap_or(u64::MAX), false, m));
        }
    }
    events.sort_by_key(|e| (e.0, e.1));
    let mut held = Held::default();
    let mut judged = 0usize;
    let mut violations = Vec::new();
    for (t, insert, m) in events {
        let Some(Request::Append {
            prev_log_index: pi,
            prev_log_term: pt,
            first,
            last,
            ..
        }) = wire::append(m)
        else {
            continue;
        };
        if insert {
            if let (Some(f), Some(l)) = (first, last) {
                held.insert(m.to, *f, *l);
            }
            continue;
        }
        if *pi < 0 {
            continue;
        }
        judged += 1;
        let own = led
            .get(&m.to)
            .and_then(|terms| terms.get(pt))
            .is_some_and(|l| *l < t);
        if !own && !held.contains(m.to, *pi, *pt) {
            violations.push(format!(
                "node {} answered success at {} to AppendEntries from {} with prevLogIndex {pi}, prevLogTerm {pt}, but no entry ({pi}, term {pt}) had reached it and it never led term {pt}",
                m.to,
                secs(t),
                m.from
            ));
        }
    }
    if judged == 0 {
        return CheckResult::not_checked(
            NAME,
            format!(
                "no successful AppendEntries with a prevLogIndex in {} calls",
                trace.len()
            ),
        );
    }
    CheckResult::new(NAME, format!("{} calls on RPC-aware links", trace.len())).with_violations(
        violations,
        format!("{judged} successful appends, each after an entry the follower could hold"),
    )
}

/// Per node and term, the index intervals of entries delivered so far (merged).
#[derive(Default)]
struct Held(BTreeMap<(u32, i64), BTreeMap<i64, i64>>);

impl Held {
    /// Entries from `f` to `l` (index, term): every index in between may have any term in
    /// between (terms never decrease along a log), an over-approximation.
    fn insert(&mut self, node: u32, f: (i64, i64), l: (i64, i64)) {
        for term in f.1..=l.1.min(f.1 + 1000) {
            let set = self.0.entry((node, term)).or_default();
            let (mut lo, mut hi) = (f.0, l.0);
            // Merge with every interval that touches [lo, hi].
            let touching: Vec<(i64, i64)> = set
                .range(..=hi + 1)
                .rev()
                .take_while(|(_, e)| **e >= lo - 1)
                .map(|(s, e)| (*s, *e))
                .collect();
            for (s, e) in touching {
                set.remove(&s);
                lo = lo.min(s);
                hi = hi.max(e);
            }
            set.insert(lo, hi);
        }
    }

    fn contains(&self, node: u32, index: i64, term: i64) -> bool {
        self.0
            .get(&(node, term))
            .and_then(|set| set.range(..=index).next_back())
            .is_some_and(|(_, e)| *e >= index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixtures::*;
    use crate::check::Status;

    #[test]
    fn success_after_the_entry_was_delivered_passes() {
        let r = check(&traced(vec![
            append(1, 2, 1, (-1, 0), &[(0, 1), (1, 1)], -1, true, 100),
            append(1, 2, 1, (1, 1), &[(2, 1)], 0, true, 200),
        ]));
        assert_verdict(&r, Status::Pass, &[]);
    }

    #[test]
    fn success_on_an_entry_never_delivered_fails() {
        // Node 2 got (0, 1) and (1, 1) but says it matches (1, term 2).
        let r = check(&traced(vec![
            append(1, 2, 1, (-1, 0), &[(0, 1), (1, 1)], -1, true, 100),
            append(3, 2, 2, (1, 2), &[(2, 2)], 0, true, 200),
        ]));
        assert_verdict(&r, Status::Fail, &["node 2 answered success"]);
        // A success beyond the end of everything delivered fails too.
        let r = check(&traced(vec![append(1, 2, 1, (5, 1), &[], 0, true, 100)]));
        assert_verdict(&r, Status::Fail, &[]);
    }

    #[test]
    fn entries_a_node_created_as_leader_count_and_refusals_are_not_judged() {
        let r = check(&traced(vec![
            // Node 2 led term 3 (it sent appends as leader), so it may hold (4, term 3).
            append(2, 1, 3, (-1, 0), &[], -1, false, 50),
            append(1, 2, 4, (4, 3), &[(5, 4)], 0, true, 100),
            append(1, 3, 4, (9, 4), &[], 0, false, 100),
        ]));
        assert_verdict(&r, Status::Pass, &[]);
    }

    #[test]
    fn nothing_to_judge_is_not_checked() {
        assert_verdict(&check(&Evidence::default()), Status::NotChecked, &[]);
        let r = check(&traced(vec![append(
            1,
            2,
            1,
            (-1, 0),
            &[(0, 1)],
            -1,
            true,
            1,
        )]));
        assert_verdict(&r, Status::NotChecked, &[]);
    }
}

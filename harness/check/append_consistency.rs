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

/// Index and term bounds of the entries one call carried: `(first, last)` of each.
type Carried = ((i64, i64), (i64, i64));

pub fn check(ev: &Evidence) -> CheckResult {
    let Some(trace) = wire::messages(ev) else {
        return CheckResult::not_checked(NAME, "no RPC-aware links (`network = \"rpc\"`)");
    };
    // node -> (time delivered, entries carried)
    let mut carried: BTreeMap<u32, Vec<(u64, Carried)>> = BTreeMap::new();
    // node -> term -> first time it sent AppendEntries as leader of that term
    let mut led: BTreeMap<u32, BTreeMap<i64, u64>> = BTreeMap::new();
    for m in trace {
        let Some(Request::Append {
            term, first, last, ..
        }) = wire::append(m)
        else {
            continue;
        };
        let t = led
            .entry(m.from)
            .or_default()
            .entry(*term)
            .or_insert(m.sent_us);
        *t = (*t).min(m.sent_us);
        if let (Some(d), Some(f), Some(l)) = (m.delivered_us, first, last) {
            if m.fate.delivered() {
                carried.entry(m.to).or_default().push((d, (*f, *l)));
            }
        }
    }
    let mut judged = 0usize;
    let mut violations = Vec::new();
    for m in trace.iter().filter(|m| wire::append_success(m)) {
        let Some(Request::Append {
            prev_log_index: pi,
            prev_log_term: pt,
            ..
        }) = wire::append(m)
        else {
            continue;
        };
        if *pi < 0 {
            continue;
        }
        judged += 1;
        let replied = m.replied_us.unwrap_or(u64::MAX);
        if !could_hold(m, &carried, &led, (*pi, *pt), replied) {
            violations.push(format!(
                "node {} answered success at {} to AppendEntries from {} with prevLogIndex {pi}, prevLogTerm {pt}, but no entry ({pi}, term {pt}) had reached it and it never led term {pt}",
                m.to,
                secs(replied),
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

fn could_hold(
    m: &Message,
    carried: &BTreeMap<u32, Vec<(u64, Carried)>>,
    led: &BTreeMap<u32, BTreeMap<i64, u64>>,
    (pi, pt): (i64, i64),
    before: u64,
) -> bool {
    let delivered = carried
        .get(&m.to)
        .into_iter()
        .flatten()
        .any(|(t, (f, l))| *t < before && f.0 <= pi && pi <= l.0 && f.1 <= pt && pt <= l.1);
    let own = led
        .get(&m.to)
        .and_then(|terms| terms.get(&pt))
        .is_some_and(|t| *t < before);
    delivered || own
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::wire::fixtures::append;
    use crate::check::Status;

    fn ev(msgs: Vec<Message>) -> Evidence {
        Evidence {
            messages: Some(msgs),
            ..Evidence::default()
        }
    }

    #[test]
    fn success_after_the_entry_was_delivered_passes() {
        let r = check(&ev(vec![
            append(1, 2, 1, (-1, 0), &[(0, 1), (1, 1)], -1, true, 100),
            append(1, 2, 1, (1, 1), &[(2, 1)], 0, true, 200),
        ]));
        assert_eq!(r.status, Status::Pass, "{r:?}");
    }

    #[test]
    fn success_on_an_entry_never_delivered_fails() {
        // Node 2 got (0, 1) and (1, 1) but says it matches (1, term 2).
        let r = check(&ev(vec![
            append(1, 2, 1, (-1, 0), &[(0, 1), (1, 1)], -1, true, 100),
            append(3, 2, 2, (1, 2), &[(2, 2)], 0, true, 200),
        ]));
        assert_eq!(r.status, Status::Fail, "{r:?}");
        assert!(
            r.summary.contains("node 2 answered success"),
            "{}",
            r.summary
        );
        // A success beyond the end of everything delivered fails too.
        let r = check(&ev(vec![append(1, 2, 1, (5, 1), &[], 0, true, 100)]));
        assert_eq!(r.status, Status::Fail, "{r:?}");
    }

    #[test]
    fn entries_a_node_created_as_leader_count_and_refusals_are_not_judged() {
        let r = check(&ev(vec![
            // Node 2 led term 3 (it sent appends as leader), so it may hold (4, term 3).
            append(2, 1, 3, (-1, 0), &[], -1, false, 50),
            append(1, 2, 4, (4, 3), &[(5, 4)], 0, true, 100),
            append(1, 3, 4, (9, 4), &[], 0, false, 100),
        ]));
        assert_eq!(r.status, Status::Pass, "{r:?}");
    }

    #[test]
    fn nothing_to_judge_is_not_checked() {
        assert_eq!(check(&Evidence::default()).status, Status::NotChecked);
        let r = check(&ev(vec![append(1, 2, 1, (-1, 0), &[(0, 1)], -1, true, 1)]));
        assert_eq!(r.status, Status::NotChecked);
    }
}

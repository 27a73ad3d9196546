//! Term monotonicity (Raft §5.1, Figure 2 "Persistent state on all servers": currentTerm
//! increases monotonically and is persisted before answering RPCs): a node's term never
//! goes back, also across a restart that kept its data dir.
//!
//! Two sources of evidence: journals (each `start` recovers a term no lower than the highest
//! journaled before it; `term` events never decrease), and `messages.jsonl` (after a restart,
//! the node never sends or answers with a term lower than the highest it used before; a
//! pre-vote request's term is a prospective term and is not counted).
use super::{secs, wire, CheckResult, Evidence};
use crate::net::trace::{Message, Method, Reply, Request};
use crate::observe::journal::Kind;

pub const NAME: &str = "term_monotonicity";

pub fn check(ev: &Evidence) -> CheckResult {
    let keeping: Vec<u32> = ev
        .nodes
        .iter()
        .filter(|n| n.data_dir)
        .map(|n| n.id)
        .chain(
            ev.journals
                .keys()
                .copied()
                .filter(|n| wire::keeps_data(ev, *n)),
        )
        .collect::<std::collections::BTreeSet<u32>>()
        .into_iter()
        .collect();
    let trace = wire::messages(ev);
    let journaled: Vec<u32> = keeping
        .iter()
        .copied()
        .filter(|n| ev.journals.get(n).is_some_and(|j| !j.is_empty()))
        .collect();
    if trace.is_none() && journaled.is_empty() {
        return CheckResult::not_checked(NAME, "no RPC-aware links and no journals");
    }
    let mut violations = Vec::new();
    let mut judged = 0usize;
    for &node in &journaled {
        judged += from_journal(ev, node, &mut violations);
    }
    if let Some(trace) = trace {
        for &node in &keeping {
            judged += from_trace(ev, trace, node, &mut violations);
        }
    }
    if judged == 0 {
        return CheckResult::not_checked(
            NAME,
            "no node that keeps its data dir was restarted, and no journal shows a term",
        );
    }
    CheckResult::new(
        NAME,
        format!(
            "{}; journals of nodes [{}]",
            trace.map_or("no RPC-aware links".into(), |t| format!(
                "{} calls",
                t.len()
            )),
            super::list(journaled)
        ),
    )
    .with_violations(
        violations,
        format!("{judged} term observations never went back"),
    )
}

fn from_journal(ev: &Evidence, node: u32, violations: &mut Vec<String>) -> usize {
    let mut max: Option<(i64, u64)> = None;
    let mut n = 0;
    for e in &ev.journals[&node] {
        let Some(term) = e.term else { continue };
        if !matches!(e.event, Kind::Start | Kind::Term) {
            if matches!(e.event, Kind::Vote | Kind::Role) {
                max = max.max(Some((term, e.t_us)));
            }
            continue;
        }
        n += 1;
        if let Some((m, at)) = max {
            if term < m {
                let what = if e.event == Kind::Start {
                    "restarted with"
                } else {
                    "moved to"
                };
                violations.push(format!(
                    "node {node} {what} term {term} at {} after term {m} at {} (journal; data dir kept)",
                    secs(e.t_us),
                    secs(at)
                ));
            }
        }
        max = max.max(Some((term, e.t_us)));
    }
    n
}

/// The term a node stated in a call: a request it sent or a reply it gave.
fn stated(m: &Message, node: u32) -> Option<(i64, u64)> {
    if m.from == node && m.method != Method::PreVote {
        let term = match &m.req {
            Some(Request::Vote { term, .. }) | Some(Request::Append { term, .. }) => *term,
            _ => return None,
        };
        return Some((term, m.sent_us));
    }
    if m.to == node {
        let term = match &m.reply {
            Some(Reply::Vote { term, .. }) | Some(Reply::Append { term, .. }) => *term,
            _ => return None,
        };
        return Some((term, m.delivered_us?));
    }
    None
}

fn from_trace(ev: &Evidence, trace: &[Message], node: u32, violations: &mut Vec<String>) -> usize {
    let restarts = wire::restarts(ev, node);
    let said: Vec<(i64, u64)> = trace.iter().filter_map(|m| stated(m, node)).collect();
    for &r in &restarts {
        let before = said.iter().filter(|s| s.1 < r).max();
        let Some(&(high, at)) = before else { continue };
        if let Some(&(low, when)) = said
            .iter()
            .filter(|s| s.1 > r && s.0 < high)
            .min_by_key(|s| s.1)
        {
            violations.push(format!(
                "node {node} used term {low} at {} after its restart at {}, having used term {high} at {} (data dir kept)",
                secs(when),
                secs(r),
                secs(at)
            ));
        }
    }
    restarts.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixtures::*;
    use crate::check::{NodeInfo, Status};

    fn nodes(data_dir: bool) -> Vec<NodeInfo> {
        (1..=3).map(|id| node(id, "k", data_dir)).collect()
    }

    #[test]
    fn a_term_going_back_across_a_restart_fails_from_the_trace() {
        let before = || append(1, 2, 5, (-1, 0), &[], -1, true, 100);
        let pre_vote = vote(Method::PreVote, 1, 2, 9, true, 150);
        let vote_in = |term| vote(Method::RequestVote, 1, 2, term, true, 500);
        let mut ev = Evidence::default()
            .with_trace(vec![before(), pre_vote.clone(), vote_in(3)])
            .with_nodes(nodes(true));
        ev.faults = vec![fault(300, "restart", &[1], &[])];
        assert_verdict(&check(&ev), Status::Fail, &["node 1 used term 3"]);
        // Term 6 after the restart is fine; the pre-vote's term 9 was never node 1's term.
        ev.messages = Some(vec![before(), pre_vote, vote_in(6)]);
        assert_verdict(&check(&ev), Status::Pass, &[]);
        // Without a data dir the node may start over: not judged.
        ev.nodes = nodes(false);
        ev.messages = Some(vec![before(), vote_in(3)]);
        assert_verdict(&check(&ev), Status::NotChecked, &[]);
    }

    #[test]
    fn a_restart_recovering_an_older_term_fails_from_the_journal() {
        let mut ev = Evidence::default().with_nodes(nodes(true)).with_journal(
            2,
            vec![
                journal(2, 10, "start", Some(0), None),
                journal(2, 20, "term", Some(4), None),
                journal(2, 30, "start", Some(1), None),
            ],
        );
        assert_verdict(&check(&ev), Status::Fail, &["node 2 restarted with term 1"]);
        ev.journals.get_mut(&2).unwrap()[2].term = Some(4);
        assert_verdict(&check(&ev), Status::Pass, &[]);
    }

    #[test]
    fn no_evidence_is_not_checked() {
        assert_verdict(&check(&Evidence::default()), Status::NotChecked, &[]);
    }
}

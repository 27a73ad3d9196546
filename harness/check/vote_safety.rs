//! Vote safety (Raft §5.2, Figure 2 "RequestVote RPC" receiver rule 2): each server votes for
//! at most one candidate in a given term (votedFor is persistent state, so also across
//! restarts that keep the data dir). A pre-vote grant (thesis §9.6) is not a vote.
//!
//! Two sources of evidence: granted RequestVote replies in `messages.jsonl` (black-box nodes
//! too), and `vote` events of journals. A node without a data dir forgets its vote on a
//! restart by configuration: its votes are compared within one incarnation only.
use super::{journaled, list, sightings, wire, CheckResult, Evidence};
use crate::net::trace::{Message, Method, Reply, Request};
use crate::observe::journal::Kind;
use std::collections::BTreeMap;

pub const NAME: &str = "vote_safety";

/// (voter, term, incarnation) -> candidate -> (first time, source)
type Votes = BTreeMap<(u32, i64, usize), BTreeMap<i64, (u64, &'static str)>>;

pub fn check(ev: &Evidence) -> CheckResult {
    let journaled = journaled(ev);
    let trace = wire::messages(ev);
    if trace.is_none() && journaled.is_empty() {
        return CheckResult::not_checked(NAME, "no RPC-aware links and no journals");
    }
    let mut votes = Votes::new();
    from_trace(ev, trace.unwrap_or_default(), &mut votes);
    from_journals(ev, &mut votes);
    let mut violations = Vec::new();
    for ((voter, term, _), cands) in &votes {
        if cands.len() > 1 {
            let who = sightings(cands);
            violations.push(format!(
                "node {voter} voted for {} candidates in term {term}: {}",
                cands.len(),
                who.join(", ")
            ));
        }
    }
    let based_on = format!(
        "{}; journals of nodes [{}]",
        trace.map_or("no RPC-aware links".to_string(), |t| format!(
            "{} calls on RPC-aware links",
            t.len()
        )),
        list(journaled)
    );
    if votes.is_empty() {
        return CheckResult::not_checked(NAME, format!("no vote was granted ({based_on})"));
    }
    CheckResult::new(NAME, based_on).with_violations(
        violations,
        format!("{} votes (voter, term), one candidate each", votes.len()),
    )
}

/// Every granted RequestVote reply of the trace, at its delivery (pre-votes are not votes).
fn from_trace(ev: &Evidence, trace: &[Message], votes: &mut Votes) {
    for m in trace {
        let (
            Method::RequestVote,
            Some(Request::Vote {
                term, candidate, ..
            }),
        ) = (&m.method, &m.req)
        else {
            continue;
        };
        if !matches!(m.reply, Some(Reply::Vote { granted: true, .. })) {
            continue;
        }
        let t = m.delivered_us.unwrap_or(m.sent_us);
        let inc = incarnation(ev, m.to, t);
        let e = votes.entry((m.to, *term, inc)).or_default();
        e.entry(*candidate).or_insert((t, "trace"));
    }
}

/// Every journaled `vote`; a node without a data dir starts a new incarnation at each `start`.
fn from_journals(ev: &Evidence, votes: &mut Votes) {
    for (node, events) in &ev.journals {
        let mut starts = 0usize;
        for e in events {
            if e.event == Kind::Start {
                starts += 1;
            }
            if e.event != Kind::Vote {
                continue;
            }
            let (Some(term), Some(cand)) = (e.term, e.candidate) else {
                continue;
            };
            let inc = if wire::keeps_data(ev, *node) {
                0
            } else {
                starts
            };
            let v = votes.entry((*node, term, inc)).or_default();
            v.entry(cand).or_insert((e.t_us, "journal"));
        }
    }
}

/// Incarnation of `node` at `t` for comparing votes: 0 for nodes that keep a data dir,
/// else the number of restarts before `t`.
fn incarnation(ev: &Evidence, node: u32, t: u64) -> usize {
    if wire::keeps_data(ev, node) {
        return 0;
    }
    wire::restarts(ev, node).iter().filter(|&&r| r < t).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixtures::*;
    use crate::check::Status;

    #[test]
    fn two_candidates_granted_in_one_term_by_one_voter_fail_from_the_trace() {
        let ev = traced(vec![
            vote(Method::RequestVote, 1, 3, 2, true, 100),
            vote(Method::RequestVote, 2, 3, 2, true, 200),
        ]);
        let r = check(&ev);
        assert_verdict(
            &r,
            Status::Fail,
            &["node 3 voted for 2 candidates in term 2"],
        );
    }

    #[test]
    fn pre_vote_grants_refusals_and_other_terms_are_not_double_votes() {
        let ev = traced(vec![
            vote(Method::PreVote, 1, 3, 2, true, 100),
            vote(Method::RequestVote, 2, 3, 2, true, 200),
            vote(Method::RequestVote, 1, 3, 2, false, 300),
            vote(Method::RequestVote, 1, 3, 3, true, 400),
            // A repeated grant to the same candidate is the same vote.
            vote(Method::RequestVote, 1, 3, 3, true, 500),
        ]);
        assert_verdict(&check(&ev), Status::Pass, &[]);
    }

    #[test]
    fn journals_alone_show_a_double_vote_and_a_kept_data_dir_spans_restarts() {
        let mut ev = Evidence::default().with_journal(
            2,
            vec![
                journal(2, 10, "start", None, None),
                journal(2, 20, "vote", Some(4), Some(1)),
                journal(2, 30, "start", None, None),
                journal(2, 40, "vote", Some(4), Some(3)),
            ],
        );
        assert_verdict(&check(&ev), Status::Fail, &[]);
        // Without a data dir the vote is forgotten on restart by configuration.
        ev.nodes = vec![node(2, "k", false)];
        assert_verdict(&check(&ev), Status::Pass, &[]);
    }

    #[test]
    fn without_links_or_journals_it_is_not_checked() {
        assert_verdict(&check(&Evidence::default()), Status::NotChecked, &[]);
        assert_verdict(&check(&traced(vec![])), Status::NotChecked, &[]);
    }
}

//! Leader legitimacy (Raft §5.2): a candidate becomes leader of term T only after it
//! received votes from a majority of the servers in T (its own included). A node that sent
//! AppendEntries as leader of T without granted RequestVote replies from a majority in T
//! before it — a leader that never stepped down, or one that re-elected itself without
//! votes — breaks it. Pre-vote grants (thesis §9.6) do not count.
//!
//! Evidence: `messages.jsonl` only (every vote crosses an RPC-aware link). A granted reply
//! the harness held from the candidate (`dropped-reply`) was never received: not counted.
use super::{secs, wire, CheckResult, Evidence};
use crate::net::trace::{Method, Reply, Request};
use std::collections::{BTreeMap, BTreeSet};

pub const NAME: &str = "leader_legitimacy";

pub fn check(ev: &Evidence) -> CheckResult {
    let Some(trace) = wire::messages(ev) else {
        return CheckResult::not_checked(NAME, "no RPC-aware links (`network = \"rpc\"`)");
    };
    let n = wire::cluster_size(ev);
    let majority = n / 2 + 1;
    // (leader, term) -> first AppendEntries sent as leader.
    let mut led: BTreeMap<(u32, i64), u64> = BTreeMap::new();
    for m in trace {
        if let Some(Request::Append { term, .. }) = wire::append(m) {
            let e = led.entry((m.from, *term)).or_insert(m.sent_us);
            *e = (*e).min(m.sent_us);
        }
    }
    if led.is_empty() {
        return CheckResult::not_checked(
            NAME,
            format!("no AppendEntries in {} calls", trace.len()),
        );
    }
    let mut violations = Vec::new();
    for (&(leader, term), &first) in &led {
        let voters: BTreeSet<u32> = trace
            .iter()
            .filter(|m| m.method == Method::RequestVote && m.from == leader && m.fate.answered())
            .filter(|m| matches!(m.req, Some(Request::Vote { term: t, .. }) if t == term))
            .filter(|m| matches!(m.reply, Some(Reply::Vote { granted: true, .. })))
            .filter(|m| m.replied_us.is_some_and(|r| r <= first))
            .map(|m| m.to)
            .collect();
        if voters.len() + 1 < majority {
            violations.push(format!(
                "node {leader} sent AppendEntries as leader of term {term} at {} with votes of {} in that term (itself + {} of {} needed)",
                secs(first),
                if voters.is_empty() { "nobody else".to_string() } else { super::list(voters.iter().copied()) },
                voters.len(),
                majority - 1
            ));
        }
    }
    CheckResult::new(
        NAME,
        format!("{} calls on RPC-aware links, {n} nodes", trace.len()),
    )
    .with_violations(
        violations,
        format!(
            "{} (leader, term) pairs, each elected by a majority",
            led.len()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixtures::*;
    use crate::check::Status;
    use crate::net::trace::{Fate, Message};

    #[test]
    fn a_leader_with_one_vote_of_three_nodes_is_legitimate() {
        let r = check(&traced_nodes(
            3,
            vec![
                vote(Method::RequestVote, 1, 2, 2, true, 100),
                vote(Method::RequestVote, 1, 3, 2, false, 100),
                append(1, 2, 2, (-1, 0), &[], -1, true, 200),
            ],
        ));
        assert_verdict(&r, Status::Pass, &[]);
    }

    #[test]
    fn appending_without_votes_or_with_pre_votes_only_fails() {
        // Pre-vote grants, refusals, votes of another term and a dropped reply count nothing.
        let dropped = Message {
            fate: Fate::DroppedReply,
            ..vote(Method::RequestVote, 1, 3, 2, true, 110)
        };
        let r = check(&traced_nodes(
            3,
            vec![
                vote(Method::PreVote, 1, 2, 2, true, 100),
                vote(Method::RequestVote, 1, 2, 1, true, 100),
                dropped,
                append(1, 2, 2, (-1, 0), &[], -1, true, 200),
            ],
        ));
        assert_verdict(
            &r,
            Status::Fail,
            &["node 1 sent AppendEntries as leader of term 2"],
        );
    }

    #[test]
    fn a_vote_that_came_after_the_first_append_does_not_count() {
        let r = check(&traced_nodes(
            3,
            vec![
                append(1, 2, 2, (-1, 0), &[], -1, true, 100),
                vote(Method::RequestVote, 1, 2, 2, true, 200),
            ],
        ));
        assert_verdict(&r, Status::Fail, &[]);
    }

    #[test]
    fn no_links_or_no_appends_is_not_checked() {
        assert_verdict(&check(&Evidence::default()), Status::NotChecked, &[]);
        assert_verdict(&check(&traced_nodes(3, vec![])), Status::NotChecked, &[]);
    }
}

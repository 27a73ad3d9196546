//! What the wire checks share: reading calls of `messages.jsonl` and restarts.
use super::Evidence;
use crate::net::trace::{Message, Method, Reply, Request};

/// The calls on RPC-aware links; None when the run had none (then wire evidence is absent).
pub fn messages(ev: &Evidence) -> Option<&[Message]> {
    ev.messages.as_deref()
}

/// Nodes of the cluster: from the evidence, or else every node seen in the trace.
pub fn cluster_size(ev: &Evidence) -> usize {
    if !ev.nodes.is_empty() {
        return ev.nodes.len();
    }
    let mut ids: Vec<u32> = ev
        .messages
        .iter()
        .flatten()
        .flat_map(|m| [m.from, m.to])
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len()
}

/// True when the node keeps its state across restarts (`{data_dir}`); unknown nodes: yes.
pub fn keeps_data(ev: &Evidence, node: u32) -> bool {
    ev.nodes
        .iter()
        .find(|n| n.id == node)
        .is_none_or(|n| n.data_dir)
}

/// Times (µs, run clock) at which the schedule (re)started `node`.
pub fn restarts(ev: &Evidence, node: u32) -> Vec<u64> {
    ev.faults
        .iter()
        .filter(|f| f.action == crate::trace::FaultAction::Restart && f.nodes.contains(&node))
        .map(|f| f.t_us)
        .collect()
}

/// `(term, leader)` of an AppendEntries call.
pub fn append(m: &Message) -> Option<&Request> {
    match (&m.method, &m.req) {
        (Method::AppendEntries, Some(r @ Request::Append { .. })) => Some(r),
        _ => None,
    }
}

/// `success` of an AppendEntries reply.
pub fn append_success(m: &Message) -> bool {
    matches!(m.reply, Some(Reply::Append { success: true, .. }))
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Hand-made calls for the wire checks' tests.
    use crate::net::trace::{Fate, Message, Method, Reply, Request};
    use crate::observe::journal::Event;

    /// A journal event with `term` and `candidate`.
    pub fn journal(node: u32, t: u64, event: &str, term: Option<i64>, cand: Option<i64>) -> Event {
        let mut e = crate::check::fixtures::jev(node, t, event);
        e.term = term;
        e.candidate = cand;
        e
    }

    fn base(from: u32, to: u32, method: Method, t: u64) -> Message {
        Message {
            id: t,
            from,
            to,
            method,
            path: None,
            req: None,
            reply: None,
            error: None,
            sent_us: t,
            delivered_us: Some(t + 1),
            replied_us: Some(t + 2),
            fate: Fate::Pass,
            delay_ms: 0,
            rule: None,
        }
    }

    /// `from` asks `to` for its vote in `term` at `t`; `granted` is the answer.
    pub fn vote(method: Method, from: u32, to: u32, term: i64, granted: bool, t: u64) -> Message {
        Message {
            req: Some(Request::Vote {
                term,
                candidate: from.into(),
                last_log_index: -1,
                last_log_term: 0,
            }),
            reply: Some(Reply::Vote { term, granted }),
            ..base(from, to, method, t)
        }
    }

    /// Leader `from` in `term` appends `entries` (index, term) after `prev` to `to` at `t`.
    #[allow(clippy::too_many_arguments)]
    pub fn append(
        from: u32,
        to: u32,
        term: i64,
        prev: (i64, i64),
        entries: &[(i64, i64)],
        commit: i64,
        success: bool,
        t: u64,
    ) -> Message {
        Message {
            req: Some(Request::Append {
                term,
                leader: from.into(),
                prev_log_index: prev.0,
                prev_log_term: prev.1,
                entries: entries.len() as u32,
                first: entries.first().copied(),
                last: entries.last().copied(),
                leader_commit: commit,
            }),
            reply: Some(Reply::Append {
                term,
                success,
                conflict_index: None,
                conflict_term: None,
            }),
            ..base(from, to, Method::AppendEntries, t)
        }
    }
}

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

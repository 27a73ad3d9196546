//! The canonical text of a core's replies, `Ready` and state (docs/scenarios.md, "Output").

use crate::core::{
    AppendResponse, Core, Entry, Event, LogOp, Message, NodeId, NotLeader, ReadState, Ready,
    VoteResponse, NONE,
};

fn node(id: NodeId) -> String {
    if id == NONE {
        "none".into()
    } else {
        id.to_string()
    }
}

fn opt(v: Option<i32>) -> String {
    v.map_or_else(|| "none".into(), |v| v.to_string())
}

fn entry_fields(e: &Entry) -> String {
    format!(
        "index={} term={} command=\"{}\"",
        e.index, e.term, e.command
    )
}

pub fn vote_reply(r: &VoteResponse) -> String {
    format!("reply term={} vote_granted={}", r.term, r.vote_granted)
}

pub fn append_reply(r: &AppendResponse) -> String {
    format!(
        "reply term={} success={} conflict_index={} conflict_term={}",
        r.term,
        r.success,
        opt(r.conflict_index),
        opt(r.conflict_term)
    )
}

pub fn propose_reply(r: &Result<(i32, i32), NotLeader>) -> String {
    match r {
        Ok((index, term)) => format!("reply index={index} term={term}"),
        Err(nl) => format!("reply not_leader leader_id={}", node(nl.leader_id)),
    }
}

pub fn read_index_reply(r: &Result<(), NotLeader>) -> String {
    match r {
        Ok(()) => "reply ok".into(),
        Err(nl) => format!("reply not_leader leader_id={}", node(nl.leader_id)),
    }
}

fn read_state(r: &ReadState) -> String {
    match r {
        ReadState::Ready { ctx, index } => format!("read_ready ctx={ctx} index={index}"),
        ReadState::Failed { ctx } => format!("read_failed ctx={ctx}"),
    }
}

fn event(e: &Event) -> String {
    match e {
        Event::Term { term } => format!("event term term={term}"),
        Event::Vote { term, candidate } => {
            format!("event vote term={term} candidate={}", node(*candidate))
        }
        Event::Role { role, term } => format!("event role role={} term={term}", role.as_str()),
        Event::Truncate { from_index } => format!("event truncate from_index={from_index}"),
        Event::Commit { index } => format!("event commit index={index}"),
        Event::PreVote { term } => format!("event prevote term={term}"),
        Event::PreVoteResult { term, granted } => {
            format!("event prevote_result term={term} granted={granted}")
        }
    }
}

fn message(out: &mut Vec<String>, to: NodeId, m: &Message) {
    match m {
        Message::PreVote(r) | Message::Vote(r) => {
            let kind = if matches!(m, Message::Vote(_)) {
                "vote"
            } else {
                "prevote"
            };
            out.push(format!(
                "message to={to} {kind} term={} candidate_id={} last_log_index={} last_log_term={}",
                r.term,
                node(r.candidate_id),
                r.last_log_index,
                r.last_log_term
            ));
        }
        Message::Append(r, sent) => {
            // The ReadIndex round is shown only once one has started (0 is the default).
            let seq = match sent.read_seq {
                0 => String::new(),
                n => format!(" read_seq={n}"),
            };
            out.push(format!(
                "message to={to} append term={} leader_id={} prev_log_index={} prev_log_term={} \
                 leader_commit={} entries={}{seq}",
                r.term,
                node(r.leader_id),
                r.prev_log_index,
                r.prev_log_term,
                r.leader_commit,
                r.entries.len()
            ));
            out.extend(
                r.entries
                    .iter()
                    .map(|e| format!("  entry {}", entry_fields(e))),
            );
        }
    }
}

/// Renders a Ready in the canonical order: hard state, log ops, events, messages, committed,
/// reads, reset_timer.
pub fn ready(out: &mut Vec<String>, r: &Ready) {
    if let Some(hs) = r.hard_state {
        out.push(format!(
            "hard_state term={} voted_for={}",
            hs.term,
            node(hs.voted_for)
        ));
    }
    for op in &r.log_ops {
        match op {
            LogOp::Truncate { from_index } => {
                out.push(format!("log_op truncate from_index={from_index}"))
            }
            LogOp::Append(es) => out.extend(
                es.iter()
                    .map(|e| format!("log_op append {}", entry_fields(e))),
            ),
        }
    }
    out.extend(r.events.iter().map(event));
    for (to, m) in &r.messages {
        message(out, *to, m);
    }
    out.extend(
        r.committed
            .iter()
            .map(|e| format!("committed {}", entry_fields(e))),
    );
    out.extend(r.reads.iter().map(read_state));
    if r.reset_timer {
        out.push("reset_timer".into());
    }
}

pub fn state(c: &Core) -> String {
    format!(
        "state term={} voted_for={} role={} leader_id={} commit_index={} last_applied={} \
         last_log_index={} last_log_term={}",
        c.term(),
        node(c.voted_for()),
        c.role().as_str(),
        node(c.leader_id()),
        c.commit_index(),
        c.last_applied(),
        c.last_log_index(),
        c.last_log_term()
    )
}

pub fn log(out: &mut Vec<String>, c: &Core) {
    if c.log().is_empty() {
        out.push("(empty log)".into());
    }
    out.extend(c.log().iter().map(|e| format!("entry {}", entry_fields(e))));
}

pub fn progress(c: &Core, peer: NodeId) -> String {
    format!(
        "progress peer={peer} match_index={}",
        opt(c.match_index(peer))
    )
}

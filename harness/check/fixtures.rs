//! Builders of hand-made evidence for the checkers' tests (and the report's): one
//! builder per kind of evidence, so that each test states only what differs.
//!
//! - client history: [`ok`], [`fail`], [`info`] (Jepsen's outcomes), numbered by
//!   [`history`]; [`op`] for an op with every field given;
//! - status samples and logs: [`status`], [`snap`], [`entries`];
//! - journals: [`jev`], [`journal`], [`role`], [`apply`];
//! - calls on RPC-aware links: [`call`], [`vote`], [`append`], [`append_request`];
//! - the schedule and the cluster: [`fault`], [`settings`], [`node`], [`nodes`];
//! - evidence: `Evidence::default().with_history(…)` and the other `with_*` methods;
//! - verdicts: [`assert_verdict`], [`assert_summary_starts`], [`assert_based_on`].
use super::*;
use crate::history::Outcome;
use crate::net::trace::{Fate, Message, Method, Reply, Request};
use crate::observe::view::Role;
use crate::observe::Entry;

pub use crate::observe::fixtures::status;

/// Entries from (term, command) pairs, indexed from 0.
pub fn entries(e: &[(i32, &str)]) -> Vec<Entry> {
    e.iter()
        .enumerate()
        .map(|(i, (t, c))| Entry {
            index: i as i32,
            term: *t,
            command: c.to_string(),
        })
        .collect()
}

/// Check settings of a cluster polled every 100 ms with 300 ms elections.
pub fn settings() -> CheckSettings {
    CheckSettings {
        election_max_ms: 300,
        poll_ms: 100,
        max_new_terms: 3,
        term_window_ms: 1500,
        terms_through_network_faults: false,
        node_errors_warn: false,
    }
}

/// A fault event by its action's name (`kill`, `net-isolate`, ...) at `t_us`.
pub fn fault(t_us: u64, action: &str, nodes: &[u32], cut_off: &[u32]) -> FaultEvent {
    FaultEvent {
        t_us,
        action: action.parse().expect("a fault action name"),
        nodes: nodes.to_vec(),
        detail: String::new(),
        at: "s.toml:1".into(),
        cut_off: cut_off.to_vec(),
    }
}

/// A GetLog snapshot of `node` at `t_us` with its status sample ([`status`]) and log.
pub fn snap(
    node: u32,
    t_us: u64,
    state: &str,
    term: i32,
    commit: Option<i32>,
    e: &[(i32, &str)],
) -> LogSnapshot {
    LogSnapshot {
        t_us,
        node,
        status: status(node, t_us, state, term, commit),
        entries: entries(e),
    }
}

/// An op with every field given (sent to node 1). [`ok`], [`fail`] and [`info`] are shorter.
pub fn op(
    id: u64,
    client: u32,
    cmd: &str,
    inv: u64,
    comp: Option<u64>,
    outcome: Outcome,
    result: Option<&str>,
) -> Op {
    Op {
        id,
        client,
        node: 1,
        command: cmd.into(),
        invoke_us: inv,
        complete_us: comp,
        outcome,
        result: result.map(str::to_string),
        message: String::new(),
    }
}

/// `client` ran `cmd` over `(invoke, complete)` µs and it took effect, returning `result`.
pub fn ok(client: u32, cmd: &str, (inv, comp): (u64, u64), result: Option<&str>) -> Op {
    op(0, client, cmd, inv, Some(comp), Outcome::Ok, result)
}

/// `client` ran `cmd` over `(invoke, complete)` µs and it certainly had no effect.
pub fn fail(client: u32, cmd: &str, (inv, comp): (u64, u64)) -> Op {
    op(0, client, cmd, inv, Some(comp), Outcome::Fail, None)
}

/// `client` invoked `cmd` at `inv` µs and never learnt its outcome.
pub fn info(client: u32, cmd: &str, inv: u64) -> Op {
    op(0, client, cmd, inv, None, Outcome::Info, None)
}

/// A history: the ops in order, their ids numbered from 0.
pub fn history(ops: impl IntoIterator<Item = Op>) -> Vec<Op> {
    ops.into_iter()
        .enumerate()
        .map(|(i, o)| Op { id: i as u64, ..o })
        .collect()
}

/// `n` concurrent writes of distinct values, then a read of a value none of them
/// wrote: deciding it means trying every subset of the writes (illegal).
pub fn hard_history(n: u64) -> Vec<Op> {
    let writes = (0..n).map(|i| ok(i as u32, &format!("SET k {i}"), (i, 1000 + i), Some("OK")));
    history(writes.chain([ok(999, "GET k", (2000, 2100), Some("x"))]))
}

/// Two acknowledged writes of `k` (1, then 2) and a later read of 1: not linearizable.
pub fn stale_read() -> Vec<Op> {
    history([
        ok(1, "SET k 1", (0, 10), Some("OK")),
        ok(1, "SET k 2", (20, 30), Some("OK")),
        ok(2, "GET k", (40, 50), Some("1")),
    ])
}

/// A journal event by its name (`apply`, `role`, ...).
pub fn jev(node: u32, t_us: u64, event: &str) -> Event {
    Event {
        t_us,
        ts_us: t_us,
        node,
        event: serde_json::from_value(serde_json::json!(event)).expect("an event name"),
        term: None,
        candidate: None,
        role: None,
        from_index: None,
        index: None,
        command: None,
        result: None,
        log_len: None,
    }
}

/// A journal event with `term` and `candidate`.
pub fn journal(node: u32, t: u64, event: &str, term: Option<i64>, cand: Option<i64>) -> Event {
    Event {
        term,
        candidate: cand,
        ..jev(node, t, event)
    }
}

/// A `role` event: `node` took `role` in `term` at `t`.
pub fn role(node: u32, t: u64, role: Role, term: i64) -> Event {
    Event {
        role: Some(role),
        ..journal(node, t, "role", Some(term), None)
    }
}

/// An `apply` event: `node` applied entry `index` of `term` holding `cmd` at `t`.
pub fn apply(node: u32, t: u64, index: i64, term: i64, cmd: &str) -> Event {
    Event {
        index: Some(index),
        command: Some(cmd.into()),
        ..journal(node, t, "apply", Some(term), None)
    }
}

/// A call (number `id`) from `from` to `to` sent at `sent` µs, delivered `lag.0` µs and
/// answered `lag.1` µs after it was sent, passed unchanged; no request or reply decoded.
pub fn call(id: u64, from: u32, to: u32, method: Method, sent: u64, lag: (u64, u64)) -> Message {
    Message {
        id,
        from,
        to,
        method,
        path: None,
        req: None,
        reply: None,
        error: None,
        sent_us: sent,
        delivered_us: Some(sent + lag.0),
        replied_us: Some(sent + lag.1),
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
        ..call(t, from, to, method, t, (1, 2))
    }
}

/// Leader `leader`'s AppendEntries request in `term`: `entries` (index, term) after
/// `prev` (prevLogIndex, prevLogTerm), leaderCommit `commit`.
pub fn append_request(
    term: i64,
    leader: u32,
    prev: (i64, i64),
    entries: &[(i64, i64)],
    commit: i64,
) -> Request {
    Request::Append {
        term,
        leader: leader.into(),
        prev_log_index: prev.0,
        prev_log_term: prev.1,
        entries: entries.len() as u32,
        first: entries.first().copied(),
        last: entries.last().copied(),
        leader_commit: commit,
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
        req: Some(append_request(term, from, prev, entries, commit)),
        reply: Some(Reply::Append {
            term,
            success,
            conflict_index: None,
            conflict_term: None,
        }),
        ..call(t, from, to, Method::AppendEntries, t, (1, 2))
    }
}

/// A node of kind `kind` that writes a journal; `data_dir`: it keeps its state.
pub fn node(id: u32, kind: &str, data_dir: bool) -> NodeInfo {
    NodeInfo {
        id,
        kind: kind.into(),
        journal: true,
        data_dir,
    }
}

/// Nodes 1..=n of kind `k`, each keeping its data dir.
pub fn nodes(n: u32) -> Vec<NodeInfo> {
    (1..=n).map(|id| node(id, "k", true)).collect()
}

/// Evidence of a run with RPC-aware links: only its calls.
pub fn traced(messages: Vec<Message>) -> Evidence {
    Evidence::default().with_trace(messages)
}

/// Evidence of a run of nodes 1..=n ([`nodes`]) with RPC-aware links: its calls.
pub fn traced_nodes(n: u32, messages: Vec<Message>) -> Evidence {
    traced(messages).with_nodes(nodes(n))
}

/// Evidence with one kind of evidence set: `Evidence::default().with_history(…)`.
impl Evidence {
    pub fn with_history(self, history: Vec<Op>) -> Self {
        Evidence { history, ..self }
    }
    pub fn with_statuses(self, statuses: Vec<StatusSample>) -> Self {
        Evidence { statuses, ..self }
    }
    pub fn with_logs(self, logs: Vec<LogSnapshot>) -> Self {
        Evidence { logs, ..self }
    }
    pub fn with_final_logs(self, final_logs: Vec<LogSnapshot>) -> Self {
        Evidence { final_logs, ..self }
    }
    pub fn with_nodes(self, nodes: Vec<NodeInfo>) -> Self {
        Evidence { nodes, ..self }
    }
    /// The calls of `messages.jsonl` (the run had RPC-aware links).
    pub fn with_trace(self, messages: Vec<Message>) -> Self {
        Evidence {
            messages: Some(messages),
            ..self
        }
    }
    /// Adds (or replaces) the journal of `node`.
    pub fn with_journal(mut self, node: u32, events: Vec<Event>) -> Self {
        self.journals.insert(node, events);
        self
    }
}

/// Asserts the verdict's status and that its summary contains every one of `parts`.
#[track_caller]
pub fn assert_verdict(r: &CheckResult, status: Status, parts: &[&str]) {
    assert_eq!(r.status, status, "{r:?}");
    for p in parts {
        assert_text(&r.summary, r.summary.contains(p), "summary lacks", p);
    }
}

/// Asserts the verdict's status and that its summary starts with `prefix`.
#[track_caller]
pub fn assert_summary_starts(r: &CheckResult, status: Status, prefix: &str) {
    assert_eq!(r.status, status, "{r:?}");
    let holds = r.summary.starts_with(prefix);
    assert_text(&r.summary, holds, "summary does not start with", prefix);
}

/// Asserts the verdict's status and that what it rests on contains `part`.
#[track_caller]
pub fn assert_based_on(r: &CheckResult, status: Status, part: &str) {
    assert_eq!(r.status, status, "{r:?}");
    assert_text(
        &r.based_on,
        r.based_on.contains(part),
        "based_on lacks",
        part,
    );
}

#[track_caller]
fn assert_text(text: &str, holds: bool, what: &str, part: &str) {
    assert!(holds, "{what} {part:?}: {text}");
}

mod tests {
    use super::*;

    #[test]
    fn assertions_reject_a_wrong_status_or_a_missing_part() {
        let mut r =
            CheckResult::new("x", "3 samples").with_violations(vec!["node 2 bad".into()], "");
        r.based_on = "3 samples".into();
        let fails =
            |f: &dyn Fn()| std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err();
        assert!(!fails(&|| assert_verdict(
            &r,
            Status::Fail,
            &["node 2", "bad"]
        )));
        assert!(fails(&|| assert_verdict(&r, Status::Pass, &[])));
        assert!(fails(&|| assert_verdict(&r, Status::Fail, &["node 3"])));
        assert!(!fails(&|| assert_summary_starts(
            &r,
            Status::Fail,
            "node 2"
        )));
        assert!(fails(&|| assert_summary_starts(&r, Status::Fail, "bad")));
        assert!(!fails(&|| assert_based_on(&r, Status::Fail, "3 samples")));
        assert!(fails(&|| assert_based_on(&r, Status::Fail, "4 samples")));
    }

    #[test]
    fn history_numbers_ops_in_order() {
        let h = history([ok(1, "SET k 1", (0, 5), Some("OK")), info(2, "GET k", 3)]);
        assert_eq!(h.iter().map(|o| o.id).collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!((h[1].outcome, h[1].complete_us), (Outcome::Info, None));
    }
}

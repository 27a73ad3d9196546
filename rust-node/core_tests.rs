//! Tests that drive the core message by message, with no sockets or clocks (in the style of
//! etcd raft's `raft_paper_test.go`). Each test is named after, and quotes, the rule of the
//! Raft paper (Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm") it
//! checks, in init / act / check form.

use super::*;
use std::collections::VecDeque;

pub(super) const TIMEOUT: u64 = 1000;

/// The election timeout range of the tests; the initial drawn timeout is its minimum, `TIMEOUT`.
const RANGE: (u64, u64) = (TIMEOUT, 2 * TIMEOUT);

/// The Raft paper's algorithm: pre-vote and check-quorum (thesis §9.6) off, so each test of a
/// paper rule sees exactly that rule. Their own tests use [`config_pv`].
pub(super) fn config(id: NodeId, n: i32) -> Config {
    Config {
        id,
        peers: (1..=n).filter(|&p| p != id).collect(),
        heartbeat_ms: 50,
        rpc_timeout_ms: 100,
        max_entries_per_append: 3,
        max_inflight_appends: 1,
        election_timeout_ms: RANGE,
        pre_vote: false,
        check_quorum: false,
    }
}

/// As the node runs: pre-vote and check-quorum on.
fn config_pv(id: NodeId, n: i32) -> Config {
    Config {
        pre_vote: true,
        check_quorum: true,
        ..config(id, n)
    }
}

fn e(index: i32, term: i32, command: &str) -> Entry {
    Entry {
        index,
        term,
        command: command.into(),
    }
}

/// A log whose entry i has term `terms[i]`.
pub(super) fn log_of(terms: &[i32]) -> Vec<Entry> {
    terms
        .iter()
        .enumerate()
        .map(|(i, &t)| e(i as i32, t, &format!("c{i}")))
        .collect()
}

/// An AppendEntries request (Figure 2) from `leader_id` in `term`: `entries` following the entry
/// at `prev` = (prevLogIndex, prevLogTerm), with leaderCommit `leader_commit`.
fn append_req(
    term: i32,
    leader_id: NodeId,
    prev: (i32, i32),
    entries: Vec<Entry>,
    leader_commit: i32,
) -> AppendRequest {
    let (prev_log_index, prev_log_term) = prev;
    AppendRequest {
        term,
        leader_id,
        prev_log_index,
        prev_log_term,
        entries,
        leader_commit,
    }
}

/// A reply of `term` to an AppendEntries, without conflict hints (§5.3).
pub(super) fn append_reply(term: i32, success: bool) -> AppendResponse {
    AppendResponse {
        term,
        success,
        conflict_index: None,
        conflict_term: None,
    }
}

/// What the driver hands back for an append of `term` at `prev_log_index` carrying `n_entries`
/// (read round 0).
pub(super) fn append_sent(term: i32, prev_log_index: i32, n_entries: i32) -> AppendSent {
    AppendSent {
        term,
        prev_log_index,
        n_entries,
        read_seq: 0,
    }
}

fn node(id: NodeId, n: i32) -> Core {
    let mut c = Core::new(config(id, n), HardState::default(), vec![], 0, TIMEOUT);
    c.take_ready();
    c
}

/// A core with `cfg` restarted in `term` (no vote) with `log`, its first Ready taken.
fn restarted(cfg: Config, term: i32, log: Vec<Entry>) -> Core {
    let hs = HardState {
        term,
        voted_for: NONE,
    };
    let mut c = Core::new(cfg, hs, log, 0, TIMEOUT);
    c.take_ready();
    c
}

fn node_with(id: NodeId, n: i32, term: i32, log: Vec<Entry>) -> Core {
    restarted(config(id, n), term, log)
}

/// A hand-cranked network: messages wait in a queue until `run` delivers them.
struct Net {
    nodes: BTreeMap<NodeId, Core>,
    queue: VecDeque<(NodeId, NodeId, Message)>,
    now: u64,
    cut: BTreeSet<NodeId>,
    strip_hints: bool,
    /// Nodes that answer PreVote with `UNIMPLEMENTED` (servers of the original protocol).
    no_prevote_rpc: BTreeSet<NodeId>,
    rejections: usize,
    applied: BTreeMap<NodeId, Vec<Entry>>,
    events: BTreeMap<NodeId, Vec<Event>>,
}

impl Net {
    fn new(cores: Vec<Core>) -> Net {
        Net {
            nodes: cores.into_iter().map(|c| (c.cfg.id, c)).collect(),
            queue: VecDeque::new(),
            now: 0,
            cut: BTreeSet::new(),
            strip_hints: false,
            no_prevote_rpc: BTreeSet::new(),
            rejections: 0,
            applied: BTreeMap::new(),
            events: BTreeMap::new(),
        }
    }

    fn of(n: i32) -> Net {
        Net::new((1..=n).map(|id| node(id, n)).collect())
    }

    fn collect(&mut self, id: NodeId) {
        let ready = self.nodes.get_mut(&id).unwrap().take_ready();
        for (to, m) in ready.messages {
            self.queue.push_back((id, to, m));
        }
        self.applied.entry(id).or_default().extend(ready.committed);
        self.events.entry(id).or_default().extend(ready.events);
    }

    fn tick(&mut self, id: NodeId, now: u64) {
        self.now = now;
        self.nodes.get_mut(&id).unwrap().tick(now);
        self.collect(id);
    }

    /// Node `id` times out (nobody else does) and the network runs to quiescence.
    fn elect(&mut self, id: NodeId) {
        let now = self.now + 10 * TIMEOUT;
        self.tick(id, now);
        self.run();
    }

    fn propose(&mut self, id: NodeId, cmd: &str) -> Result<(i32, i32), NotLeader> {
        let now = self.now;
        let r = self.nodes.get_mut(&id).unwrap().propose(now, cmd.into());
        self.collect(id);
        r
    }

    fn heartbeat(&mut self, leader: NodeId) {
        let now = self.now + 100;
        self.tick(leader, now);
        self.run();
    }

    fn run(&mut self) {
        let mut steps = 0;
        while let Some((from, to, msg)) = self.queue.pop_front() {
            steps += 1;
            assert!(steps < 10_000, "network did not quiesce");
            let now = self.now;
            if self.cut.contains(&from) || self.cut.contains(&to) {
                if let Message::Append(_, sent) = msg {
                    let n = self.nodes.get_mut(&from).unwrap();
                    n.handle_send_failure(now, to, Some(sent));
                }
                continue;
            }
            match msg {
                Message::Vote(req) => {
                    let resp = self
                        .nodes
                        .get_mut(&to)
                        .unwrap()
                        .handle_vote_request(now, &req);
                    self.collect(to);
                    let n = self.nodes.get_mut(&from).unwrap();
                    n.handle_vote_response(now, to, &resp);
                    self.collect(from);
                }
                Message::PreVote(req) => {
                    let reply = if self.no_prevote_rpc.contains(&to) {
                        PreVoteReply::Unimplemented
                    } else {
                        let to_node = self.nodes.get_mut(&to).unwrap();
                        let resp = to_node.handle_prevote_request(now, &req);
                        self.collect(to);
                        PreVoteReply::Answer(resp)
                    };
                    let n = self.nodes.get_mut(&from).unwrap();
                    n.handle_prevote_response(now, to, req.term, &reply);
                    self.collect(from);
                }
                Message::Append(req, sent) => {
                    let mut resp = self
                        .nodes
                        .get_mut(&to)
                        .unwrap()
                        .handle_append_request(now, &req);
                    self.collect(to);
                    if !resp.success {
                        self.rejections += 1;
                    }
                    if self.strip_hints {
                        resp.conflict_index = None;
                        resp.conflict_term = None;
                    }
                    let n = self.nodes.get_mut(&from).unwrap();
                    n.handle_append_response(now, to, sent, &resp);
                    self.collect(from);
                }
            }
        }
    }

    fn leaders(&self) -> Vec<NodeId> {
        self.nodes
            .values()
            .filter(|c| c.role() == Role::Leader)
            .map(|c| c.cfg.id)
            .collect()
    }

    fn n(&self, id: NodeId) -> &Core {
        &self.nodes[&id]
    }
}

/// Node 1 of a 3-node network right after it won the election, taken out of the network
/// (its peers are gone), its Ready taken.
fn leader_of_3() -> Core {
    let mut net = Net::of(3);
    net.elect(1);
    let mut leader = net.nodes.remove(&1).unwrap();
    leader.take_ready();
    leader
}

// ----- §5.2 Leader election -----

/// §5.2: "A candidate wins an election if it receives votes from a majority of the servers in
/// the full cluster for the same term." and "Once a candidate wins an election, it becomes
/// leader. It then sends heartbeat messages to all of the other servers".
#[test]
fn test_candidate_with_majority_becomes_the_single_leader() {
    let mut net = Net::of(3);
    net.elect(2);
    assert_eq!(net.leaders(), vec![2]);
    for id in 1..=3 {
        assert_eq!(net.n(id).term(), 1);
        assert_eq!(net.n(id).leader_id(), 2, "node {id} knows the leader");
    }
    assert_eq!(net.n(1).role(), Role::Follower);
    assert_eq!(net.n(3).role(), Role::Follower);
}

/// Figure 2, Followers: "If election timeout elapses without receiving AppendEntries RPC from
/// current leader or granting vote to candidate: convert to candidate".
#[test]
fn test_follower_starts_election_only_after_timeout_without_heartbeat() {
    let mut c = node(1, 3);
    c.tick(TIMEOUT - 1);
    assert_eq!(c.role(), Role::Follower);
    let hb = heartbeat_from(2, 1);
    assert!(c.handle_append_request(TIMEOUT - 1, &hb).success);
    assert!(c.take_ready().reset_timer, "heartbeat restarts the timer");
    c.tick(2 * TIMEOUT - 2);
    assert_eq!(c.role(), Role::Follower);
    c.tick(2 * TIMEOUT - 1);
    assert_eq!(c.role(), Role::Candidate);
    assert_eq!(c.term(), 2);
    let r = c.take_ready();
    assert_eq!(
        r.hard_state,
        Some(HardState {
            term: 2,
            voted_for: 1
        }),
        "the candidate's own vote is persisted"
    );
    assert!(r.events.contains(&Event::Vote {
        term: 2,
        candidate: 1
    }));
    let votes: Vec<NodeId> = r.messages.iter().map(|(to, _)| *to).collect();
    assert_eq!(votes, vec![2, 3]);
}

/// §5.2: "if many followers become candidates at the same time, votes could be split so that no
/// candidate obtains a majority. When this happens, each candidate will time out and start a new
/// election by incrementing its term".
#[test]
fn test_split_vote_leaves_no_leader_and_next_timeout_resolves_it() {
    let mut net = Net::of(4);
    // Nodes 1 and 2 time out together; 3 hears from 1 first, 4 from 2 first.
    net.tick(1, 10 * TIMEOUT);
    net.tick(2, 10 * TIMEOUT);
    let mut q: Vec<_> = net.queue.drain(..).collect();
    q.sort_by_key(|(from, to, _)| match (from, to) {
        (1, 3) | (2, 4) => 0,
        _ => 1,
    });
    net.queue.extend(q);
    net.run();
    assert!(net.leaders().is_empty(), "2 of 4 votes is not a majority");
    assert_eq!(net.n(1).role(), Role::Candidate);
    assert_eq!(net.n(2).role(), Role::Candidate);
    // Randomized timeouts: node 1 times out first in term 1 and wins term 2.
    net.tick(1, 20 * TIMEOUT);
    net.run();
    assert_eq!(net.leaders(), vec![1]);
    assert!(net.nodes.values().all(|c| c.term() == 2));
}

/// §5.2: "Each server will vote for at most one candidate in a given term, on a
/// first-come-first-served basis".
#[test]
fn test_vote_at_most_one_candidate_per_term() {
    let mut c = node(1, 3);
    let req = |cand, term| VoteRequest {
        term,
        candidate_id: cand,
        last_log_index: -1,
        last_log_term: 0,
    };
    assert!(c.handle_vote_request(0, &req(2, 1)).vote_granted);
    let r = c.take_ready();
    assert_eq!(
        r.hard_state,
        Some(HardState {
            term: 1,
            voted_for: 2
        }),
        "the vote is made durable before the reply"
    );
    assert!(!c.handle_vote_request(0, &req(3, 1)).vote_granted);
    assert!(
        c.handle_vote_request(0, &req(2, 1)).vote_granted,
        "a repeated request from the same candidate is granted again"
    );
    assert!(
        c.handle_vote_request(0, &req(3, 2)).vote_granted,
        "new term"
    );
    assert_eq!(c.voted_for(), 3);
}

/// §5.4.1: "If the logs have last entries with different terms, then the log with the later term
/// is more up-to-date. If the logs end with the same term, then whichever log is longer is more
/// up-to-date." and "the voter denies its vote if its own log is more up-to-date than that of the
/// candidate".
#[test]
fn test_vote_denied_to_candidate_with_less_up_to_date_log() {
    // Our log: terms [1, 2] -> last index 1, last term 2. (index, term, granted)
    let cases = [
        (5, 1, false), // longer but older last term
        (0, 2, false), // same last term, shorter
        (1, 2, true),  // same last term, same length
        (2, 2, true),  // same last term, longer
        (0, 3, true),  // later last term, shorter
    ];
    for (i, (idx, t, want)) in cases.into_iter().enumerate() {
        let mut c = node_with(1, 3, 2, log_of(&[1, 2]));
        let req = VoteRequest {
            term: 3,
            candidate_id: 2,
            last_log_index: idx,
            last_log_term: t,
        };
        let resp = c.handle_vote_request(0, &req);
        assert_eq!(resp.vote_granted, want, "case {i}: ({idx}, {t})");
        assert_eq!(resp.term, 3);
    }
}

/// §5.1: "If a server receives a request with a stale term number, it rejects the request."
#[test]
fn test_requests_with_stale_term_are_rejected() {
    let mut c = node_with(1, 3, 5, vec![]);
    let vote = VoteRequest {
        term: 4,
        candidate_id: 2,
        last_log_index: 10,
        last_log_term: 4,
    };
    let v = c.handle_vote_request(0, &vote);
    assert!(!v.vote_granted);
    assert_eq!(v.term, 5);
    let app = append_req(4, 2, (-1, 0), vec![e(0, 4, "x")], 0);
    let a = c.handle_append_request(0, &app);
    assert!(!a.success);
    assert_eq!(a.term, 5);
    assert!(c.log().is_empty());
    assert_eq!(c.leader_id(), NONE);
}

/// §5.1: "If a candidate or leader discovers that its term is out of date, it immediately reverts
/// to follower state." (Figure 2: "set currentTerm = T, convert to follower").
#[test]
fn test_leader_steps_down_on_response_with_higher_term() {
    let mut leader = leader_of_3();
    leader.handle_append_response(0, 2, append_sent(1, -1, 0), &append_reply(7, false));
    assert_eq!(leader.role(), Role::Follower);
    assert_eq!(leader.term(), 7);
    assert_eq!(leader.voted_for(), NONE);
    assert_eq!(leader.leader_id(), NONE);
    let r = leader.take_ready();
    assert_eq!(
        r.hard_state,
        Some(HardState {
            term: 7,
            voted_for: NONE
        })
    );
    assert_eq!(
        r.events,
        vec![
            Event::Term { term: 7 },
            Event::Role {
                role: Role::Follower,
                term: 7
            }
        ]
    );
    assert!(leader.propose(0, "SET a 1".into()).is_err());
}

/// Figure 2, Rules for Servers: a server that "convert[s] to follower" on a higher term becomes a
/// follower like any other: its election timer starts when it steps down, not when it last reset
/// it as a candidate (which, for a long-serving leader, is long past).
#[test]
fn test_deposed_leader_waits_a_full_election_timeout_before_campaigning() {
    let mut leader = leader_of_3();
    let later = 50 * TIMEOUT;
    leader.tick(later);
    leader.take_ready();
    let sent = append_sent(leader.term(), -1, 0);
    let resp = append_reply(leader.term() + 1, false);
    leader.handle_append_response(later, 2, sent, &resp);
    assert_eq!(leader.role(), Role::Follower);
    let stepped_down = leader.take_ready();
    assert!(
        stepped_down.reset_timer,
        "a fresh timeout is drawn on stepping down"
    );
    let term = leader.term();
    leader.tick(later + 9);
    assert_eq!(
        leader.role(),
        Role::Follower,
        "no election 9 ms after stepping down"
    );
    leader.tick(later + TIMEOUT - 1);
    assert_eq!(leader.term(), term, "still no election within one timeout");
    leader.tick(later + TIMEOUT);
    assert_eq!(
        leader.role(),
        Role::Candidate,
        "a full timeout later it may campaign"
    );
}

/// §5.2: "If the AppendEntries RPC is from another server claiming to be leader and the leader's
/// term is at least as large as the candidate's current term, then the candidate recognizes the
/// leader as legitimate and returns to follower state."
#[test]
fn test_candidate_returns_to_follower_on_append_of_same_term() {
    let mut c = node(1, 3);
    c.tick(TIMEOUT);
    assert_eq!(c.role(), Role::Candidate);
    let hb = heartbeat_from(3, 1);
    assert!(c.handle_append_request(TIMEOUT, &hb).success);
    assert_eq!(c.role(), Role::Follower);
    assert_eq!(c.leader_id(), 3);
    assert_eq!(c.voted_for(), 1, "same term: the vote stays");
}

// ----- §5.3 Log replication -----

/// Figure 2, AppendEntries receiver 2: "Reply false if log doesn't contain an entry at
/// prevLogIndex whose term matches prevLogTerm", with the §5.3 optimization: "the follower can
/// include the term of the conflicting entry and the first index it stores for that term".
#[test]
fn test_append_rejection_carries_conflict_hints() {
    let mut c = node_with(1, 3, 3, log_of(&[1, 2, 2, 2]));
    let req = |prev, prev_term| append_req(3, 2, (prev, prev_term), vec![], -1);
    let short = c.handle_append_request(0, &req(6, 3));
    assert!(!short.success);
    assert_eq!((short.conflict_index, short.conflict_term), (Some(4), None));
    let mismatch = c.handle_append_request(0, &req(3, 3));
    assert!(!mismatch.success);
    assert_eq!(
        (mismatch.conflict_index, mismatch.conflict_term),
        (Some(1), Some(2))
    );
    assert_eq!(c.log().len(), 4, "a rejection never changes the log");
}

/// Figure 2, AppendEntries receiver 3: "If an existing entry conflicts with a new one (same index
/// but different terms), delete the existing entry and all that follow it" — and only then: a
/// stale, reordered request whose entries already match must not truncate.
#[test]
fn test_append_truncates_only_on_term_conflict() {
    let mut c = node_with(1, 3, 2, log_of(&[1, 1, 2]));
    let stale = append_req(2, 2, (-1, 0), vec![e(0, 1, "c0")], -1);
    assert!(c.handle_append_request(0, &stale).success);
    assert_eq!(c.log().len(), 3);
    let r = c.take_ready();
    assert!(r.log_ops.is_empty());
    assert!(!r.events.iter().any(|e| matches!(e, Event::Truncate { .. })));

    let conflicting = append_req(3, 3, (0, 1), vec![e(1, 3, "new")], -1);
    assert!(c.handle_append_request(0, &conflicting).success);
    assert_eq!(c.log(), &[e(0, 1, "c0"), e(1, 3, "new")][..]);
    let r = c.take_ready();
    assert_eq!(
        r.log_ops,
        vec![
            LogOp::Truncate { from_index: 1 },
            LogOp::Append(vec![e(1, 3, "new")])
        ],
        "the truncation and the new entry are persisted before the ack"
    );
    assert!(r.events.contains(&Event::Truncate { from_index: 1 }));
}

/// Figure 2, AppendEntries receiver 5: "If leaderCommit > commitIndex, set commitIndex =
/// min(leaderCommit, index of last new entry)".
#[test]
fn test_follower_commit_is_min_of_leader_commit_and_last_new_entry() {
    let mut c = node_with(1, 3, 1, log_of(&[1, 1, 1, 1]));
    let req = append_req(1, 2, (0, 1), vec![e(1, 1, "c1")], 3);
    assert!(c.handle_append_request(0, &req).success);
    assert_eq!(
        c.commit_index(),
        1,
        "entries 2..3 were not checked by this request"
    );
    let r = c.take_ready();
    assert_eq!(r.committed, vec![e(0, 1, "c0"), e(1, 1, "c1")]);
}

/// Figure 7's leader and a follower that diverged (case (f): extra uncommitted entries of terms
/// 2 and 3). §5.3: "the leader decrements nextIndex and retries the AppendEntries RPC. Eventually
/// nextIndex will reach a point where the leader and follower logs match." With conflict hints
/// one rejection per conflicting term suffices.
#[test]
fn test_leader_brings_divergent_follower_log_in_line_with_hints() {
    let (leader_log, f_log) = figure7_f();
    let mut net = Net::new(vec![
        node_with(1, 3, 6, leader_log.clone()),
        node_with(2, 3, 3, f_log.clone()),
        node_with(3, 3, 6, leader_log.clone()),
    ]);
    net.cut.insert(2);
    net.elect(1);
    net.cut.clear();
    net.heartbeat(1);
    assert_eq!(net.n(2).log(), net.n(1).log());
    let hinted = net.rejections;
    assert!(hinted <= 3, "hints skip whole terms: {hinted} rejections");

    // The same with an old peer that sends no hints: one index at a time.
    let mut net = Net::new(vec![
        node_with(1, 3, 6, leader_log.clone()),
        node_with(2, 3, 3, f_log),
        node_with(3, 3, 6, leader_log),
    ]);
    net.strip_hints = true;
    net.cut.insert(2);
    net.elect(1);
    net.cut.clear();
    net.heartbeat(1);
    assert_eq!(net.n(2).log(), net.n(1).log());
    assert!(
        net.rejections > hinted,
        "without hints: {} rejections",
        net.rejections
    );
    assert_eq!(
        net.rejections, 7,
        "nextIndex 10 walks back to 3, one per rejection"
    );
}

fn figure7_f() -> (Vec<Entry>, Vec<Entry>) {
    // 0-based versions of Figure 7's leader (term 8 after election) and follower (f).
    let leader = log_of(&[1, 1, 1, 4, 4, 5, 5, 6, 6, 6]);
    let f = log_of(&[1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]);
    (leader, f)
}

/// §5.3: "When the entry has been safely replicated, the leader applies the entry to its state
/// machine" and Figure 2, All Servers: "If commitIndex > lastApplied: increment lastApplied,
/// apply log[lastApplied] to state machine" — in log order, exactly once, never before commit.
#[test]
fn test_entries_apply_in_log_order_once_and_only_after_commit() {
    let mut net = Net::of(3);
    net.elect(1);
    net.cut.insert(2);
    net.cut.insert(3);
    let (i1, t1) = net.propose(1, "SET a 1").unwrap();
    let (i2, _) = net.propose(1, "SET b 2").unwrap();
    let (i3, _) = net.propose(1, "GET a").unwrap();
    net.run();
    assert_eq!((i1, t1), (1, 1), "index 0 is the leader's no-op");
    assert_eq!(
        net.n(1).commit_index(),
        0,
        "nothing commits without a majority"
    );
    assert_eq!(net.applied[&1].len(), 1);
    net.cut.clear();
    for _ in 0..3 {
        net.heartbeat(1);
    }
    let cmds = |id| -> Vec<(i32, String)> {
        net.applied[&id]
            .iter()
            .map(|e| (e.index, e.command.clone()))
            .collect()
    };
    let want = vec![
        (0, String::new()),
        (i1, "SET a 1".to_string()),
        (i2, "SET b 2".to_string()),
        (i3, "GET a".to_string()),
    ];
    for id in 1..=3 {
        assert_eq!(cmds(id), want, "node {id}");
        assert_eq!(net.n(id).last_applied(), 3);
    }
}

/// A new leader appends a no-op of its term first (Raft §8: "each leader commit a blank no-op
/// entry into the log at the start of its term"), and a leader persists its own entry in the
/// same Ready, before any message that lets it count itself.
#[test]
fn test_new_leader_appends_noop_and_persists_own_entries() {
    let mut c = node(1, 1);
    c.tick(TIMEOUT);
    assert_eq!(c.role(), Role::Leader);
    let r = c.take_ready();
    assert_eq!(r.log_ops, vec![LogOp::Append(vec![e(0, 1, "")])]);
    assert_eq!(
        r.committed,
        vec![e(0, 1, "")],
        "a cluster of one commits alone"
    );
    let (idx, _) = c.propose(TIMEOUT, "SET a 1".into()).unwrap();
    let r = c.take_ready();
    assert_eq!(r.log_ops, vec![LogOp::Append(vec![e(idx, 1, "SET a 1")])]);
    assert_eq!(r.committed, vec![e(idx, 1, "SET a 1")]);
}

// ----- §5.4.2 Committing entries from previous terms (Figure 8) -----

/// §5.4.2: "Raft never commits log entries from previous terms by counting replicas. Only log
/// entries from the leader's current term are committed by counting replicas; once an entry from
/// the current term has been committed in this way, then all prior entries are committed
/// indirectly because of the Log Matching Property."
#[test]
fn test_figure8_leader_does_not_commit_earlier_term_entry_by_counting_replicas() {
    // Figure 8 (c): S1 is leader again (term 4) with the term-2 entry at index 1 that S2 has too.
    let old = log_of(&[1, 2]);
    let mut leader = node_with(1, 5, 3, old);
    leader.tick(TIMEOUT);
    for peer in [2, 3] {
        let granted = VoteResponse {
            term: 4,
            vote_granted: true,
        };
        leader.handle_vote_response(TIMEOUT, peer, &granted);
    }
    assert_eq!(leader.role(), Role::Leader);
    assert_eq!(leader.term(), 4);
    leader.take_ready();
    let ok = append_reply(4, true);
    // S2 and S3 now hold index 1 (term 2): a majority of 5 with S1, but of an old term.
    let through_1 = append_sent(4, 0, 1);
    leader.handle_append_response(TIMEOUT, 2, through_1, &ok);
    leader.handle_append_response(TIMEOUT, 3, through_1, &ok);
    assert_eq!(leader.match_index(2), Some(1));
    assert_eq!(leader.match_index(3), Some(1));
    assert_eq!(
        leader.commit_index(),
        -1,
        "term-2 entry must not commit by counting"
    );
    assert!(leader.take_ready().committed.is_empty());
    // Once the term-4 no-op at index 2 reaches the same majority, both commit together.
    let through_2 = append_sent(4, 1, 1);
    leader.handle_append_response(TIMEOUT, 2, through_2, &ok);
    assert_eq!(leader.commit_index(), -1, "two of five is not a majority");
    leader.handle_append_response(TIMEOUT, 3, through_2, &ok);
    assert_eq!(leader.commit_index(), 2);
    let r = leader.take_ready();
    assert_eq!(r.events, vec![Event::Commit { index: 2 }]);
    let applied: Vec<i32> = r.committed.iter().map(|e| e.index).collect();
    assert_eq!(applied, vec![0, 1, 2]);
}

/// §5.4.2 scenario end to end: a leader of term 2 replicates its entry to one follower only and
/// crashes; the next leader (term 3) must not lose a committed entry or commit the old one
/// alone: it commits it only through its own no-op, and a node without it cannot win.
#[test]
fn test_figure8_old_entry_survives_only_through_current_term_commit() {
    let mut net = Net::of(5);
    net.elect(1);
    net.heartbeat(1); // no-op of term 1 committed everywhere
    net.cut.extend([3, 4, 5]);
    net.propose(1, "SET x 1").unwrap();
    net.run();
    assert_eq!(net.n(2).log().len(), 2, "S2 has S1's uncommitted entry");
    assert_eq!(net.n(1).commit_index(), 0);
    // S1 crashes; S2 (which holds the entry) wins with the votes of S3, S4, S5.
    net.cut = BTreeSet::from([1]);
    net.elect(2);
    assert_eq!(net.n(2).role(), Role::Leader);
    assert_eq!(net.n(2).term(), 2);
    net.heartbeat(2);
    let c = net.n(2).commit_index();
    assert_eq!(c, 2, "old entry (1) commits with the term-2 no-op (2)");
    assert_eq!(net.n(3).log()[1].command, "SET x 1");
}

// ----- Figure 2: persistence before replies -----

/// Figure 2: "Persistent state on all servers (Updated on stable storage before responding to
/// RPCs)": an acknowledged append has its entries in the same Ready as the ack.
#[test]
fn test_append_ack_comes_with_the_entries_to_persist() {
    let mut c = node(1, 3);
    let req = append_req(1, 2, (-1, 0), vec![e(0, 1, ""), e(1, 1, "SET a 1")], -1);
    assert!(c.handle_append_request(0, &req).success);
    let r = c.take_ready();
    assert_eq!(
        r.hard_state,
        Some(HardState {
            term: 1,
            voted_for: NONE
        })
    );
    assert_eq!(
        r.log_ops,
        vec![LogOp::Append(vec![e(0, 1, ""), e(1, 1, "SET a 1")])]
    );
}

/// Figure 2, Leaders: "send initial empty AppendEntries RPCs (heartbeat) to each server; repeat
/// during idle periods to prevent election timeouts (§5.2)" — and keep doing so while an append
/// with entries is outstanding, so one lost RPC cannot push a follower into an election. Lost
/// entries are resent once the in-flight append is presumed lost.
#[test]
fn test_heartbeats_continue_while_an_append_is_lost_in_flight() {
    let mut net = Net::of(3);
    net.elect(1);
    net.heartbeat(1);
    assert_eq!(net.n(1).commit_index(), 0);
    net.propose(1, "SET a 1").unwrap();
    net.queue.clear(); // both appends are lost
    let t0 = net.now;
    net.tick(1, t0 + 60);
    let sent: Vec<(NodeId, i32, usize)> = net
        .queue
        .iter()
        .map(|(_, to, m)| match m {
            Message::Append(a, _) => (*to, a.prev_log_index, a.entries.len()),
            Message::Vote(_) | Message::PreVote(_) => panic!("leader sends no votes"),
        })
        .collect();
    assert_eq!(
        sent,
        vec![(2, 0, 0), (3, 0, 0)],
        "empty heartbeats anchored at matchIndex"
    );
    net.run();
    assert_eq!(net.n(1).commit_index(), 0, "the entry itself was lost");
    assert_eq!(net.n(2).leader_id(), 1);
    // rpc_timeout_ms = 100: after 2x that, the lost append is presumed lost and resent.
    net.tick(1, t0 + 250);
    net.run();
    assert_eq!(net.n(1).commit_index(), 1);
}

// ----- Thesis §9.6: pre-vote and check-quorum (docs/node-contract.md) -----

fn node_pv(id: NodeId, n: i32, term: i32, log: Vec<Entry>) -> Core {
    restarted(config_pv(id, n), term, log)
}

/// Node 1 of `n` in `term` (pre-vote on, empty log) whose election timer has fired: its pre-vote
/// round for `term + 1` is sent, the Ready taken.
fn prevote_round_started(n: i32, term: i32) -> Core {
    let mut c = node_pv(1, n, term, vec![]);
    c.tick(TIMEOUT);
    c.take_ready();
    c
}

fn net_pv(n: i32) -> Net {
    Net::new((1..=n).map(|id| node_pv(id, n, 0, vec![])).collect())
}

/// A pre-vote network of `n` nodes in which node 1 was elected and is the only leader.
fn net_pv_led_by_1(n: i32) -> Net {
    let mut net = net_pv(n);
    net.elect(1);
    assert_eq!(net.leaders(), vec![1]);
    net
}

/// A peer's answer to a pre-vote: its `term` and whether it grants (thesis §9.6).
fn prevote_answer(term: i32, vote_granted: bool) -> PreVoteReply {
    PreVoteReply::Answer(VoteResponse { term, vote_granted })
}

fn prevote_req(term: i32, from: NodeId, last_index: i32, last_term: i32) -> VoteRequest {
    VoteRequest {
        term,
        candidate_id: from,
        last_log_index: last_index,
        last_log_term: last_term,
    }
}

fn heartbeat_from(leader: NodeId, term: i32) -> AppendRequest {
    append_req(term, leader, (-1, 0), vec![], -1)
}

/// §9.6: a node grants a pre-vote to an up-to-date sender of a later term when it has heard
/// from no leader; "Answering a PreVote changes nothing" (contract): no term, vote, timer or
/// journal effect.
#[test]
fn test_prevote_granted_changes_nothing() {
    let mut c = node_pv(1, 3, 2, log_of(&[1, 2]));
    let resp = c.handle_prevote_request(5 * TIMEOUT, &prevote_req(3, 2, 1, 2));
    assert!(resp.vote_granted);
    assert_eq!(resp.term, 2, "the reply carries the receiver's currentTerm");
    assert_eq!(c.term(), 2, "no term adoption");
    assert_eq!(c.voted_for(), NONE, "no vote");
    assert_eq!(
        c.take_ready(),
        Ready::default(),
        "nothing persisted, journaled or reset"
    );
}

/// §9.6: the pre-vote is for a later term only ("term > currentTerm").
#[test]
fn test_prevote_refused_for_a_term_not_above_current() {
    let mut c = node_pv(1, 3, 5, vec![]);
    for term in [4, 5] {
        let resp = c.handle_prevote_request(0, &prevote_req(term, 2, 10, 4));
        assert!(!resp.vote_granted, "term {term} against currentTerm 5");
        assert_eq!(resp.term, 5);
    }
    assert!(
        c.handle_prevote_request(0, &prevote_req(6, 2, -1, 0))
            .vote_granted
    );
}

/// §9.6 with §5.4.1: a pre-vote needs the RequestVote log rule ("at least as up-to-date").
#[test]
fn test_prevote_refused_to_less_up_to_date_log() {
    let cases = [(5, 1, false), (0, 2, false), (1, 2, true), (0, 3, true)];
    for (i, (idx, t, want)) in cases.into_iter().enumerate() {
        let mut c = node_pv(1, 3, 2, log_of(&[1, 2]));
        let resp = c.handle_prevote_request(0, &prevote_req(3, 2, idx, t));
        assert_eq!(resp.vote_granted, want, "case {i}: ({idx}, {t})");
    }
}

/// §9.6: "if a server receives a RequestVote [pre-vote] within the minimum election timeout of
/// hearing from a current leader, it does not grant" — the lease that keeps a rejoining node
/// from deposing a healthy leader.
#[test]
fn test_prevote_refused_within_min_timeout_of_hearing_the_leader() {
    let mut c = node_pv(1, 3, 0, vec![]);
    let heard = 3 * TIMEOUT;
    assert!(
        c.handle_append_request(heard, &heartbeat_from(2, 1))
            .success
    );
    let req = prevote_req(2, 3, -1, 0);
    assert!(!c.handle_prevote_request(heard, &req).vote_granted);
    assert!(
        !c.handle_prevote_request(heard + RANGE.0 - 1, &req)
            .vote_granted
    );
    assert!(
        c.handle_prevote_request(heard + RANGE.0, &req).vote_granted,
        "the leader is silent for a minimum election timeout"
    );
}

/// §9.6 (contract): "a Leader never grants" a pre-vote.
#[test]
fn test_leader_refuses_prevote() {
    let mut net = net_pv_led_by_1(3);
    let now = net.now + 10 * TIMEOUT;
    let leader = net.nodes.get_mut(&1).unwrap();
    let resp = leader.handle_prevote_request(now, &prevote_req(5, 2, 100, 9));
    assert!(!resp.vote_granted);
    assert_eq!(leader.role(), Role::Leader);
}

/// §9.6: on an election timeout a node "does not raise its term": it stays Follower, draws a
/// new timeout and asks every peer for a pre-vote for term + 1 (journal `prevote`).
#[test]
fn test_election_timeout_asks_for_prevotes_without_raising_term() {
    let mut c = node_pv(1, 3, 4, log_of(&[1, 4]));
    c.tick(TIMEOUT - 1);
    assert!(c.take_ready().messages.is_empty());
    c.tick(TIMEOUT);
    assert_eq!(c.role(), Role::Follower);
    assert_eq!(c.term(), 4);
    let r = c.take_ready();
    assert_eq!(r.hard_state, None, "nothing to persist");
    assert!(r.reset_timer, "a new timeout is drawn");
    assert_eq!(r.events, vec![Event::PreVote { term: 5 }]);
    let want = prevote_req(5, 1, 1, 4);
    assert_eq!(
        r.messages,
        vec![
            (2, Message::PreVote(want.clone())),
            (3, Message::PreVote(want))
        ]
    );
}

/// §9.6: only a majority of pre-votes (self included) starts the real election (term + 1,
/// own vote, RequestVote); refusals leave the term alone (journal `prevote_result`).
#[test]
fn test_prevote_majority_starts_election_refusals_do_not() {
    let mut c = prevote_round_started(5, 4);
    let no = prevote_answer(4, false);
    let yes = prevote_answer(4, true);
    c.handle_prevote_response(TIMEOUT, 2, 5, &no);
    c.handle_prevote_response(TIMEOUT, 3, 5, &yes);
    c.handle_prevote_response(TIMEOUT, 3, 5, &yes); // a duplicate counts once
    c.handle_prevote_response(TIMEOUT, 4, 4, &yes); // a stale round's answer does not count
    assert_eq!((c.role(), c.term()), (Role::Follower, 4), "2 of 5");
    assert!(c.take_ready().is_empty());
    c.handle_prevote_response(TIMEOUT, 5, 5, &yes);
    assert_eq!((c.role(), c.term(), c.voted_for()), (Role::Candidate, 5, 1));
    let r = c.take_ready();
    assert_eq!(
        r.events[0],
        Event::PreVoteResult {
            term: 5,
            granted: 3
        }
    );
    assert!(r.events.contains(&Event::Term { term: 5 }));
    let votes = r
        .messages
        .iter()
        .filter(|(_, m)| matches!(m, Message::Vote(_)));
    assert_eq!(votes.count(), 4);
}

/// §9.6 / contract: a higher term in a pre-vote reply is adopted (Figure 2 rule) and ends the
/// round; the node does not campaign on it.
#[test]
fn test_prevote_reply_with_higher_term_is_adopted_and_ends_round() {
    let mut c = prevote_round_started(3, 4);
    let reply = prevote_answer(9, false);
    c.handle_prevote_response(TIMEOUT, 2, 5, &reply);
    assert_eq!((c.role(), c.term()), (Role::Follower, 9));
    let yes = PreVoteReply::Unimplemented;
    c.handle_prevote_response(TIMEOUT, 3, 5, &yes);
    assert_eq!(c.role(), Role::Follower, "the round for term 5 is over");
}

/// Contract: "A peer that answers the PreVote RPC with UNIMPLEMENTED counts as granting it" —
/// a node with pre-vote still gets elected among servers of the original protocol.
#[test]
fn test_unimplemented_prevote_counts_as_grant() {
    let mut net = net_pv(3);
    net.no_prevote_rpc = BTreeSet::from([2, 3]);
    net.elect(1);
    assert_eq!(net.leaders(), vec![1]);
    assert_eq!(net.n(1).term(), 1);
    let result = Event::PreVoteResult {
        term: 1,
        granted: 2,
    };
    assert!(
        net.events[&1].contains(&result),
        "elected through a pre-vote round won by an UNIMPLEMENTED answer"
    );
}

/// §9.6: "a server that cannot reach a majority never raises its term, so rejoining it does
/// not depose a healthy leader" (issue 15 §2), here with a partition in the core network.
#[test]
fn test_node_cut_off_from_majority_never_raises_its_term() {
    let mut net = net_pv_led_by_1(5);
    net.cut.insert(3);
    for round in 1..=20u64 {
        let now = net.now + TIMEOUT / 2;
        net.tick(1, now); // heartbeats reach 2, 4, 5
        net.tick(3, now + (round % 2) * TIMEOUT); // 3 times out every other round
        net.run();
    }
    assert_eq!(net.n(3).term(), 1, "the cut-off node kept its term");
    assert_eq!(net.n(3).role(), Role::Follower);
    net.cut.clear();
    let now = net.now + TIMEOUT / 2;
    net.tick(3, now + TIMEOUT); // its timer fires once more, now connected
    net.tick(1, now);
    net.run();
    assert_eq!(net.leaders(), vec![1], "the healthy leader stays");
    assert!(net.nodes.values().all(|c| c.term() == 1), "no new term");
    assert_eq!(net.n(3).leader_id(), 1, "the rejoined node follows it");
}

/// Thesis §6.2 / contract: "A Leader that has not had a reply from a majority of the cluster
/// within the last maximum election timeout steps down to Follower in the same term (it keeps
/// votedFor)", and starts a fresh election timeout.
#[test]
fn test_check_quorum_leader_without_majority_steps_down_with_fresh_timer() {
    let mut net = net_pv(3);
    net.elect(1);
    let last_reply = net.now;
    net.cut = BTreeSet::from([2, 3]);
    let mut t = last_reply;
    while t + 100 < last_reply + RANGE.1 {
        t += 100;
        net.tick(1, t);
        net.run();
        assert_eq!(
            net.n(1).role(),
            Role::Leader,
            "still inside the window at {t}"
        );
    }
    let down_at = last_reply + RANGE.1;
    let c = net.nodes.get_mut(&1).unwrap();
    c.tick(down_at);
    assert_eq!((c.role(), c.term(), c.voted_for()), (Role::Follower, 1, 1));
    assert_eq!(c.leader_id(), NONE);
    assert!(c.propose(down_at, "SET a 1".into()).is_err());
    let r = c.take_ready();
    assert!(r.reset_timer, "a fresh timeout is drawn on stepping down");
    assert_eq!(
        r.hard_state, None,
        "same term, same vote: nothing to persist"
    );
    c.tick(down_at + TIMEOUT - 1);
    assert!(
        c.take_ready().messages.is_empty(),
        "no campaign within one timeout"
    );
    c.tick(down_at + TIMEOUT);
    assert!(matches!(
        c.take_ready().messages.first(),
        Some((_, Message::PreVote(_)))
    ));
}

/// Check-quorum counts any reply, success or not, from a majority: a leader that hears from
/// one of two followers (2 of 3 with itself) keeps leading.
#[test]
fn test_check_quorum_leader_with_majority_replies_stays() {
    let mut net = net_pv(3);
    net.elect(1);
    net.cut = BTreeSet::from([3]);
    for _ in 0..50 {
        net.heartbeat(1);
    }
    assert_eq!(net.leaders(), vec![1]);
    assert_eq!(net.n(1).term(), 1);
}

/// A Candidate whose election times out (split vote) goes back to pre-voting as a Follower in
/// its term rather than raising the term again unasked (contract: "When its election timer
/// fires, a node does not raise its term").
#[test]
fn test_candidate_timeout_returns_to_prevote() {
    let mut c = node_pv(1, 3, 0, vec![]);
    c.tick(TIMEOUT);
    let yes = PreVoteReply::Unimplemented;
    c.handle_prevote_response(TIMEOUT, 2, 1, &yes);
    assert_eq!((c.role(), c.term()), (Role::Candidate, 1));
    c.take_ready();
    c.tick(2 * TIMEOUT);
    assert_eq!((c.role(), c.term(), c.voted_for()), (Role::Follower, 1, 1));
    let r = c.take_ready();
    assert!(r.events.contains(&Event::PreVote { term: 2 }));
    assert!(r
        .messages
        .iter()
        .all(|(_, m)| matches!(m, Message::PreVote(_))));
}

//! The Raft consensus core: a pure, deterministic state machine.
//!
//! It owns the Raft state (term, vote, log, commit index, role, per-peer progress) and nothing
//! else: no sockets, clocks, threads or randomness. The driver feeds it inputs (`tick` with the
//! current time, incoming requests and responses, client proposals) and after each input takes a
//! [`Ready`]: state to persist, messages to send, journal events and committed entries to apply.
//! The driver must persist a `Ready` before it sends any message or reply that follows it, which
//! is what makes "durable before the reply" hold (Raft §5, Figure 2 "Persistent state").
//!
//! Election timeouts are drawn by the caller: whenever the core restarts its election timer it
//! sets `Ready::reset_timer`, and the caller answers with [`Core::set_election_timeout`].

use std::collections::{BTreeMap, BTreeSet};

use crate::bugs::{Bug, Bugs};
use crate::progress::Progress;
#[cfg(test)]
use crate::progress::ProgressState;

pub type NodeId = i32;

/// "No node" for `voted_for` and `leader_id`.
pub const NONE: NodeId = -1;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub index: i32,
    pub term: i32,
    pub command: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HardState {
    pub term: i32,
    pub voted_for: NodeId,
}

impl Default for HardState {
    fn default() -> Self {
        HardState {
            term: 0,
            voted_for: NONE,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Follower,
    Candidate,
    Leader,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Follower => "Follower",
            Role::Candidate => "Candidate",
            Role::Leader => "Leader",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoteRequest {
    pub term: i32,
    pub candidate_id: NodeId,
    pub last_log_index: i32,
    pub last_log_term: i32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoteResponse {
    pub term: i32,
    pub vote_granted: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendRequest {
    pub term: i32,
    pub leader_id: NodeId,
    pub prev_log_index: i32,
    pub prev_log_term: i32,
    pub entries: Vec<Entry>,
    pub leader_commit: i32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendResponse {
    pub term: i32,
    pub success: bool,
    pub conflict_index: Option<i32>,
    pub conflict_term: Option<i32>,
}

/// What the leader remembers about an AppendEntries it sent, to interpret the response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendSent {
    pub term: i32,
    pub prev_log_index: i32,
    pub n_entries: i32,
    /// The leader's ReadIndex round counter when the append was sent (thesis §6.4): a reply
    /// confirms leadership for every read round numbered up to this. Never on the wire: the
    /// driver keeps it with the call, as it keeps the rest of `AppendSent`.
    pub read_seq: u64,
}

impl AppendRequest {
    pub fn sent(&self) -> AppendSent {
        AppendSent {
            term: self.term,
            prev_log_index: self.prev_log_index,
            n_entries: self.entries.len() as i32,
            read_seq: 0,
        }
    }
}

/// A peer's answer to a PreVote RPC (thesis §9.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PreVoteReply {
    /// The peer answered: `vote_granted` is the pre-vote, `term` its currentTerm.
    Answer(VoteResponse),
    /// The peer speaks only the original protocol (gRPC `UNIMPLEMENTED`): counts as a grant
    /// (docs/node-contract.md, "Pre-vote and check-quorum").
    Unimplemented,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Vote(VoteRequest),
    /// `term` is the term campaigned for (currentTerm + 1); nothing changes at the receiver.
    PreVote(VoteRequest),
    /// The request and what the driver must hand back with its reply (`AppendSent`, which
    /// carries the ReadIndex round number, thesis §6.4).
    Append(AppendRequest, AppendSent),
}

/// The outcome of a `read_index` request (thesis §6.4), in the order the reads were made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadState {
    /// Leadership was confirmed after the request: the driver answers the read from the state
    /// machine once lastApplied >= `index` (the commitIndex recorded for it).
    Ready { ctx: u64, index: i32 },
    /// This node stopped being leader before the read was confirmed: the read did not happen
    /// (the driver answers NOT_LEADER with the known leader, a definite failure).
    Failed { ctx: u64 },
}

/// A change to the durable log, in the order it must be applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogOp {
    /// Delete every entry with index >= `from_index`.
    Truncate {
        from_index: i32,
    },
    Append(Vec<Entry>),
}

/// Journal events the core produces (the driver adds `start`, `apply` and `stop`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Term {
        term: i32,
    },
    Vote {
        term: i32,
        candidate: NodeId,
    },
    Role {
        role: Role,
        term: i32,
    },
    Truncate {
        from_index: i32,
    },
    Commit {
        index: i32,
    },
    /// A pre-vote round for `term` starts (journal `prevote`).
    PreVote {
        term: i32,
    },
    /// A pre-vote round for `term` ends with `granted` grants, this node included (journal
    /// `prevote_result`).
    PreVoteResult {
        term: i32,
        granted: usize,
    },
}

/// Everything the driver must do after one input, in this order: persist `hard_state` and
/// `log_ops`, write `events`, send `messages` (and the RPC reply, if any), apply `committed`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ready {
    pub hard_state: Option<HardState>,
    pub log_ops: Vec<LogOp>,
    pub events: Vec<Event>,
    pub messages: Vec<(NodeId, Message)>,
    pub committed: Vec<Entry>,
    /// ReadIndex outcomes; answered after `committed` is applied.
    pub reads: Vec<ReadState>,
    pub reset_timer: bool,
}

impl Ready {
    pub fn is_empty(&self) -> bool {
        *self == Ready::default()
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub id: NodeId,
    pub peers: Vec<NodeId>,
    pub heartbeat_ms: u64,
    /// An in-flight AppendEntries older than this is presumed lost (the driver normally
    /// reports every failure itself; this only guards against a lost report).
    pub rpc_timeout_ms: u64,
    pub max_entries_per_append: usize,
    /// At most this many AppendEntries carrying entries in flight to one follower in replicate
    /// state (pipelining, issue 15 §3; see progress.rs). 1: one at a time, as before; 0 counts
    /// as 1.
    pub max_inflight_appends: usize,
    /// The election timeout range (ms). The minimum bounds the pre-vote lease (a node that
    /// heard from a leader less than this ago refuses pre-votes); the maximum is check-quorum's
    /// window.
    pub election_timeout_ms: (u64, u64),
    /// Ask for pre-votes before raising the term (thesis §9.6).
    pub pre_vote: bool,
    /// A leader without replies from a majority within the maximum election timeout steps
    /// down (thesis §6.2, §9.6).
    pub check_quorum: bool,
}

/// A `read_index` request waiting for its confirmation (thesis §6.4). `round` is None until
/// the leader has committed an entry of its term; then (readIndex, round number).
#[derive(Clone, Debug)]
struct PendingRead {
    ctx: u64,
    round: Option<(i32, u64)>,
}

/// A pre-vote round in progress: the term campaigned for and who granted (self included).
#[derive(Clone, Debug)]
struct PreVoteRound {
    term: i32,
    granted: BTreeSet<NodeId>,
}

/// The client proposal was refused because this node is not the leader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotLeader {
    pub leader_id: NodeId,
}

pub struct Core {
    cfg: Config,
    term: i32,
    voted_for: NodeId,
    log: Vec<Entry>,
    commit_index: i32,
    last_applied: i32,
    role: Role,
    leader_id: NodeId,
    votes: BTreeSet<NodeId>,
    progress: BTreeMap<NodeId, Progress>,
    prevote: Option<PreVoteRound>,
    /// When this node last accepted an AppendEntries of its current term (pre-vote lease).
    leader_contact_ms: Option<u64>,
    /// ReadIndex rounds started so far (as leader; never reset, so rounds stay ordered).
    read_seq: u64,
    reads: Vec<PendingRead>,
    now_ms: u64,
    election_reset_ms: u64,
    election_timeout_ms: u64,
    ready: Ready,
    /// Planted bugs (test only; empty by default), see bugs.rs.
    bugs: Bugs,
}

impl Core {
    /// A node starting (or restarting) as Follower with its recovered durable state.
    pub fn new(
        cfg: Config,
        hs: HardState,
        log: Vec<Entry>,
        now_ms: u64,
        election_timeout_ms: u64,
    ) -> Core {
        let mut core = Core {
            cfg,
            term: hs.term,
            voted_for: hs.voted_for,
            log,
            commit_index: -1,
            last_applied: -1,
            role: Role::Follower,
            leader_id: NONE,
            votes: BTreeSet::new(),
            progress: BTreeMap::new(),
            prevote: None,
            leader_contact_ms: None,
            read_seq: 0,
            reads: Vec::new(),
            now_ms,
            election_reset_ms: now_ms,
            election_timeout_ms,
            ready: Ready::default(),
            bugs: Bugs::default(),
        };
        core.ready.events.push(Event::Role {
            role: Role::Follower,
            term: core.term,
        });
        core
    }

    /// Switches planted bugs on (issue 13 §3; test only). The default is none.
    pub fn set_bugs(&mut self, bugs: Bugs) {
        self.bugs = bugs;
    }

    // ----- accessors -----

    pub fn term(&self) -> i32 {
        self.term
    }
    pub fn voted_for(&self) -> NodeId {
        self.voted_for
    }
    pub fn role(&self) -> Role {
        self.role
    }
    pub fn leader_id(&self) -> NodeId {
        self.leader_id
    }
    pub fn commit_index(&self) -> i32 {
        self.commit_index
    }
    pub fn last_applied(&self) -> i32 {
        self.last_applied
    }
    pub fn log(&self) -> &[Entry] {
        &self.log
    }
    pub fn last_log_index(&self) -> i32 {
        self.log.len() as i32 - 1
    }
    pub fn last_log_term(&self) -> i32 {
        self.log.last().map_or(0, |e| e.term)
    }
    pub fn hard_state(&self) -> HardState {
        HardState {
            term: self.term,
            voted_for: self.voted_for,
        }
    }
    #[cfg(test)]
    pub fn match_index(&self, peer: NodeId) -> Option<i32> {
        self.progress.get(&peer).map(|p| p.match_index)
    }
    /// The leader's flow-control view of `peer`: (state, nextIndex, appends in flight).
    #[cfg(test)]
    pub fn progress_of(&self, peer: NodeId) -> Option<(ProgressState, i32, usize)> {
        self.progress
            .get(&peer)
            .map(|p| (p.state, p.next_index, p.inflight_count()))
    }

    /// Takes the pending actions; the caller must carry them out in `Ready`'s documented order.
    pub fn take_ready(&mut self) -> Ready {
        std::mem::take(&mut self.ready)
    }

    /// The caller's answer to `Ready::reset_timer`: a freshly drawn election timeout.
    pub fn set_election_timeout(&mut self, ms: u64) {
        self.election_timeout_ms = ms;
    }

    // ----- inputs -----

    /// Time passes: start an election on timeout, or (leader) send entries and due heartbeats.
    /// Heartbeats do not wait for an in-flight append, so one lost RPC never starves a
    /// follower into an election. An append unanswered for 2 x `rpc_timeout_ms` is presumed
    /// lost: the follower's progress falls back to probe.
    pub fn tick(&mut self, now_ms: u64) {
        self.now_ms = now_ms;
        if self.role == Role::Leader {
            if !self.has_quorum_contact() {
                self.step_down_no_quorum();
                return;
            }
            let peers: Vec<NodeId> = self.cfg.peers.clone();
            let last = self.last_log_index();
            let max = self.cfg.max_inflight_appends;
            for peer in peers {
                let p = self
                    .progress
                    .get_mut(&peer)
                    .expect("progress for every peer");
                // The oldest append in flight is presumed lost: probe again.
                if p.oldest_expired(now_ms, self.cfg.rpc_timeout_ms * 2) {
                    p.become_probe();
                }
                let due = match p.last_sent_ms {
                    None => true,
                    Some(t) => now_ms.saturating_sub(t) >= self.cfg.heartbeat_ms,
                };
                let behind = p.next_index <= last;
                if p.can_send(max) && behind && now_ms >= p.retry_at_ms {
                    self.send_append(peer);
                } else if due {
                    self.send_heartbeat(peer);
                }
            }
        } else if now_ms >= self.election_reset_ms + self.election_timeout_ms {
            if self.cfg.pre_vote {
                self.start_prevote();
            } else {
                self.start_election();
            }
        }
    }

    /// PreVote RPC (thesis §9.6; docs/node-contract.md "Pre-vote and check-quorum"). Granted
    /// iff `req.term > currentTerm`, the sender's log is at least as up-to-date (§5.4.1), and
    /// this node is not a Leader and has not accepted an AppendEntries of its current term
    /// within the minimum election timeout. Changes nothing: no term adoption, no vote, no
    /// timer reset, nothing to persist or journal. The reply's `term` is currentTerm.
    pub fn handle_prevote_request(&mut self, now_ms: u64, req: &VoteRequest) -> VoteResponse {
        self.now_ms = now_ms;
        let leader_heard = match self.leader_contact_ms {
            Some(t) => now_ms.saturating_sub(t) < self.cfg.election_timeout_ms.0,
            None => false,
        };
        let grant = req.term > self.term
            && self.log_ok_for_vote(req)
            && self.role != Role::Leader
            && !leader_heard;
        VoteResponse {
            term: self.term,
            vote_granted: grant,
        }
    }

    /// A peer's answer to the PreVote for `term` (the term campaigned for). A higher term in
    /// the answer is adopted (Figure 2); a grant (or `Unimplemented`) from a majority, self
    /// included, starts the real election while the round is still current.
    pub fn handle_prevote_response(
        &mut self,
        now_ms: u64,
        from: NodeId,
        term: i32,
        reply: &PreVoteReply,
    ) {
        self.now_ms = now_ms;
        let granted = match reply {
            PreVoteReply::Answer(resp) => {
                self.observe_term(resp.term);
                resp.vote_granted
            }
            PreVoteReply::Unimplemented => true,
        };
        let current = self.role != Role::Leader && term == self.term + 1;
        let Some(round) = self.prevote.as_mut().filter(|r| r.term == term && current) else {
            return;
        };
        if granted {
            round.granted.insert(from);
        }
        if round.granted.len() >= self.quorum() {
            self.end_prevote();
            self.start_election();
        }
    }

    /// RequestVote RPC (Figure 2, "RequestVote RPC, receiver implementation").
    pub fn handle_vote_request(&mut self, now_ms: u64, req: &VoteRequest) -> VoteResponse {
        self.now_ms = now_ms;
        self.observe_term(req.term);
        // `vote-twice` (planted bug) breaks "votedFor is null or candidateId" (Figure 2), so two
        // candidates can win one term.
        let up_to_date = self.log_ok_for_vote(req);
        let free = self.voted_for == NONE
            || self.voted_for == req.candidate_id
            || self.bugs.has(Bug::VoteTwice);
        let grant = req.term == self.term && free && up_to_date;
        if grant {
            if self.voted_for != req.candidate_id {
                self.voted_for = req.candidate_id;
                self.ready.hard_state = Some(self.hard_state());
            }
            self.ready.events.push(Event::Vote {
                term: self.term,
                candidate: req.candidate_id,
            });
            self.reset_election_timer();
        }
        VoteResponse {
            term: self.term,
            vote_granted: grant,
        }
    }

    /// AppendEntries RPC (Figure 2, "AppendEntries RPC, receiver implementation").
    pub fn handle_append_request(&mut self, now_ms: u64, req: &AppendRequest) -> AppendResponse {
        self.now_ms = now_ms;
        self.observe_term(req.term);
        let reject = |term, ci, ct| AppendResponse {
            term,
            success: false,
            conflict_index: ci,
            conflict_term: ct,
        };
        if req.term < self.term {
            return reject(self.term, None, None);
        }
        // A current-term AppendEntries comes from the legitimate leader (§5.2).
        if self.role != Role::Follower {
            self.become_follower();
        }
        self.leader_id = req.leader_id;
        self.leader_contact_ms = Some(now_ms);
        self.end_prevote();
        self.reset_election_timer();

        let prev = req.prev_log_index;
        if prev >= 0 {
            if prev > self.last_log_index() {
                return reject(self.term, Some(self.log.len() as i32), None);
            }
            let t = self.log[prev as usize].term;
            // Planted bug `no-prev-log-check`: accept a mismatching prevLogTerm (receiver rule
            // 2, Figure 2), which breaks Log Matching (§5.3).
            if t != req.prev_log_term && !self.bugs.has(Bug::NoPrevLogCheck) {
                let mut first = prev;
                while first > 0 && self.log[first as usize - 1].term == t {
                    first -= 1;
                }
                return reject(self.term, Some(first), Some(t));
            }
        }
        let mut appended = Vec::new();
        for (i, e) in req.entries.iter().enumerate() {
            let idx = prev + 1 + i as i32;
            if idx <= self.last_log_index() {
                // Planted bug `truncate-matching`: truncate even when the entry matches
                // (receiver rule 3 deletes only on a conflict, Figure 2).
                if self.log[idx as usize].term == e.term && !self.bugs.has(Bug::TruncateMatching) {
                    continue;
                }
                // Only a differing term is a conflict: a stale, reordered request whose entries
                // already match must never truncate (§5.3).
                self.truncate_from(idx);
            }
            let entry = Entry {
                index: idx,
                term: e.term,
                command: e.command.clone(),
            };
            self.log.push(entry.clone());
            appended.push(entry);
        }
        self.push_log_append(appended);
        let last_new = prev + req.entries.len() as i32;
        if req.leader_commit > self.commit_index {
            // Planted bug `commit-no-min`: drop min(…, index of last new entry) (receiver rule
            // 5, Figure 2); clamped to the log so the node does not crash instead.
            let new_commit = if self.bugs.has(Bug::CommitNoMin) {
                req.leader_commit.min(self.last_log_index())
            } else {
                req.leader_commit.min(last_new)
            };
            self.advance_commit(new_commit);
        }
        AppendResponse {
            term: self.term,
            success: true,
            conflict_index: None,
            conflict_term: None,
        }
    }

    pub fn handle_vote_response(&mut self, now_ms: u64, from: NodeId, resp: &VoteResponse) {
        self.now_ms = now_ms;
        self.observe_term(resp.term);
        if self.role != Role::Candidate || resp.term != self.term || !resp.vote_granted {
            return;
        }
        self.votes.insert(from);
        if self.votes.len() >= self.quorum() {
            self.become_leader();
        }
    }

    pub fn handle_append_response(
        &mut self,
        now_ms: u64,
        from: NodeId,
        sent: AppendSent,
        resp: &AppendResponse,
    ) {
        self.now_ms = now_ms;
        self.observe_term(resp.term);
        if self.role != Role::Leader || sent.term != self.term {
            return;
        }
        let Some(p) = self.progress.get_mut(&from) else {
            return;
        };
        p.last_reply_ms = p.last_reply_ms.max(now_ms);
        p.read_acked = p.read_acked.max(sent.read_seq);
        self.confirm_reads();
        let sent_last = sent.prev_log_index + sent.n_entries;
        if resp.success {
            let p = self.progress.get_mut(&from).expect("checked above");
            p.on_success(sent_last);
            self.maybe_commit();
            self.send_appends(from);
        } else {
            let hinted = self.backtrack_hint(&sent, resp);
            let p = self.progress.get_mut(&from).expect("checked above");
            if p.on_reject(sent.prev_log_index, sent_last, hinted)
                && p.can_send(self.cfg.max_inflight_appends)
            {
                self.send_append(from);
            }
        }
    }

    /// The driver could not deliver a message to `peer` (or got no answer in time). A failed
    /// append carrying entries past matchIndex puts the peer back in probe; entries are retried
    /// no earlier than one heartbeat interval later.
    pub fn handle_send_failure(&mut self, now_ms: u64, peer: NodeId, sent: Option<AppendSent>) {
        self.now_ms = now_ms;
        if let (Some(sent), Some(p)) = (sent, self.progress.get_mut(&peer)) {
            if sent.term == self.term && sent.n_entries > 0 {
                p.on_send_failure(sent.prev_log_index + sent.n_entries);
                p.retry_at_ms = now_ms + self.cfg.heartbeat_ms;
            }
        }
    }

    /// A client command. On the leader it is appended and replicated; the returned index and
    /// term identify it when it is committed (or overwritten).
    pub fn propose(&mut self, now_ms: u64, command: String) -> Result<(i32, i32), NotLeader> {
        self.now_ms = now_ms;
        if self.role != Role::Leader {
            return Err(NotLeader {
                leader_id: self.leader_id,
            });
        }
        let index = self.append_own(command);
        self.broadcast_append();
        self.maybe_commit();
        Ok((index, self.term))
    }

    /// ReadIndex (thesis §6.4): a linearizable read without a log entry. On the leader the
    /// read gets readIndex = commitIndex once the leader has committed an entry of its term
    /// (the no-op appended at election, §8; until then it waits), and a new round: heartbeats
    /// to every peer numbered with the round. When a majority (self included) has answered an
    /// append of this term sent in that round or later, `Ready::reads` gets
    /// `ReadState::Ready{ctx, index}`; if this node stops being leader first, `Failed{ctx}`.
    /// `ctx` is the caller's tag, returned as is. Not leader: `NotLeader` (as `propose`).
    pub fn read_index(&mut self, now_ms: u64, ctx: u64) -> Result<(), NotLeader> {
        self.now_ms = now_ms;
        if self.role != Role::Leader {
            return Err(NotLeader {
                leader_id: self.leader_id,
            });
        }
        self.reads.push(PendingRead { ctx, round: None });
        if self.committed_in_term() {
            self.start_read_round();
        }
        Ok(())
    }

    // ----- internals -----

    /// The leader has committed an entry of its current term (thesis §6.4 step 1), so its
    /// commitIndex is at least that of any earlier leader.
    fn committed_in_term(&self) -> bool {
        self.commit_index >= 0 && self.log[self.commit_index as usize].term == self.term
    }

    /// Numbers a new round for every read without one, records readIndex = commitIndex and
    /// sends a heartbeat to every peer carrying the round (thesis §6.4 steps 1-2).
    fn start_read_round(&mut self) {
        self.read_seq += 1;
        let round = (self.commit_index, self.read_seq);
        for r in self.reads.iter_mut().filter(|r| r.round.is_none()) {
            r.round = Some(round);
        }
        let peers: Vec<NodeId> = self.cfg.peers.clone();
        for peer in peers {
            self.send_heartbeat(peer);
        }
        self.confirm_reads();
    }

    /// Emits `ReadState::Ready` for every read whose round a majority (self included) has
    /// acknowledged (thesis §6.4 step 3), in request order.
    fn confirm_reads(&mut self) {
        if self.reads.is_empty() {
            return;
        }
        let mut acked: Vec<u64> = self.progress.values().map(|p| p.read_acked).collect();
        acked.sort_unstable_by(|a, b| b.cmp(a));
        let need = self.quorum() - 1; // peers besides this node
        let confirmed = if need == 0 { u64::MAX } else { acked[need - 1] };
        let ready = &mut self.ready.reads;
        self.reads.retain(|r| match r.round {
            Some((index, seq)) if seq <= confirmed => {
                ready.push(ReadState::Ready { ctx: r.ctx, index });
                false
            }
            _ => true,
        });
    }

    /// Leadership lost: every pending read fails.
    fn fail_reads(&mut self) {
        for r in std::mem::take(&mut self.reads) {
            self.ready.reads.push(ReadState::Failed { ctx: r.ctx });
        }
    }

    /// §5.4.1: the candidate's log is at least as up-to-date as ours (later last term, or the
    /// same last term and at least as long).
    /// The §5.4.1 condition of RequestVote and PreVote alike. Planted bug `no-up-to-date-check`
    /// skips it in both: a server lacking the check lacks it in its pre-vote too, which would
    /// otherwise mask the bug (a stale candidate never passes pre-vote).
    fn log_ok_for_vote(&self, req: &VoteRequest) -> bool {
        self.up_to_date(req) || self.bugs.has(Bug::NoUpToDateCheck)
    }

    fn up_to_date(&self, req: &VoteRequest) -> bool {
        req.last_log_term > self.last_log_term()
            || (req.last_log_term == self.last_log_term()
                && req.last_log_index >= self.last_log_index())
    }

    /// Check-quorum (thesis §6.2): a reply from a majority, self included, within the last
    /// maximum election timeout. Always true with check-quorum off.
    fn has_quorum_contact(&self) -> bool {
        if !self.cfg.check_quorum {
            return true;
        }
        let window = self.cfg.election_timeout_ms.1;
        let recent = self
            .progress
            .values()
            .filter(|p| self.now_ms.saturating_sub(p.last_reply_ms) < window)
            .count();
        1 + recent >= self.quorum()
    }

    /// A leader cut off from the majority steps down in the same term, keeping `votedFor`.
    fn step_down_no_quorum(&mut self) {
        self.leader_id = NONE;
        self.become_follower();
    }

    /// Election timeout with pre-vote on (thesis §9.6): stay (or return to) Follower in the
    /// same term, draw a new timeout and ask every peer for a pre-vote for term + 1. A leader
    /// not heard from for a timeout is presumed gone (`leader_id` cleared, so client requests
    /// are no longer forwarded to it).
    fn start_prevote(&mut self) {
        self.end_prevote();
        if self.role != Role::Follower {
            self.become_follower(); // a Candidate whose election timed out
        }
        self.leader_id = NONE;
        self.reset_election_timer();
        let term = self.term + 1;
        self.ready.events.push(Event::PreVote { term });
        self.prevote = Some(PreVoteRound {
            term,
            granted: BTreeSet::from([self.cfg.id]),
        });
        if self.quorum() == 1 {
            self.end_prevote();
            self.start_election();
            return;
        }
        let req = VoteRequest {
            term,
            candidate_id: self.cfg.id,
            last_log_index: self.last_log_index(),
            last_log_term: self.last_log_term(),
        };
        for &peer in &self.cfg.peers {
            self.ready
                .messages
                .push((peer, Message::PreVote(req.clone())));
        }
    }

    /// Ends the current pre-vote round, if any, journaling its result.
    fn end_prevote(&mut self) {
        if let Some(round) = self.prevote.take() {
            self.ready.events.push(Event::PreVoteResult {
                term: round.term,
                granted: round.granted.len(),
            });
        }
    }

    /// A majority of the cluster (peers plus this node).
    fn quorum(&self) -> usize {
        let cluster = self.cfg.peers.len() + 1;
        cluster / 2 + 1
    }

    /// "If RPC request or response contains term T > currentTerm: set currentTerm = T,
    /// convert to follower" (Figure 2, Rules for Servers).
    fn observe_term(&mut self, term: i32) {
        if term > self.term {
            self.end_prevote(); // a round for a term this node has now reached is moot
            self.term = term;
            self.voted_for = NONE;
            self.ready.hard_state = Some(self.hard_state());
            self.ready.events.push(Event::Term { term });
            // Planted bug `no-step-down`: a leader adopts the term but keeps leading
            // ("convert to follower", Figure 2).
            if self.role == Role::Leader && self.bugs.has(Bug::NoStepDown) {
                return;
            }
            self.leader_id = NONE;
            if self.role != Role::Follower {
                self.become_follower();
            }
        }
    }

    /// Back to Follower (from Candidate or Leader). The election timer starts afresh, with a
    /// newly drawn timeout: a deposed leader's timer still dates from the election it won, and
    /// keeping it would make it time out at once and unseat the new leader with a log it may
    /// not win with (etcd raft's `becomeFollower` resets it the same way).
    fn become_follower(&mut self) {
        self.role = Role::Follower;
        self.fail_reads();
        self.end_prevote();
        self.votes.clear();
        self.progress.clear();
        self.reset_election_timer();
        self.ready.events.push(Event::Role {
            role: Role::Follower,
            term: self.term,
        });
    }

    fn reset_election_timer(&mut self) {
        self.election_reset_ms = self.now_ms;
        self.ready.reset_timer = true;
    }

    fn start_election(&mut self) {
        self.end_prevote();
        self.term += 1;
        self.voted_for = self.cfg.id;
        self.role = Role::Candidate;
        self.leader_id = NONE;
        self.progress.clear();
        self.ready.hard_state = Some(self.hard_state());
        self.ready.events.push(Event::Term { term: self.term });
        self.ready.events.push(Event::Vote {
            term: self.term,
            candidate: self.cfg.id,
        });
        self.ready.events.push(Event::Role {
            role: Role::Candidate,
            term: self.term,
        });
        self.reset_election_timer();
        self.votes = BTreeSet::from([self.cfg.id]);
        if self.votes.len() >= self.quorum() {
            self.become_leader();
            return;
        }
        let req = VoteRequest {
            term: self.term,
            candidate_id: self.cfg.id,
            last_log_index: self.last_log_index(),
            last_log_term: self.last_log_term(),
        };
        for &peer in &self.cfg.peers {
            self.ready.messages.push((peer, Message::Vote(req.clone())));
        }
    }

    fn become_leader(&mut self) {
        self.role = Role::Leader;
        self.leader_id = self.cfg.id;
        self.votes.clear();
        self.ready.events.push(Event::Role {
            role: Role::Leader,
            term: self.term,
        });
        let next = self.log.len() as i32;
        self.progress = self
            .cfg
            .peers
            .iter()
            .map(|&p| (p, Progress::new(next, self.now_ms)))
            .collect();
        // Raft §8: a no-op of the new term lets entries of earlier terms commit.
        self.append_own(String::new());
        self.broadcast_append();
        self.maybe_commit();
    }

    fn append_own(&mut self, command: String) -> i32 {
        let entry = Entry {
            index: self.log.len() as i32,
            term: self.term,
            command,
        };
        let index = entry.index;
        self.log.push(entry.clone());
        self.push_log_append(vec![entry]);
        index
    }

    fn push_log_append(&mut self, entries: Vec<Entry>) {
        if entries.is_empty() {
            return;
        }
        if let Some(LogOp::Append(v)) = self.ready.log_ops.last_mut() {
            v.extend(entries);
        } else {
            self.ready.log_ops.push(LogOp::Append(entries));
        }
    }

    fn truncate_from(&mut self, from_index: i32) {
        self.log.truncate(from_index as usize);
        self.ready.log_ops.push(LogOp::Truncate { from_index });
        self.ready.events.push(Event::Truncate { from_index });
    }

    /// New entries go to every peer with room in its window (see `send_appends`).
    fn broadcast_append(&mut self) {
        let peers: Vec<NodeId> = self.cfg.peers.clone();
        for peer in peers {
            self.send_appends(peer);
        }
    }

    /// Sends appends to `peer` while it lags (nextIndex <= last log index) and its progress
    /// has room: one in probe, up to `max_inflight_appends` in replicate (progress.rs).
    fn send_appends(&mut self, peer: NodeId) {
        let last = self.last_log_index();
        loop {
            let p = &self.progress[&peer];
            if p.next_index > last || !p.can_send(self.cfg.max_inflight_appends) {
                return;
            }
            if !self.send_append(peer) {
                return; // max_entries_per_append = 0: nothing to send
            }
        }
    }

    /// Sends the entries from `nextIndex` on (at most `max_entries_per_append`), recorded in
    /// the peer's progress as in flight. Returns whether it carried entries.
    fn send_append(&mut self, peer: NodeId) -> bool {
        let p = self
            .progress
            .get_mut(&peer)
            .expect("progress for every peer");
        let next = p.next_index.clamp(0, self.log.len() as i32);
        let end = (next as usize + self.cfg.max_entries_per_append).min(self.log.len());
        let entries = self.log[next as usize..end].to_vec();
        let carries = !entries.is_empty();
        if carries {
            p.on_sent(end as i32 - 1, self.now_ms);
        }
        p.last_sent_ms = Some(self.now_ms);
        self.push_append(peer, next - 1, entries);
        carries
    }

    /// An empty AppendEntries anchored at `matchIndex`, which the follower is known to hold, so
    /// it asserts leadership and carries the commit index without ever causing backtracking.
    fn send_heartbeat(&mut self, peer: NodeId) {
        let p = self
            .progress
            .get_mut(&peer)
            .expect("progress for every peer");
        let prev = p.match_index.min(self.log.len() as i32 - 1);
        p.last_sent_ms = Some(self.now_ms);
        self.push_append(peer, prev, vec![]);
    }

    /// Queues an AppendEntries of the current term for `entries` after `prev` (prevLogIndex, -1
    /// for none; prevLogTerm 0 then), with its `AppendSent` numbered with the current ReadIndex
    /// round (Figure 2; thesis §6.4).
    fn push_append(&mut self, peer: NodeId, prev: i32, entries: Vec<Entry>) {
        let prev_log_term = if prev >= 0 {
            self.log[prev as usize].term
        } else {
            0
        };
        let req = AppendRequest {
            term: self.term,
            leader_id: self.cfg.id,
            prev_log_index: prev,
            prev_log_term,
            entries,
            leader_commit: self.commit_index,
        };
        let sent = AppendSent {
            read_seq: self.read_seq,
            ..req.sent()
        };
        self.ready.messages.push((peer, Message::Append(req, sent)));
    }

    /// Fast backtracking (Raft thesis §5.3): just past this log's last entry of the follower's
    /// conflicting term if it has one, else the follower's conflict index, else the rejected
    /// append's prevLogIndex (nextIndex - 1 of the paper's rule).
    fn backtrack_hint(&self, sent: &AppendSent, resp: &AppendResponse) -> i32 {
        match (resp.conflict_term, resp.conflict_index) {
            (Some(ct), ci) => match self.log.iter().rposition(|e| e.term == ct) {
                Some(pos) => pos as i32 + 1,
                None => ci.unwrap_or(sent.prev_log_index),
            },
            (None, Some(ci)) => ci,
            (None, None) => sent.prev_log_index,
        }
    }

    /// "If there exists an N such that N > commitIndex, a majority of matchIndex[i] >= N, and
    /// log[N].term == currentTerm: set commitIndex = N" (Figure 2; Figure 8 explains the term
    /// condition). The leader counts itself: its entries are persisted before any message.
    fn maybe_commit(&mut self) {
        let mut n = self.last_log_index();
        while n > self.commit_index {
            // Planted bug `commit-old-term` counts replicas of earlier terms' entries too
            // (Figure 8, §5.4.2).
            if self.log[n as usize].term != self.term && !self.bugs.has(Bug::CommitOldTerm) {
                break; // older terms below: never commit them by counting replicas
            }
            let replicas = 1 + self
                .progress
                .values()
                .filter(|p| p.match_index >= n)
                .count();
            if replicas >= self.quorum() {
                self.advance_commit(n);
                return;
            }
            n -= 1;
        }
    }

    fn advance_commit(&mut self, index: i32) {
        if index <= self.commit_index {
            return;
        }
        self.commit_index = index;
        self.ready.events.push(Event::Commit { index });
        while self.last_applied < self.commit_index {
            self.last_applied += 1;
            self.ready
                .committed
                .push(self.log[self.last_applied as usize].clone());
        }
        let waiting = self.reads.iter().any(|r| r.round.is_none());
        if self.role == Role::Leader && waiting && self.committed_in_term() {
            self.start_read_round();
        }
    }
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "core_sim_tests.rs"]
mod sim_tests;

#[cfg(test)]
#[path = "bugs_tests.rs"]
mod bugs_tests;

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod pipeline_tests;

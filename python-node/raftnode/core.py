"""The Raft consensus core: a pure, deterministic state machine (a port of rust-node/core.rs).

It owns the Raft state (term, vote, log, commit index, role, per-peer progress) and nothing
else: no sockets, clocks, threads, randomness, protobuf types or key-value store. The driver
(server.py) feeds it inputs (`tick` with the current time, incoming requests and responses,
client proposals) and after each input takes a `Ready`: state to persist, messages to send,
journal events and committed entries to apply. The driver must persist a `Ready` before it sends
any message or reply that follows it, which is what makes "durable before the reply" hold (Raft
§5, Figure 2 "Persistent state").

Election timeouts are drawn by the caller: whenever the core restarts its election timer it sets
`Ready.reset_timer`, and the caller answers with `RaftCore.set_election_timeout`.

Time is integer milliseconds on the driver's monotonic clock. Log indices are 0-based; an empty
log has last index -1 and last term 0. It makes the same decisions, message for message, as the
Rust core (docs/scenarios.md's corpus replays the same inputs against both).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from raftnode.progress import Progress, ProgressState

NodeId = int

NONE: NodeId = -1
""""No node" for `voted_for` and `leader_id`."""


@dataclass(frozen=True)
class Entry:
    index: int
    term: int
    command: str


@dataclass(frozen=True)
class HardState:
    """Figure 2 "Persistent state": currentTerm and votedFor (NONE: no vote)."""

    term: int = 0
    voted_for: NodeId = NONE


class Role(enum.Enum):
    FOLLOWER = "Follower"
    CANDIDATE = "Candidate"
    LEADER = "Leader"


@dataclass(frozen=True)
class VoteRequest:
    """RequestVote (and PreVote, thesis §9.6: there `term` is the term campaigned for)."""

    term: int
    candidate_id: NodeId
    last_log_index: int
    last_log_term: int


@dataclass(frozen=True)
class VoteResponse:
    term: int
    vote_granted: bool


@dataclass(frozen=True)
class AppendSent:
    """What the leader remembers about an AppendEntries it sent, to interpret the response."""

    term: int
    prev_log_index: int
    n_entries: int
    read_seq: int = 0
    """The leader's ReadIndex round counter when the append was sent (thesis §6.4): a reply
    confirms leadership for every read round numbered up to this. Never on the wire."""


@dataclass(frozen=True)
class AppendRequest:
    term: int
    leader_id: NodeId
    prev_log_index: int
    prev_log_term: int
    entries: tuple[Entry, ...]
    leader_commit: int

    def sent(self) -> AppendSent:
        return AppendSent(self.term, self.prev_log_index, len(self.entries))


@dataclass(frozen=True)
class AppendResponse:
    term: int
    success: bool
    conflict_index: int | None = None
    conflict_term: int | None = None


@dataclass(frozen=True)
class Answer:
    """A peer answered the PreVote: `response.vote_granted` is the pre-vote, `response.term`
    its currentTerm."""

    response: VoteResponse


@dataclass(frozen=True)
class Unimplemented:
    """The peer speaks only the original protocol (gRPC UNIMPLEMENTED): counts as a grant
    (docs/node-contract.md, "Pre-vote and check-quorum")."""


PreVoteReply = Answer | Unimplemented


@dataclass(frozen=True)
class VoteMessage:
    request: VoteRequest


@dataclass(frozen=True)
class PreVoteMessage:
    """`request.term` is the term campaigned for (currentTerm + 1)."""

    request: VoteRequest


@dataclass(frozen=True)
class AppendMessage:
    """The request and what the driver must hand back with its reply (`sent`, which carries
    the ReadIndex round number, thesis §6.4)."""

    request: AppendRequest
    sent: AppendSent


Message = VoteMessage | PreVoteMessage | AppendMessage


@dataclass(frozen=True)
class LogTruncate:
    """Delete every entry with index >= `from_index`."""

    from_index: int


@dataclass(frozen=True)
class LogAppend:
    entries: tuple[Entry, ...]


LogOp = LogTruncate | LogAppend


# Journal events the core produces (the driver adds `start`, `apply` and `stop`).


@dataclass(frozen=True)
class TermEvent:
    term: int


@dataclass(frozen=True)
class VoteEvent:
    term: int
    candidate: NodeId


@dataclass(frozen=True)
class RoleEvent:
    role: Role
    term: int


@dataclass(frozen=True)
class TruncateEvent:
    from_index: int


@dataclass(frozen=True)
class CommitEvent:
    index: int


@dataclass(frozen=True)
class PreVoteEvent:
    """A pre-vote round for `term` starts (journal `prevote`)."""

    term: int


@dataclass(frozen=True)
class PreVoteResultEvent:
    """A pre-vote round for `term` ends with `granted` grants, this node included (journal
    `prevote_result`)."""

    term: int
    granted: int


Event = (
    TermEvent
    | VoteEvent
    | RoleEvent
    | TruncateEvent
    | CommitEvent
    | PreVoteEvent
    | PreVoteResultEvent
)


@dataclass(frozen=True)
class ReadReady:
    """ReadIndex (thesis §6.4): leadership was confirmed after the request; the driver answers
    the read from the state machine once lastApplied >= `index`."""

    ctx: int
    index: int


@dataclass(frozen=True)
class ReadFailed:
    """This node stopped being leader before the read was confirmed: the read did not happen
    (the driver answers NOT_LEADER with the known leader, a definite failure)."""

    ctx: int


ReadState = ReadReady | ReadFailed


@dataclass
class Ready:
    """Everything the driver must do after one input, in this order: persist `hard_state` and
    `log_ops`, write `events`, send `messages` (and the RPC reply, if any), apply `committed`."""

    hard_state: HardState | None = None
    log_ops: list[LogOp] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    messages: list[tuple[NodeId, Message]] = field(default_factory=list)
    committed: list[Entry] = field(default_factory=list)
    reads: list[ReadState] = field(default_factory=list)  # answered after `committed` is applied
    reset_timer: bool = False

    def is_empty(self) -> bool:
        return self == Ready()


@dataclass(frozen=True)
class Config:
    """`rpc_timeout_ms`: an in-flight AppendEntries older than twice this is presumed lost.
    `max_inflight_appends`: appends carrying entries in flight per follower in replicate state
    (pipelining, issue 15 §3; raftnode/progress.py; 1: one at a time).
    `election_timeout_ms` (min, max): the minimum bounds the pre-vote lease, the maximum is
    check-quorum's window. `pre_vote`: thesis §9.6. `check_quorum`: thesis §6.2."""

    id: NodeId
    peers: tuple[NodeId, ...]
    heartbeat_ms: int = 50
    rpc_timeout_ms: int = 150
    max_entries_per_append: int = 256
    election_timeout_ms: tuple[int, int] = (150, 300)
    pre_vote: bool = True
    check_quorum: bool = True
    max_inflight_appends: int = 1


@dataclass(frozen=True)
class NotLeader:
    """The client proposal was refused because this node is not the leader."""

    leader_id: NodeId


@dataclass
class _PendingRead:
    """A read_index request awaiting confirmation; `round` is (readIndex, round number), None
    until the leader has committed an entry of its term."""

    ctx: int
    round: tuple[int, int] | None = None


@dataclass
class _PreVoteRound:
    term: int
    granted: set[NodeId]


class RaftCore:
    """A node starting (or restarting) as Follower with its recovered durable state."""

    def __init__(
        self,
        config: Config,
        hard_state: HardState,
        log: list[Entry],
        now_ms: int,
        election_timeout_ms: int | None = None,
    ) -> None:
        self.cfg = config
        self._term = hard_state.term
        self._voted_for = hard_state.voted_for
        self._log: list[Entry] = list(log)
        self._commit_index = -1
        self._last_applied = -1
        self._role = Role.FOLLOWER
        self._leader_id = NONE
        self._votes: set[NodeId] = set()
        self._progress: dict[NodeId, Progress] = {}
        self._prevote: _PreVoteRound | None = None
        # When this node last accepted an AppendEntries of its current term (pre-vote lease).
        self._leader_contact_ms: int | None = None
        # ReadIndex rounds started so far (never reset, so rounds stay ordered) and the reads.
        self._read_seq = 0
        self._reads: list[_PendingRead] = []
        self._now_ms = now_ms
        self._election_reset_ms = now_ms
        self._election_timeout_ms = (
            config.election_timeout_ms[1] if election_timeout_ms is None else election_timeout_ms
        )
        self._ready = Ready()
        self._ready.events.append(RoleEvent(Role.FOLLOWER, self._term))

    # ----- accessors -----

    @property
    def term(self) -> int:
        return self._term

    @property
    def voted_for(self) -> NodeId:
        return self._voted_for

    @property
    def role(self) -> Role:
        return self._role

    @property
    def leader_id(self) -> NodeId:
        return self._leader_id

    @property
    def commit_index(self) -> int:
        return self._commit_index

    @property
    def last_applied(self) -> int:
        return self._last_applied

    @property
    def log(self) -> list[Entry]:
        """The log; callers must not modify it."""
        return self._log

    @property
    def last_log_index(self) -> int:
        return len(self._log) - 1

    @property
    def last_log_term(self) -> int:
        return self._log[-1].term if self._log else 0

    @property
    def hard_state(self) -> HardState:
        return HardState(self._term, self._voted_for)

    def match_index(self, peer: NodeId) -> int | None:
        """The leader's matchIndex for `peer` (None: not leader, or not a peer)."""
        p = self._progress.get(peer)
        return None if p is None else p.match_index

    def progress_of(self, peer: NodeId) -> tuple[ProgressState, int, int] | None:
        """The leader's flow-control view of `peer`: (state, nextIndex, appends in flight)."""
        p = self._progress.get(peer)
        return None if p is None else (p.state, p.next_index, p.inflight_count)

    def take_ready(self) -> Ready:
        """Takes the pending actions; the caller must carry them out in `Ready`'s order."""
        ready, self._ready = self._ready, Ready()
        return ready

    def set_election_timeout(self, ms: int) -> None:
        """The caller's answer to `Ready.reset_timer`: a freshly drawn election timeout."""
        self._election_timeout_ms = ms

    # ----- inputs -----

    def tick(self, now_ms: int) -> None:
        """Time passes: start an election on timeout, or (leader) send entries and due
        heartbeats. Heartbeats do not wait for an in-flight append, so one lost RPC never
        starves a follower into an election. An append unanswered for 2 x `rpc_timeout_ms` is
        presumed lost: the follower's progress falls back to probe."""
        self._now_ms = now_ms
        if self._role is Role.LEADER:
            if not self._has_quorum_contact():
                self._step_down_no_quorum()
                return
            last = self.last_log_index
            for peer in self.cfg.peers:
                p = self._progress[peer]
                if p.oldest_expired(now_ms, self.cfg.rpc_timeout_ms * 2):
                    p.become_probe()  # presumed lost: probe again
                due = p.last_sent_ms is None or now_ms - p.last_sent_ms >= self.cfg.heartbeat_ms
                behind = p.next_index <= last
                if p.can_send(self.cfg.max_inflight_appends) and behind and now_ms >= p.retry_at_ms:
                    self._send_append(peer)
                elif due:
                    self._send_heartbeat(peer)
        elif now_ms >= self._election_reset_ms + self._election_timeout_ms:
            if self.cfg.pre_vote:
                self._start_prevote()
            else:
                self._start_election()

    def handle_prevote_request(self, now_ms: int, req: VoteRequest) -> VoteResponse:
        """PreVote RPC (thesis §9.6; docs/node-contract.md "Pre-vote and check-quorum").
        Granted iff `req.term > currentTerm`, the sender's log is at least as up-to-date
        (§5.4.1), and this node is not a Leader and has not accepted an AppendEntries of its
        current term within the minimum election timeout. Changes nothing: no term adoption, no
        vote, no timer reset, nothing to persist or journal. The reply's `term` is currentTerm."""
        self._now_ms = now_ms
        contact = self._leader_contact_ms
        leader_heard = contact is not None and now_ms - contact < self.cfg.election_timeout_ms[0]
        grant = (
            req.term > self._term
            and self._up_to_date(req)
            and self._role is not Role.LEADER
            and not leader_heard
        )
        return VoteResponse(self._term, grant)

    def handle_prevote_response(
        self, now_ms: int, from_id: NodeId, term: int, reply: PreVoteReply
    ) -> None:
        """A peer's answer to the PreVote for `term` (the term campaigned for). A higher term
        in the answer is adopted (Figure 2); a grant (or `Unimplemented`) from a majority, self
        included, starts the real election while the round is still current."""
        self._now_ms = now_ms
        if isinstance(reply, Answer):
            self._observe_term(reply.response.term)
            granted = reply.response.vote_granted
        else:
            granted = True
        current = self._role is not Role.LEADER and term == self._term + 1
        round_ = self._prevote
        if round_ is None or round_.term != term or not current:
            return
        if granted:
            round_.granted.add(from_id)
        if len(round_.granted) >= self._quorum():
            self._end_prevote()
            self._start_election()

    def handle_vote_request(self, now_ms: int, req: VoteRequest) -> VoteResponse:
        """RequestVote RPC (Figure 2, "RequestVote RPC, receiver implementation")."""
        self._now_ms = now_ms
        self._observe_term(req.term)
        up_to_date = self._up_to_date(req)
        free = self._voted_for in (NONE, req.candidate_id)
        grant = req.term == self._term and free and up_to_date
        if grant:
            if self._voted_for != req.candidate_id:
                self._voted_for = req.candidate_id
                self._ready.hard_state = self.hard_state
            self._ready.events.append(VoteEvent(self._term, req.candidate_id))
            self._reset_election_timer()
        return VoteResponse(self._term, grant)

    def handle_append_request(self, now_ms: int, req: AppendRequest) -> AppendResponse:
        """AppendEntries RPC (Figure 2, "AppendEntries RPC, receiver implementation"), with the
        conflict hint of the thesis §5.3 fast backtracking on a rejection."""
        self._now_ms = now_ms
        self._observe_term(req.term)
        if req.term < self._term:
            return AppendResponse(self._term, False)
        # A current-term AppendEntries comes from the legitimate leader (§5.2).
        if self._role is not Role.FOLLOWER:
            self._become_follower()
        self._leader_id = req.leader_id
        self._leader_contact_ms = now_ms
        self._end_prevote()
        self._reset_election_timer()
        prev = req.prev_log_index
        if prev < -1:
            # Malformed (no such index): refused, where the Rust core would index out of range.
            return AppendResponse(self._term, False, len(self._log), None)
        if prev >= 0:
            if prev > self.last_log_index:
                return AppendResponse(self._term, False, len(self._log), None)
            t = self._log[prev].term
            if t != req.prev_log_term:
                first = prev
                while first > 0 and self._log[first - 1].term == t:
                    first -= 1
                return AppendResponse(self._term, False, first, t)
        self._store_entries(prev, req.entries)
        last_new = prev + len(req.entries)
        if req.leader_commit > self._commit_index:
            self._advance_commit(min(req.leader_commit, last_new))
        return AppendResponse(self._term, True)

    def handle_vote_response(self, now_ms: int, from_id: NodeId, resp: VoteResponse) -> None:
        """A vote for this candidate (§5.2): a majority, self included, makes it Leader."""
        self._now_ms = now_ms
        self._observe_term(resp.term)
        if self._role is not Role.CANDIDATE or resp.term != self._term or not resp.vote_granted:
            return
        self._votes.add(from_id)
        if len(self._votes) >= self._quorum():
            self._become_leader()

    def handle_append_response(
        self, now_ms: int, from_id: NodeId, sent: AppendSent, resp: AppendResponse
    ) -> None:
        """A reply to this leader's AppendEntries `sent` (§5.3); any reply of this term counts
        as contact for check-quorum."""
        self._now_ms = now_ms
        self._observe_term(resp.term)
        if self._role is not Role.LEADER or sent.term != self._term:
            return
        p = self._progress.get(from_id)
        if p is None:
            return
        p.last_reply_ms = max(p.last_reply_ms, now_ms)
        p.read_acked = max(p.read_acked, sent.read_seq)
        self._confirm_reads()
        sent_last = sent.prev_log_index + sent.n_entries
        if resp.success:
            p.on_success(sent_last)
            self._maybe_commit()
            self._send_appends(from_id)
            return
        hinted = self._backtrack_hint(sent, resp)
        if p.on_reject(sent.prev_log_index, sent_last, hinted) and p.can_send(
            self.cfg.max_inflight_appends
        ):
            self._send_append(from_id)

    def handle_send_failure(self, now_ms: int, peer: NodeId, sent: AppendSent | None) -> None:
        """The driver could not deliver a message to `peer` (or got no answer in time). A failed
        append carrying entries past matchIndex puts the peer back in probe; entries are retried
        no earlier than one heartbeat interval later."""
        self._now_ms = now_ms
        p = self._progress.get(peer)
        if sent is not None and p is not None and sent.term == self._term and sent.n_entries > 0:
            p.on_send_failure(sent.prev_log_index + sent.n_entries)
            p.retry_at_ms = now_ms + self.cfg.heartbeat_ms

    def propose(self, now_ms: int, command: str) -> tuple[int, int] | NotLeader:
        """A client command. On the leader it is appended and replicated; the returned
        (index, term) identify it when it is committed (or overwritten)."""
        self._now_ms = now_ms
        if self._role is not Role.LEADER:
            return NotLeader(self._leader_id)
        index = self._append_own(command)
        self._broadcast_append()
        self._maybe_commit()
        return index, self._term

    def read_index(self, now_ms: int, ctx: int) -> None | NotLeader:
        """ReadIndex (thesis §6.4): a linearizable read without a log entry. On the leader the
        read gets readIndex = commitIndex once the leader has committed an entry of its term
        (the no-op appended at election, §8; until then it waits), and a new round: heartbeats
        to every peer numbered with the round. When a majority (self included) has answered an
        append of this term sent in that round or later, `Ready.reads` gets ReadReady(ctx,
        index); if this node stops being leader first, ReadFailed(ctx). `ctx` is the caller's
        tag, returned as is. Not leader: NotLeader (as `propose`)."""
        self._now_ms = now_ms
        if self._role is not Role.LEADER:
            return NotLeader(self._leader_id)
        self._reads.append(_PendingRead(ctx))
        if self._committed_in_term():
            self._start_read_round()
        return None

    # ----- internals -----

    def _committed_in_term(self) -> bool:
        """The leader has committed an entry of its current term (thesis §6.4 step 1)."""
        return self._commit_index >= 0 and self._log[self._commit_index].term == self._term

    def _start_read_round(self) -> None:
        """Numbers a new round for every read without one, records readIndex = commitIndex and
        sends a heartbeat to every peer carrying the round (thesis §6.4 steps 1-2)."""
        self._read_seq += 1
        for r in self._reads:
            if r.round is None:
                r.round = (self._commit_index, self._read_seq)
        for peer in self.cfg.peers:
            self._send_heartbeat(peer)
        self._confirm_reads()

    def _confirm_reads(self) -> None:
        """Emits ReadReady for every read whose round a majority (self included) has
        acknowledged (thesis §6.4 step 3), in request order."""
        if not self._reads:
            return
        acked = sorted((p.read_acked for p in self._progress.values()), reverse=True)
        need = self._quorum() - 1  # peers besides this node
        confirmed = acked[need - 1] if need > 0 else None
        keep: list[_PendingRead] = []
        for r in self._reads:
            if r.round is not None and (confirmed is None or r.round[1] <= confirmed):
                self._ready.reads.append(ReadReady(r.ctx, r.round[0]))
            else:
                keep.append(r)
        self._reads = keep

    def _fail_reads(self) -> None:
        """Leadership lost: every pending read fails."""
        self._ready.reads.extend(ReadFailed(r.ctx) for r in self._reads)
        self._reads = []

    def _up_to_date(self, req: VoteRequest) -> bool:
        """§5.4.1: the candidate's log is at least as up-to-date as ours (later last term, or
        the same last term and at least as long)."""
        return req.last_log_term > self.last_log_term or (
            req.last_log_term == self.last_log_term and req.last_log_index >= self.last_log_index
        )

    def _has_quorum_contact(self) -> bool:
        """Check-quorum (thesis §6.2): a reply from a majority, self included, within the last
        maximum election timeout. Always true with check-quorum off."""
        if not self.cfg.check_quorum:
            return True
        window = self.cfg.election_timeout_ms[1]
        recent = sum(1 for p in self._progress.values() if self._now_ms - p.last_reply_ms < window)
        return 1 + recent >= self._quorum()

    def _step_down_no_quorum(self) -> None:
        """A leader cut off from the majority steps down in the same term, keeping votedFor."""
        self._leader_id = NONE
        self._become_follower()

    def _start_prevote(self) -> None:
        """Election timeout with pre-vote on (thesis §9.6): stay (or return to) Follower in the
        same term, draw a new timeout and ask every peer for a pre-vote for term + 1. A leader
        not heard from for a timeout is presumed gone (`leader_id` cleared)."""
        self._end_prevote()
        if self._role is not Role.FOLLOWER:
            self._become_follower()  # a Candidate whose election timed out
        self._leader_id = NONE
        self._reset_election_timer()
        term = self._term + 1
        self._ready.events.append(PreVoteEvent(term))
        self._prevote = _PreVoteRound(term, {self.cfg.id})
        if self._quorum() == 1:
            self._end_prevote()
            self._start_election()
            return
        req = VoteRequest(term, self.cfg.id, self.last_log_index, self.last_log_term)
        for peer in self.cfg.peers:
            self._ready.messages.append((peer, PreVoteMessage(req)))

    def _end_prevote(self) -> None:
        """Ends the current pre-vote round, if any, journaling its result."""
        round_, self._prevote = self._prevote, None
        if round_ is not None:
            self._ready.events.append(PreVoteResultEvent(round_.term, len(round_.granted)))

    def _quorum(self) -> int:
        """A majority of the cluster (peers plus this node)."""
        return (len(self.cfg.peers) + 1) // 2 + 1

    def _observe_term(self, term: int) -> None:
        """ "If RPC request or response contains term T > currentTerm: set currentTerm = T,
        convert to follower" (Figure 2, Rules for Servers)."""
        if term > self._term:
            self._end_prevote()  # a round for a term this node has now reached is moot
            self._term = term
            self._voted_for = NONE
            self._ready.hard_state = self.hard_state
            self._ready.events.append(TermEvent(term))
            self._leader_id = NONE
            if self._role is not Role.FOLLOWER:
                self._become_follower()

    def _become_follower(self) -> None:
        """Back to Follower (from Candidate or Leader) with a fresh, newly drawn election
        timeout: a deposed leader's timer still dates from the election it won, and keeping it
        would make it time out at once and unseat the new leader (etcd raft does the same)."""
        self._role = Role.FOLLOWER
        self._fail_reads()
        self._end_prevote()
        self._votes.clear()
        self._progress.clear()
        self._reset_election_timer()
        self._ready.events.append(RoleEvent(Role.FOLLOWER, self._term))

    def _reset_election_timer(self) -> None:
        self._election_reset_ms = self._now_ms
        self._ready.reset_timer = True

    def _start_election(self) -> None:
        """§5.2: term + 1, vote for itself, Candidate, RequestVote to every peer."""
        self._end_prevote()
        self._term += 1
        self._voted_for = self.cfg.id
        self._role = Role.CANDIDATE
        self._leader_id = NONE
        self._progress.clear()
        self._ready.hard_state = self.hard_state
        self._ready.events.append(TermEvent(self._term))
        self._ready.events.append(VoteEvent(self._term, self.cfg.id))
        self._ready.events.append(RoleEvent(Role.CANDIDATE, self._term))
        self._reset_election_timer()
        self._votes = {self.cfg.id}
        if len(self._votes) >= self._quorum():
            self._become_leader()
            return
        req = VoteRequest(self._term, self.cfg.id, self.last_log_index, self.last_log_term)
        for peer in self.cfg.peers:
            self._ready.messages.append((peer, VoteMessage(req)))

    def _become_leader(self) -> None:
        self._role = Role.LEADER
        self._leader_id = self.cfg.id
        self._votes.clear()
        self._ready.events.append(RoleEvent(Role.LEADER, self._term))
        nxt = len(self._log)
        self._progress = {
            p: Progress(next_index=nxt, last_reply_ms=self._now_ms) for p in self.cfg.peers
        }
        # Raft §8: a no-op of the new term lets entries of earlier terms commit.
        self._append_own("")
        self._broadcast_append()
        self._maybe_commit()

    def _append_own(self, command: str) -> int:
        entry = Entry(len(self._log), self._term, command)
        self._log.append(entry)
        self._push_log_append([entry])
        return entry.index

    def _store_entries(self, prev: int, entries: tuple[Entry, ...]) -> None:
        """Follower side of §5.3: skip entries already held, truncate only on a differing
        term (a stale, reordered request whose entries already match never truncates)."""
        appended: list[Entry] = []
        for i, e in enumerate(entries):
            idx = prev + 1 + i
            if idx <= self.last_log_index:
                if self._log[idx].term == e.term:
                    continue
                self._truncate_from(idx)
            entry = Entry(idx, e.term, e.command)
            self._log.append(entry)
            appended.append(entry)
        self._push_log_append(appended)

    def _push_log_append(self, entries: list[Entry]) -> None:
        if not entries:
            return
        ops = self._ready.log_ops
        if ops and isinstance(ops[-1], LogAppend):
            ops[-1] = LogAppend(ops[-1].entries + tuple(entries))
        else:
            ops.append(LogAppend(tuple(entries)))

    def _truncate_from(self, from_index: int) -> None:
        if from_index <= self._commit_index:
            # Only a leader that broke Leader Completeness (§5.4.3) asks for it: refused rather
            # than losing a committed entry. The Rust core has no such guard (docs/scenarios.md:
            # how a core guards against it is not part of the contract).
            raise AssertionError(
                f"refusing to truncate committed entries"
                f" (from {from_index}, commitIndex {self._commit_index})"
            )
        del self._log[from_index:]
        self._ready.log_ops.append(LogTruncate(from_index))
        self._ready.events.append(TruncateEvent(from_index))

    def _broadcast_append(self) -> None:
        """New entries go to every peer with room in its window (see `_send_appends`)."""
        for peer in self.cfg.peers:
            self._send_appends(peer)

    def _send_appends(self, peer: NodeId) -> None:
        """Sends appends to `peer` while it lags (nextIndex <= last log index) and its
        progress has room: one in probe, up to `max_inflight_appends` in replicate."""
        p = self._progress[peer]
        while p.next_index <= self.last_log_index and p.can_send(self.cfg.max_inflight_appends):
            if not self._send_append(peer):
                return  # max_entries_per_append = 0: nothing to send

    def _send_append(self, peer: NodeId) -> bool:
        """Sends the entries from nextIndex on (at most max_entries_per_append), recorded in
        the peer's progress as in flight. Returns whether it carried entries."""
        p = self._progress[peer]
        nxt = min(max(p.next_index, 0), len(self._log))
        prev = nxt - 1
        prev_term = self._log[prev].term if prev >= 0 else 0
        entries = tuple(self._log[nxt : nxt + self.cfg.max_entries_per_append])
        if entries:
            p.on_sent(nxt + len(entries) - 1, self._now_ms)
        p.last_sent_ms = self._now_ms
        req = AppendRequest(self._term, self.cfg.id, prev, prev_term, entries, self._commit_index)
        self._push_append(peer, req)
        return bool(entries)

    def _send_heartbeat(self, peer: NodeId) -> None:
        """An empty AppendEntries anchored at matchIndex, which the follower is known to hold,
        so it asserts leadership and carries the commit index without ever causing
        backtracking."""
        p = self._progress[peer]
        prev = min(p.match_index, len(self._log) - 1)
        prev_term = self._log[prev].term if prev >= 0 else 0
        p.last_sent_ms = self._now_ms
        req = AppendRequest(self._term, self.cfg.id, prev, prev_term, (), self._commit_index)
        self._push_append(peer, req)

    def _push_append(self, peer: NodeId, req: AppendRequest) -> None:
        """Queues an append with its AppendSent, numbered with the current ReadIndex round."""
        sent = AppendSent(req.term, req.prev_log_index, len(req.entries), self._read_seq)
        self._ready.messages.append((peer, AppendMessage(req, sent)))

    def _backtrack_hint(self, sent: AppendSent, resp: AppendResponse) -> int:
        """Fast backtracking (Raft thesis §5.3): after the last entry of the conflicting term
        if this log has one, else the follower's conflict index, else nextIndex - 1."""
        if resp.conflict_term is not None:
            for pos in range(len(self._log) - 1, -1, -1):
                if self._log[pos].term == resp.conflict_term:
                    return pos + 1
            return resp.conflict_index if resp.conflict_index is not None else sent.prev_log_index
        if resp.conflict_index is not None:
            return resp.conflict_index
        return sent.prev_log_index

    def _maybe_commit(self) -> None:
        """ "If there exists an N such that N > commitIndex, a majority of matchIndex[i] >= N,
        and log[N].term == currentTerm: set commitIndex = N" (Figure 2; Figure 8 explains the
        term condition). The leader counts itself: its entries are persisted before any
        message."""
        n = self.last_log_index
        while n > self._commit_index:
            if self._log[n].term != self._term:
                break  # older terms below: never commit them by counting replicas
            replicas = 1 + sum(1 for p in self._progress.values() if p.match_index >= n)
            if replicas >= self._quorum():
                self._advance_commit(n)
                return
            n -= 1

    def _advance_commit(self, index: int) -> None:
        if index <= self._commit_index:
            return
        self._commit_index = index
        self._ready.events.append(CommitEvent(index))
        while self._last_applied < self._commit_index:
            self._last_applied += 1
            self._ready.committed.append(self._log[self._last_applied])
        waiting = any(r.round is None for r in self._reads)
        if self._role is Role.LEADER and waiting and self._committed_in_term():
            self._start_read_round()

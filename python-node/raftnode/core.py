"""The Raft consensus logic, with no I/O (node contract section 2).

`RaftCore` is a deterministic state machine. Its inputs are method calls: an election timeout,
an incoming RPC request or response, a client proposal. Its outputs accumulate until the driver
calls `take_output()`: whether term/vote and which part of the log must be made durable,
journal events, applied entries and whether the election timer must be re-drawn. The driver
(server.py) must make the state durable and write the journal *before* it sends any reply or
message produced by the same step; the core never sleeps, reads clocks or touches sockets, so
tests drive it message by message.

Time is an input too: the steps that need it take `now`, the driver's monotonic clock in seconds
(server.py passes `loop.time()`; tests pass any numbers). It serves two rules of the Raft thesis
§9.6 / node contract "Pre-vote and check-quorum": a follower refuses pre-votes while it heard
from a leader within the minimum election timeout, and a leader steps down when no majority
replied within the maximum election timeout.

Log indices are 0-based; an empty log has last index -1 and last term 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .kv import KvStore

FOLLOWER = "Follower"
CANDIDATE = "Candidate"
LEADER = "Leader"

# Most entries sent in one AppendEntries; a lagging peer catches up in batches.
MAX_BATCH = 256


@dataclass(frozen=True)
class Entry:
    term: int
    command: str


@dataclass(frozen=True)
class VoteRequest:
    term: int
    candidate_id: int
    last_log_index: int
    last_log_term: int


@dataclass(frozen=True)
class PreVoteRequest:
    """PreVote RPC (thesis §9.6): "would you vote for me in `term`?" (= the sender's term + 1).

    Same fields as RequestVote; answering it changes nothing on the receiver."""

    term: int
    candidate_id: int
    last_log_index: int
    last_log_term: int


@dataclass(frozen=True)
class VoteResponse:
    term: int
    granted: bool


@dataclass(frozen=True)
class AppendRequest:
    term: int
    leader_id: int
    prev_log_index: int
    prev_log_term: int
    entries: tuple[Entry, ...]
    leader_commit: int


@dataclass(frozen=True)
class AppendResponse:
    term: int
    success: bool
    conflict_index: int | None = None
    conflict_term: int | None = None


@dataclass(frozen=True)
class Applied:
    index: int
    term: int
    command: str
    result: str | None


@dataclass
class Output:
    """What one or more steps produced; drained by `RaftCore.take_output()`."""

    events: list[dict[str, Any]] = field(default_factory=list)
    state_dirty: bool = False  # currentTerm / votedFor changed: persist before replying
    log_dirty_from: int | None = None  # log changed at indices >= this: persist before replying
    applied: list[Applied] = field(default_factory=list)
    reset_timer: bool = False  # re-draw the election timer
    replicate: bool = False  # leader has new entries: wake the replication loops


class RaftCore:
    def __init__(
        self,
        node_id: int,
        peer_ids: list[int],
        term: int = 0,
        voted_for: int = -1,
        log: list[Entry] | None = None,
        election_min_s: float = 0.15,
        election_max_s: float = 0.3,
    ) -> None:
        """`election_min_s`/`election_max_s`: the election timeout range in seconds (the driver
        draws the timeouts; the core needs the bounds for pre-vote and check-quorum)."""
        self.node_id = node_id
        self.peer_ids = list(peer_ids)
        self.current_term = term
        self.voted_for = voted_for
        self.log: list[Entry] = list(log or [])
        self.commit_index = -1
        self.last_applied = -1
        self.role = FOLLOWER
        self.leader_id = -1
        self.kv = KvStore()
        self.votes: set[int] = set()
        self.next_index: dict[int, int] = {}
        self.match_index: dict[int, int] = {}
        self.election_min_s = election_min_s
        self.election_max_s = election_max_s
        # When this node last accepted an AppendEntries of its current term (None: not since
        # the term began). A recent one makes it refuse pre-votes.
        self.leader_contact: float | None = None
        # The pre-vote round in progress: the term campaigned for, and who granted it.
        self.prevote_term: int | None = None
        self.prevotes: set[int] = set()
        # Leader only: when each peer last answered an AppendEntries (check-quorum).
        self.last_reply: dict[int, float] = {}
        self._out = Output()

    # ----- queries -----

    @property
    def last_log_index(self) -> int:
        return len(self.log) - 1

    @property
    def last_log_term(self) -> int:
        return self.log[-1].term if self.log else 0

    def term_at(self, index: int) -> int:
        return self.log[index].term if 0 <= index < len(self.log) else 0

    def majority(self) -> int:
        return (len(self.peer_ids) + 1) // 2 + 1

    def take_output(self) -> Output:
        out, self._out = self._out, Output()
        return out

    # ----- internal helpers -----

    def _event(self, event: str, **fields: Any) -> None:
        self._out.events.append({"event": event, **fields})

    def _set_role(self, role: str) -> None:
        if role != self.role:
            self.role = role
            self._event("role", role=role, term=self.current_term)

    def _observe_term(self, term: int) -> None:
        """Any message with a higher term: adopt it, forget the vote, become Follower."""
        if term > self.current_term:
            self._end_prevote()
            self.current_term = term
            self.voted_for = -1
            self.leader_id = -1
            self.leader_contact = None
            self._out.state_dirty = True
            self._event("term", term=term)
            if self.role != FOLLOWER:
                self._step_down()

    def _step_down(self) -> None:
        """Become Follower in the current term with a fresh, newly drawn election timeout
        (node contract "Stepping down"): a deposed leader must not time out at once on the
        timer of the election it won long ago."""
        self._set_role(FOLLOWER)
        self._out.reset_timer = True

    def _truncate(self, from_index: int) -> None:
        if from_index <= self.commit_index:
            # Would lose a committed entry: a leader violated Raft. Refuse rather than corrupt.
            raise AssertionError(
                f"refusing to truncate committed entries"
                f" (from {from_index}, commit {self.commit_index})"
            )
        del self.log[from_index:]
        self._mark_log_dirty(from_index)
        self._event("truncate", from_index=from_index)

    def _append(self, entry: Entry) -> None:
        self.log.append(entry)
        self._mark_log_dirty(len(self.log) - 1)

    def _mark_log_dirty(self, index: int) -> None:
        cur = self._out.log_dirty_from
        self._out.log_dirty_from = index if cur is None else min(cur, index)

    def _set_commit(self, index: int) -> None:
        if index > self.commit_index:
            self.commit_index = index
            self._event("commit", index=index)
            self._apply_committed()

    def _apply_committed(self) -> None:
        while self.last_applied < self.commit_index:
            self.last_applied += 1
            entry = self.log[self.last_applied]
            result = self.kv.apply(entry.command)
            self._event(
                "apply",
                index=self.last_applied,
                term=entry.term,
                command=entry.command,
                result=result,
            )
            self._out.applied.append(Applied(self.last_applied, entry.term, entry.command, result))

    # ----- elections -----

    def on_election_timeout(self, now: float = 0.0) -> PreVoteRequest | VoteRequest | None:
        """The election timer fired (Raft §5.2, with the pre-vote of thesis §9.6).

        A Follower or Candidate does not raise its term: it becomes (or stays) a Follower,
        forgets the leader it no longer hears from, and returns the PreVote to send to every
        peer; the real election starts only once a majority granted it
        (`on_prevote_response`). The driver re-draws the timer (`reset_timer`), so a round that
        gets no majority is retried at the next timeout. A one-node cluster is its own majority
        and starts the election at once (returns None, leader). A Leader ignores it (None).
        """
        if self.role == LEADER:
            return None
        if self.majority() <= 1:
            return self.start_election(now)
        self._end_prevote()
        if self.role != FOLLOWER:
            self._set_role(FOLLOWER)
        self.leader_id = -1
        self._out.reset_timer = True
        self.prevote_term = self.current_term + 1
        self.prevotes = {self.node_id}
        self._event("prevote", term=self.prevote_term)
        return PreVoteRequest(
            self.prevote_term, self.node_id, self.last_log_index, self.last_log_term
        )

    def on_prevote_request(self, req: PreVoteRequest, now: float) -> VoteResponse:
        """Answer a PreVote (thesis §9.6): granted iff `req.term > currentTerm`, the sender's log
        is at least as up-to-date as ours (§5.4.1) and we have not accepted an AppendEntries of
        our current term within `election_min_s` before `now` (a Leader never grants).
        Changes nothing: no term adoption, no vote, no timer reset, nothing to persist."""
        heard_leader = self.role == LEADER or (
            self.leader_contact is not None and now - self.leader_contact < self.election_min_s
        )
        granted = req.term > self.current_term and self._up_to_date(req) and not heard_leader
        return VoteResponse(self.current_term, granted)

    def on_prevote_response(
        self, peer: int, req_term: int, resp: VoteResponse, now: float = 0.0
    ) -> VoteRequest | None:
        """Count a pre-vote of the round for `req_term`. A higher term in the reply is adopted
        (which ends the round). Returns the RequestVote to send to every peer when this grant
        completes a majority and the real election starts; otherwise None. A peer that answers
        UNIMPLEMENTED (a server without PreVote) is passed as `VoteResponse(0, True)`."""
        self._observe_term(resp.term)
        if (
            not resp.granted
            or self.prevote_term != req_term
            or self.current_term + 1 != req_term
            or self.role == LEADER
        ):
            return None
        self.prevotes.add(peer)
        if len(self.prevotes) < self.majority():
            return None
        return self.start_election(now)

    def _end_prevote(self) -> None:
        """Close the pre-vote round in progress, if any (journal `prevote_result`)."""
        if self.prevote_term is not None:
            self._event("prevote_result", term=self.prevote_term, granted=len(self.prevotes))
            self.prevote_term = None
            self.prevotes = set()

    def start_election(self, now: float = 0.0) -> VoteRequest | None:
        """Start a real election (Raft §5.2): term + 1, vote for itself, Candidate.

        Returns the RequestVote to send to every peer, or None when it won at once (one node)."""
        self._end_prevote()
        self.current_term += 1
        self.voted_for = self.node_id
        self.leader_id = -1
        self.leader_contact = None
        self._out.state_dirty = True
        self._out.reset_timer = True
        self._event("term", term=self.current_term)
        self._set_role(CANDIDATE)
        self._event("vote", term=self.current_term, candidate=self.node_id)
        self.votes = {self.node_id}
        if len(self.votes) >= self.majority():
            self._become_leader(now)
            return None
        return VoteRequest(self.current_term, self.node_id, self.last_log_index, self.last_log_term)

    def _up_to_date(self, req: VoteRequest | PreVoteRequest) -> bool:
        """The candidate's log is at least as up-to-date as ours (Raft §5.4.1)."""
        return req.last_log_term > self.last_log_term or (
            req.last_log_term == self.last_log_term and req.last_log_index >= self.last_log_index
        )

    def on_vote_request(self, req: VoteRequest) -> VoteResponse:
        self._observe_term(req.term)
        granted = (
            req.term == self.current_term
            and self.voted_for in (-1, req.candidate_id)
            and self._up_to_date(req)
        )
        if granted:
            if self.voted_for != req.candidate_id:
                self.voted_for = req.candidate_id
                self._out.state_dirty = True
                self._event("vote", term=self.current_term, candidate=req.candidate_id)
            self._out.reset_timer = True
        return VoteResponse(self.current_term, granted)

    def on_vote_response(
        self, peer: int, req_term: int, resp: VoteResponse, now: float = 0.0
    ) -> None:
        self._observe_term(resp.term)
        if self.role != CANDIDATE or self.current_term != req_term or not resp.granted:
            return
        self.votes.add(peer)
        if len(self.votes) >= self.majority():
            self._become_leader(now)

    def _become_leader(self, now: float) -> None:
        self._set_role(LEADER)
        self.leader_id = self.node_id
        self.next_index = {p: len(self.log) for p in self.peer_ids}
        self.match_index = {p: -1 for p in self.peer_ids}
        # Check-quorum counts from the start of the term: every peer gets a full timeout.
        self.last_reply = {p: now for p in self.peer_ids}
        # Raft 8: a no-op of the new term lets entries of earlier terms commit (Figure 8).
        self._append(Entry(self.current_term, ""))
        self._out.replicate = True
        self._advance_commit()

    # ----- replication, follower side -----

    def on_append_request(self, req: AppendRequest, now: float = 0.0) -> AppendResponse:
        """AppendEntries (Raft §5.3); `now` records the leader contact that makes this node
        refuse pre-votes for the next `election_min_s` (thesis §9.6)."""
        self._observe_term(req.term)
        if req.term < self.current_term:
            return AppendResponse(self.current_term, False)
        self._end_prevote()
        if self.role != FOLLOWER:
            self._set_role(FOLLOWER)  # a candidate of the same term: the election is lost
        self.leader_id = req.leader_id
        self.leader_contact = now
        self._out.reset_timer = True

        prev = req.prev_log_index
        if prev < -1:  # malformed: there is no such index
            return AppendResponse(self.current_term, False, conflict_index=len(self.log))
        if prev >= len(self.log):
            return AppendResponse(self.current_term, False, conflict_index=len(self.log))
        if prev >= 0 and self.log[prev].term != req.prev_log_term:
            conflict_term = self.log[prev].term
            first = prev
            while first > 0 and self.log[first - 1].term == conflict_term:
                first -= 1
            return AppendResponse(
                self.current_term, False, conflict_index=first, conflict_term=conflict_term
            )

        for offset, entry in enumerate(req.entries):
            index = prev + 1 + offset
            if index < len(self.log):
                if self.log[index].term == entry.term:
                    continue  # already have it: a stale or repeated request never truncates
                self._truncate(index)
            self._append(entry)

        last_new = prev + len(req.entries)
        if req.leader_commit > self.commit_index:
            self._set_commit(min(req.leader_commit, last_new))
        return AppendResponse(self.current_term, True)

    # ----- replication, leader side -----

    def append_request_for(self, peer: int) -> AppendRequest | None:
        """The next AppendEntries for `peer` (a heartbeat when it is up to date)."""
        if self.role != LEADER:
            return None
        next_index = self.next_index[peer]
        prev = next_index - 1
        entries = tuple(self.log[next_index : next_index + MAX_BATCH])
        return AppendRequest(
            self.current_term, self.node_id, prev, self.term_at(prev), entries, self.commit_index
        )

    def has_more_for(self, peer: int) -> bool:
        return self.role == LEADER and self.next_index[peer] < len(self.log)

    def on_append_response(
        self, peer: int, req: AppendRequest, resp: AppendResponse, now: float = 0.0
    ) -> None:
        """A reply to our AppendEntries (Raft §5.3); any reply of this term, success or not,
        counts as contact for check-quorum at `now`."""
        self._observe_term(resp.term)
        if self.role != LEADER or self.current_term != req.term:
            return
        self.last_reply[peer] = max(self.last_reply.get(peer, now), now)
        if resp.success:
            match = req.prev_log_index + len(req.entries)
            if match > self.match_index[peer]:
                self.match_index[peer] = match
            self.next_index[peer] = max(self.next_index[peer], match + 1)
            self._advance_commit()
            return
        # Rejected: back up nextIndex, using the follower's hint when it sent one.
        if resp.conflict_term is not None:
            last_of_term = -1
            for i in range(min(req.prev_log_index, len(self.log) - 1), -1, -1):
                t = self.log[i].term
                if t == resp.conflict_term:
                    last_of_term = i
                    break
                if t < resp.conflict_term:
                    break
            if last_of_term >= 0:
                candidate = last_of_term + 1
            else:
                candidate = (
                    resp.conflict_index if resp.conflict_index is not None else req.prev_log_index
                )
        elif resp.conflict_index is not None:
            candidate = resp.conflict_index
        else:
            candidate = req.prev_log_index  # an original peer: one step back
        # Always make progress and never go below 0, whatever the hint says.
        self.next_index[peer] = max(0, min(candidate, req.prev_log_index))

    def check_quorum(self, now: float) -> bool:
        """Check-quorum (thesis §6.2/§9.6): a Leader that has not had a reply from a majority
        (counting itself) within the last `election_max_s` before `now` steps down to Follower
        in the same term (keeping its vote). Returns True when it stepped down. The driver
        calls it periodically (every heartbeat) while leading."""
        if self.role != LEADER:
            return False
        fresh = 1 + sum(
            1 for p in self.peer_ids if now - self.last_reply.get(p, now) <= self.election_max_s
        )
        if fresh >= self.majority():
            return False
        self.leader_id = -1
        self._step_down()
        return True

    def _advance_commit(self) -> None:
        """Commit the highest N replicated on a majority whose entry has the current term."""
        for n in range(len(self.log) - 1, self.commit_index, -1):
            if self.log[n].term != self.current_term:
                break  # earlier entries have older terms (Figure 8): they commit only with ours
            count = 1 + sum(1 for p in self.peer_ids if self.match_index[p] >= n)
            if count >= self.majority():
                self._set_commit(n)
                break

    # ----- clients -----

    def propose(self, command: str) -> int | None:
        """Append a client command; returns its index, or None when not leader."""
        if self.role != LEADER:
            return None
        self._append(Entry(self.current_term, command))
        self._out.replicate = True
        self._advance_commit()  # a one-node cluster commits at once
        return len(self.log) - 1

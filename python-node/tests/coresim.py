"""Helpers that drive RaftCore by hand for the core tests: build cores, fire timers, carry
messages. Time is integer milliseconds; the default election timeout range is 150-300 ms."""

from __future__ import annotations

from raftnode.core import (
    NONE,
    Answer,
    AppendMessage,
    AppendRequest,
    AppendResponse,
    Config,
    Entry,
    HardState,
    Message,
    PreVoteMessage,
    RaftCore,
    Ready,
    Role,
    VoteMessage,
    VoteRequest,
    VoteResponse,
)

MIN_MS, MAX_MS = 150, 300
HEARTBEAT_MS = 50


def make(
    node_id: int,
    size: int = 3,
    term: int = 0,
    voted_for: int = NONE,
    log: list[Entry] | None = None,
    now: int = 0,
) -> RaftCore:
    peers = tuple(i for i in range(1, size + 1) if i != node_id)
    cfg = Config(node_id, peers, HEARTBEAT_MS, MIN_MS, 256, (MIN_MS, MAX_MS), True, True)
    return RaftCore(cfg, HardState(term, voted_for), list(log or []), now, MAX_MS)


def log_of(*terms: int) -> list[Entry]:
    return [Entry(i, t, f"c{i}") for i, t in enumerate(terms)]


def kinds(ready: Ready) -> list[str]:
    """The journal names of a Ready's events, in order."""
    names = {
        "TermEvent": "term",
        "VoteEvent": "vote",
        "RoleEvent": "role",
        "TruncateEvent": "truncate",
        "CommitEvent": "commit",
        "PreVoteEvent": "prevote",
        "PreVoteResultEvent": "prevote_result",
    }
    return [names[type(e).__name__] for e in ready.events]


def sent(ready: Ready, kind: type[Message], to: int | None = None) -> list[tuple[int, Message]]:
    return [(p, m) for p, m in ready.messages if isinstance(m, kind) and to in (None, p)]


def timeout(core: RaftCore, now: int) -> Ready:
    """The election timer fires at `now` (the driver drew a timeout that ends now); returns
    the Ready of that tick, and answers its reset_timer with MAX_MS as a driver would."""
    core.set_election_timeout(0)
    core.tick(now)
    core.set_election_timeout(MAX_MS)
    return core.take_ready()


def _only_request(ready: Ready, kind: type[VoteMessage] | type[PreVoteMessage]) -> VoteRequest:
    msgs = [m for _, m in sent(ready, kind)]
    assert msgs, f"no {kind.__name__} in {ready}"
    msg = msgs[0]
    assert isinstance(msg, kind)
    return msg.request


def prevote_request(ready: Ready) -> VoteRequest:
    """The PreVote request the Ready sends (to every peer alike)."""
    return _only_request(ready, PreVoteMessage)


def vote_request(ready: Ready) -> VoteRequest:
    """The RequestVote the Ready sends (to every peer alike)."""
    return _only_request(ready, VoteMessage)


# §5.4.1 "up-to-date" cases against a log whose last index is 2 and last term 2:
# (candidate's last_log_index, last_log_term, granted).
UP_TO_DATE_CASES = [
    (2, 2, True),  # identical log
    (5, 2, True),  # same last term, longer
    (1, 2, False),  # same last term, shorter
    (0, 3, True),  # higher last term wins even when shorter
    (9, 1, False),  # lower last term loses even when longer
    (-1, 0, False),  # empty log
]


def prevote_grant(term: int) -> Answer:
    """A peer's pre-vote granted, the peer being in `term` (thesis §9.6)."""
    return Answer(VoteResponse(term, True))


def elect(core: RaftCore, now: int = 0) -> None:
    """Times out, collects pre-votes and then votes from every peer until leader."""
    core.take_ready()
    pre = prevote_request(timeout(core, now))
    for peer in core.cfg.peers:
        core.handle_prevote_response(now, peer, pre.term, prevote_grant(pre.term - 1))
        if core.role is Role.CANDIDATE:
            break
    assert core.role is Role.CANDIDATE
    for peer in core.cfg.peers:
        if core.role is Role.LEADER:
            break
        core.handle_vote_response(now, peer, VoteResponse(core.term, True))
    assert core.role is Role.LEADER


def deliver(
    leader: RaftCore, follower: RaftCore, req: AppendRequest, now: int, strip_hints: bool = False
) -> AppendResponse:
    """One AppendEntries round trip from `leader` to `follower`."""
    resp = follower.handle_append_request(now, req)
    if strip_hints:
        resp = AppendResponse(resp.term, resp.success)
    leader.handle_append_response(now, follower.cfg.id, req.sent(), resp)
    return resp


def replicate(leader: RaftCore, follower: RaftCore, now: int = 0, strip_hints: bool = False) -> int:
    """Carries the leader's AppendEntries to `follower` (messages to other peers are lost)
    until it sends no more; ticks the leader at `now` first when nothing is pending for the
    follower. Returns the number of round trips."""
    trips = 0
    pending = sent(leader.take_ready(), AppendMessage, follower.cfg.id)
    if not pending:
        leader.tick(now)
        pending = sent(leader.take_ready(), AppendMessage, follower.cfg.id)
    while pending:
        for _, msg in pending:
            assert isinstance(msg, AppendMessage)
            deliver(leader, follower, msg.request, now, strip_hints)
            trips += 1
            assert trips < 100, "replication does not converge"
        pending = sent(leader.take_ready(), AppendMessage, follower.cfg.id)
    return trips


def heartbeat(leader: RaftCore, follower: RaftCore, now: int) -> AppendResponse:
    """The leader's heartbeat (an empty AppendEntries at matchIndex) to `follower` at `now`."""
    p = leader.match_index(follower.cfg.id)
    assert p is not None
    prev_term = leader.log[p].term if p >= 0 else 0
    req = AppendRequest(leader.term, leader.cfg.id, p, prev_term, (), leader.commit_index)
    return deliver(leader, follower, req, now)

"""Pipelining (issue 15 §3; raftnode/progress.py, a port of rust-node/progress.rs): the leader
keeps up to `max_inflight_appends` AppendEntries in flight per follower once it has matched
(replicate), and falls back to one at a time (probe) after a rejection, a timeout or a failed
send. Replies may come late, twice or out of order (§5.3 needs matchIndex only as a lower
bound). The same decisions are in the shared corpus (scenarios/leader_pipeline*.txt)."""

from __future__ import annotations

from raftnode.core import (
    AppendMessage,
    AppendRequest,
    AppendResponse,
    AppendSent,
    Config,
    HardState,
    RaftCore,
    Role,
    VoteResponse,
)
from raftnode.progress import ProgressState

OK = AppendResponse(1, True)


def reject(conflict_index: int) -> AppendResponse:
    return AppendResponse(1, False, conflict_index)


def appends_to(core: RaftCore, peer: int) -> list[tuple[int, int, AppendSent]]:
    """The appends to `peer` in the core's Ready: (prevLogIndex, entries, AppendSent)."""
    return [
        (m.request.prev_log_index, len(m.request.entries), m.sent)
        for to, m in core.take_ready().messages
        if to == peer and isinstance(m, AppendMessage)
    ]


def leader(max_inflight: int = 3) -> RaftCore:
    """Node 1 of 3 leads term 1, both peers acknowledged the no-op (index 0): replicate."""
    cfg = Config(1, (2, 3), 50, 100, 1, (1000, 2000), False, False, max_inflight)
    core = RaftCore(cfg, HardState(), [], 0, 1000)
    core.tick(1000)
    core.take_ready()
    core.handle_vote_response(1001, 2, VoteResponse(1, True))
    assert core.role is Role.LEADER
    for to, m in core.take_ready().messages:
        if isinstance(m, AppendMessage):
            core.handle_append_response(1002, to, m.sent, OK)
    core.take_ready()
    assert core.progress_of(2) == (ProgressState.REPLICATE, 1, 0)
    return core


def propose(core: RaftCore, now: int, n: int) -> list[tuple[int, int, AppendSent]]:
    out = []
    for i in range(n):
        core.propose(now, f"SET k{i} v")
        out.extend(appends_to(core, 2))
    return out


def test_window_fills_to_the_limit_and_stops():
    core = leader()
    sent = propose(core, 1010, 5)
    assert [s[0] for s in sent] == [0, 1, 2], "three appends without waiting, not five"
    assert core.progress_of(2) == (ProgressState.REPLICATE, 4, 3)
    core.handle_append_response(1080, 2, sent[0][2], OK)
    assert [(p, n) for p, n, _ in appends_to(core, 2)] == [(3, 1)], "one slot freed, one sent"


def test_max_inflight_one_waits_for_each_reply():
    core = leader(max_inflight=1)
    sent = propose(core, 1010, 3)
    assert len(sent) == 1
    core.handle_append_response(1020, 2, sent[0][2], OK)
    assert len(appends_to(core, 2)) == 1


def test_out_of_order_and_duplicate_successes_only_raise_match_index():
    core = leader()
    sent = propose(core, 1010, 3)
    core.handle_append_response(1020, 2, sent[2][2], OK)
    assert core.match_index(2) == 3 and core.commit_index == 3
    core.take_ready()
    for s in (sent[0], sent[1], sent[2]):
        core.handle_append_response(1021, 2, s[2], OK)
    assert core.match_index(2) == 3
    assert core.progress_of(2) == (ProgressState.REPLICATE, 4, 0)
    assert core.take_ready().is_empty()


def test_reject_in_replicate_falls_back_to_probe_and_stale_rejects_are_ignored():
    core = leader()
    sent = propose(core, 1010, 3)
    core.handle_append_response(1020, 2, sent[1][2], reject(1))
    assert core.progress_of(2) == (ProgressState.PROBE, 1, 1)
    assert [(p, n) for p, n, _ in appends_to(core, 2)] == [(0, 1)]
    core.handle_append_response(1021, 2, sent[2][2], reject(1))  # stale for the probe
    assert core.take_ready().is_empty()


def test_reject_at_match_index_probes_from_match_index_plus_one():
    core = leader()
    sent = propose(core, 1010, 3)
    core.handle_append_response(1020, 2, sent[1][2], OK)  # matchIndex 2
    core.take_ready()
    core.handle_append_response(1021, 2, sent[0][2], reject(0))  # below matchIndex: stale
    assert core.progress_of(2) == (ProgressState.REPLICATE, 4, 1)
    core.handle_append_response(1022, 2, sent[2][2], reject(0))
    assert core.progress_of(2) == (ProgressState.PROBE, 3, 1)
    assert [(p, n) for p, n, _ in appends_to(core, 2)] == [(2, 1)]


def test_timeout_of_the_oldest_append_resets_to_probe():
    core = leader()
    propose(core, 1010, 3)
    core.tick(1209)
    core.take_ready()
    assert core.progress_of(2) == (ProgressState.REPLICATE, 4, 3)
    core.tick(1210)
    assert core.progress_of(2) == (ProgressState.PROBE, 1, 1)
    assert [(p, n) for p, n, _ in appends_to(core, 2)] == [(0, 1)]


def test_failed_send_resets_to_probe():
    core = leader()
    sent = propose(core, 1010, 3)
    core.handle_send_failure(1015, 2, sent[1][2])
    assert core.progress_of(2) == (ProgressState.PROBE, 1, 0)


def test_reversed_delivery_converges():
    """A real follower core receives each window newest first: it still ends with the
    leader's log and the entries commit (Log Matching, §5.3)."""
    lead = leader()
    follower = RaftCore(
        Config(2, (1, 3), 50, 100, 1, (1000, 2000), False, False), HardState(), [], 0, 1000
    )
    follower.handle_append_request(1003, AppendRequest(1, 1, -1, 0, (lead.log[0],), -1))
    for _ in range(3):
        lead.propose(1010, "SET x 1")
    queue = []
    now = 1010
    for _ in range(50):
        now += 10
        queue += [
            m for to, m in lead.take_ready().messages if to == 2 and isinstance(m, AppendMessage)
        ]
        if not queue:
            break
        m = queue.pop()
        resp = follower.handle_append_request(now, m.request)
        lead.handle_append_response(now, 2, m.sent, resp)
    assert lead.match_index(2) == 3
    assert follower.log == lead.log and lead.commit_index == 3

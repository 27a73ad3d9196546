"""RaftCore driven message by message, no sockets or clocks. Section numbers cite the Raft paper
(Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm")."""

from __future__ import annotations

import pytest

from raftnode.core import (
    CANDIDATE,
    FOLLOWER,
    LEADER,
    AppendRequest,
    AppendResponse,
    Entry,
    PreVoteRequest,
    RaftCore,
    VoteRequest,
    VoteResponse,
)


def make(node_id: int, size: int = 3, **kw) -> RaftCore:
    return RaftCore(node_id, [i for i in range(1, size + 1) if i != node_id], **kw)


def events(core: RaftCore) -> list[dict]:
    return core.take_output().events


def log_of(*terms: int) -> list[Entry]:
    return [Entry(t, f"c{i}") for i, t in enumerate(terms)]


def elect(core: RaftCore, now: float = 0.0) -> None:
    """Times out, collects pre-votes and then votes from every peer until leader."""
    pre = core.on_election_timeout(now)
    assert isinstance(pre, PreVoteRequest)
    req = None
    for peer in core.peer_ids:
        req = core.on_prevote_response(peer, pre.term, VoteResponse(pre.term - 1, True), now)
        if req is not None:
            break
    assert isinstance(req, VoteRequest)
    for peer in core.peer_ids:
        if core.role == LEADER:
            break
        core.on_vote_response(peer, req.term, VoteResponse(req.term, True), now)
    assert core.role == LEADER


def replicate(leader: RaftCore, follower: RaftCore, strip_hints: bool = False) -> int:
    """Runs AppendEntries round trips until the follower matches; returns the number of trips."""
    trips = 0
    while True:
        req = leader.append_request_for(follower.node_id)
        assert req is not None
        resp = follower.on_append_request(req)
        if strip_hints:
            resp = AppendResponse(resp.term, resp.success)
        leader.on_append_response(follower.node_id, req, resp)
        trips += 1
        assert trips < 100, "replication does not converge"
        if resp.success and not leader.has_more_for(follower.node_id):
            return trips


# ----- 5.2 leader election -----


def test_start_election_raises_the_term_and_votes_for_self():
    core = make(1)
    core.take_output()
    req = core.start_election()
    assert req == VoteRequest(term=1, candidate_id=1, last_log_index=-1, last_log_term=0)
    assert (core.role, core.current_term, core.voted_for) == (CANDIDATE, 1, 1)
    out = core.take_output()
    assert out.state_dirty and out.reset_timer
    assert [e["event"] for e in out.events] == ["term", "role", "vote"]
    assert out.events[2] == {"event": "vote", "term": 1, "candidate": 1}


def test_candidate_needs_a_majority_and_then_appends_a_noop():
    core = make(1, size=5, log=log_of(1, 1))
    req = core.start_election()
    assert req is not None and req.last_log_index == 1 and req.last_log_term == 1
    core.on_vote_response(2, req.term, VoteResponse(req.term, True))
    assert core.role == CANDIDATE  # 2 of 5
    core.on_vote_response(3, req.term, VoteResponse(req.term, False))
    assert core.role == CANDIDATE
    core.on_vote_response(2, req.term, VoteResponse(req.term, True))  # duplicate counts once
    assert core.role == CANDIDATE
    core.on_vote_response(4, req.term, VoteResponse(req.term, True))
    assert core.role == LEADER and core.leader_id == 1
    # Raft 8: a no-op with the empty command at the start of the term.
    assert core.log[-1] == Entry(req.term, "")
    assert all(n == 2 for n in core.next_index.values())
    out = core.take_output()
    assert out.log_dirty_from == 2 and out.replicate
    assert {"event": "role", "role": LEADER, "term": req.term} in out.events


def test_votes_for_an_older_election_are_ignored():
    core = make(1)
    old = core.start_election()
    assert old is not None
    core.start_election()  # split vote: a new election in term 2
    core.on_vote_response(2, old.term, VoteResponse(old.term, True))
    assert core.role == CANDIDATE and core.current_term == 2


def test_single_node_cluster_elects_itself_and_commits_alone():
    core = RaftCore(1, [])
    assert core.on_election_timeout() is None
    assert core.role == LEADER and core.commit_index == 0  # the no-op
    index = core.propose("SET a 1")
    assert index == 1 and core.commit_index == 1 and core.kv.data == {"a": "1"}
    applied = core.take_output().applied
    assert [(a.index, a.command, a.result) for a in applied] == [
        (0, "", None),
        (1, "SET a 1", "OK"),
    ]


def test_leader_ignores_election_timeout():
    core = make(1)
    elect(core)
    term = core.current_term
    assert core.on_election_timeout() is None
    assert core.role == LEADER and core.current_term == term


# ----- 5.2 / 5.4.1 voting rules -----


def test_one_vote_per_term():
    core = make(1)
    assert core.on_vote_request(VoteRequest(5, 2, -1, 0)).granted
    out = core.take_output()
    assert out.state_dirty and out.reset_timer
    assert {"event": "vote", "term": 5, "candidate": 2} in out.events
    assert not core.on_vote_request(VoteRequest(5, 3, -1, 0)).granted
    assert core.voted_for == 2
    # The same candidate asking again (a retried RPC) gets the same answer.
    assert core.on_vote_request(VoteRequest(5, 2, -1, 0)).granted
    # A new term frees the vote.
    assert core.on_vote_request(VoteRequest(6, 3, -1, 0)).granted
    assert core.voted_for == 3 and core.current_term == 6


def test_vote_denied_for_a_stale_term():
    core = make(1, term=4)
    resp = core.on_vote_request(VoteRequest(3, 2, 10, 3))
    assert resp == VoteResponse(4, False)
    assert core.voted_for == -1 and not core.take_output().state_dirty


@pytest.mark.parametrize(
    "last_index,last_term,granted",
    [
        (2, 2, True),  # identical log
        (5, 2, True),  # same last term, longer
        (1, 2, False),  # same last term, shorter
        (0, 3, True),  # higher last term wins even when shorter
        (9, 1, False),  # lower last term loses even when longer
        (-1, 0, False),  # empty log
    ],
)
def test_vote_requires_an_up_to_date_log(last_index, last_term, granted):
    core = make(1, log=log_of(1, 1, 2))  # last index 2, last term 2
    resp = core.on_vote_request(VoteRequest(7, 2, last_index, last_term))
    assert resp.granted is granted
    assert core.current_term == 7  # the higher term is adopted even when the vote is denied
    assert core.voted_for == (2 if granted else -1)


def test_higher_term_makes_a_leader_step_down():
    core = make(1)
    elect(core)
    core.take_output()
    resp = core.on_vote_request(VoteRequest(core.current_term + 1, 2, -1, 0))
    assert not resp.granted  # our log (the no-op) is more up to date
    assert core.role == FOLLOWER and core.voted_for == -1
    out = core.take_output()
    assert out.state_dirty and out.reset_timer
    assert [e["event"] for e in out.events] == ["term", "role"]


def test_higher_term_in_a_response_makes_a_leader_step_down():
    leader = make(1)
    elect(leader)
    req = leader.append_request_for(2)
    assert req is not None
    leader.on_append_response(2, req, AppendResponse(req.term + 3, False))
    assert leader.role == FOLLOWER and leader.current_term == req.term + 3
    assert leader.append_request_for(2) is None


# ----- 5.3 log replication, follower side -----


def test_append_from_a_stale_term_is_rejected():
    core = make(2, term=3)
    resp = core.on_append_request(AppendRequest(2, 1, -1, 0, (Entry(2, "x"),), -1))
    assert resp == AppendResponse(3, False)
    assert core.log == [] and core.leader_id == -1


def test_candidate_returns_to_follower_on_append_from_the_new_leader():
    core = make(2)
    core.start_election()
    resp = core.on_append_request(AppendRequest(1, 3, -1, 0, (), -1))
    assert resp.success and core.role == FOLLOWER and core.leader_id == 3
    assert core.take_output().reset_timer


def test_rejection_hint_when_the_log_is_too_short():
    core = make(2, term=2, log=log_of(1, 1))
    resp = core.on_append_request(AppendRequest(2, 1, 5, 2, (), -1))
    assert resp == AppendResponse(2, False, conflict_index=2, conflict_term=None)


def test_rejection_hint_names_the_conflicting_term_and_its_first_index():
    core = make(2, term=3, log=log_of(1, 1, 2, 2, 2))
    resp = core.on_append_request(AppendRequest(3, 1, 4, 3, (), -1))
    assert resp == AppendResponse(3, False, conflict_index=2, conflict_term=2)
    assert len(core.log) == 5  # a rejection never changes the log


def test_conflicting_suffix_is_truncated_and_replaced():
    core = make(2, term=3, log=log_of(1, 1, 2, 2))
    core.take_output()
    req = AppendRequest(3, 1, 1, 1, (Entry(3, "a"), Entry(3, "b")), -1)
    assert core.on_append_request(req).success
    assert [e.term for e in core.log] == [1, 1, 3, 3]
    out = core.take_output()
    assert out.log_dirty_from == 2
    assert {"event": "truncate", "from_index": 2} in out.events


def test_stale_reordered_append_never_truncates():
    core = make(2, term=1)
    full = AppendRequest(1, 1, -1, 0, (Entry(1, "a"), Entry(1, "b"), Entry(1, "c")), -1)
    assert core.on_append_request(full).success
    core.take_output()
    stale = AppendRequest(1, 1, -1, 0, (Entry(1, "a"),), -1)  # arrives late
    assert core.on_append_request(stale).success
    assert [e.command for e in core.log] == ["a", "b", "c"]
    out = core.take_output()
    assert out.log_dirty_from is None
    assert not any(e["event"] == "truncate" for e in out.events)


def test_follower_commit_is_min_of_leader_commit_and_last_new_entry():
    core = make(2, term=1)
    entries = tuple(Entry(1, f"SET k{i} v") for i in range(3))
    assert core.on_append_request(AppendRequest(1, 1, -1, 0, entries[:2], 10)).success
    assert core.commit_index == 1 and core.last_applied == 1
    assert core.kv.data == {"k0": "v", "k1": "v"}
    # A heartbeat with a lower leaderCommit never moves commitIndex back.
    assert core.on_append_request(AppendRequest(1, 1, 1, 1, (), 0)).success
    assert core.commit_index == 1
    out = core.take_output()
    assert [e["index"] for e in out.events if e["event"] == "commit"] == [1]
    assert [e["index"] for e in out.events if e["event"] == "apply"] == [0, 1]


# ----- 5.3 log replication, leader side -----


def divergent_pair() -> tuple[RaftCore, RaftCore]:
    """Figure 7-like: the follower has a long suffix of uncommitted term-2 and term-3 entries."""
    leader = make(1, term=5, log=log_of(1, 1, 1, 4, 4, 5, 5))
    follower = make(2, term=3, log=log_of(1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3))
    elect(leader)
    return leader, follower


def test_backtracking_with_conflict_hints_converges_fast():
    leader, follower = divergent_pair()
    trips = replicate(leader, follower)
    assert follower.log == leader.log
    assert trips <= 4
    assert leader.match_index[2] == len(leader.log) - 1


def test_backtracking_without_hints_falls_back_one_entry_at_a_time():
    leader, follower = divergent_pair()
    trips = replicate(leader, follower, strip_hints=True)
    assert follower.log == leader.log
    assert trips == 5  # rejected at prev 6, 5, 4, 3; accepted at prev 2


def test_leader_commits_on_majority_and_applies():
    leader = make(1)
    elect(leader)
    index = leader.propose("SET x 1")
    assert index == 1 and leader.commit_index == -1
    f2 = make(2)
    replicate(leader, f2)
    assert leader.commit_index == 1 and leader.kv.data == {"x": "1"}
    applied = leader.take_output().applied
    assert [(a.index, a.result) for a in applied] == [(0, None), (1, "OK")]
    # The follower learns the commit index with the next append.
    replicate(leader, f2)
    assert f2.commit_index == 1 and f2.kv.data == {"x": "1"}


def test_figure8_entries_of_older_terms_commit_only_with_a_current_term_entry():
    # Leader of term 4 holds an entry of term 2 at index 1 that it did not create.
    leader = make(1, size=5, term=3, log=log_of(1, 2))
    req = leader.start_election()
    for peer in (2, 3):
        leader.on_vote_response(peer, req.term, VoteResponse(req.term, True))
    assert leader.role == LEADER and leader.current_term == 4
    leader.take_output()
    # A majority (self, 2, 3) stores index 1 (term 2), but not yet the term-4 no-op at index 2.
    for peer in (2, 3):
        leader.match_index[peer] = 1
    leader._advance_commit()
    assert leader.commit_index == -1, "must not commit an older-term entry by counting replicas"
    # Once the no-op of term 4 is on a majority, everything up to it commits.
    req2 = AppendRequest(4, 1, 1, 2, (Entry(4, ""),), -1)
    leader.on_append_response(2, req2, AppendResponse(4, True))
    assert leader.commit_index == -1  # self + 2 only
    leader.on_append_response(3, req2, AppendResponse(4, True))
    assert leader.commit_index == 2
    commits = [e for e in leader.take_output().events if e["event"] == "commit"]
    assert commits == [{"event": "commit", "index": 2}]


def test_responses_from_an_old_term_are_ignored():
    leader = make(1)
    elect(leader)
    old_req = leader.append_request_for(2)
    leader.on_vote_request(VoteRequest(leader.current_term + 1, 3, 100, 100))
    elect(leader)  # leader again, in a later term
    leader.on_append_response(2, old_req, AppendResponse(old_req.term, True))
    assert leader.match_index[2] == -1


def test_propose_is_refused_when_not_leader():
    core = make(1)
    assert core.propose("SET a 1") is None
    assert core.log == []


def test_truncating_a_committed_entry_is_refused():
    core = make(2, term=1)
    core.on_append_request(AppendRequest(1, 1, -1, 0, (Entry(1, "a"),), 0))
    assert core.commit_index == 0
    with pytest.raises(AssertionError):
        core.on_append_request(AppendRequest(2, 3, -1, 0, (Entry(2, "b"),), -1))


def test_malformed_prev_index_is_rejected_without_touching_the_log():
    core = make(2, term=1, log=log_of(1))
    resp = core.on_append_request(AppendRequest(1, 1, -5, 0, (Entry(1, "x"),), -1))
    assert not resp.success and core.log == log_of(1)

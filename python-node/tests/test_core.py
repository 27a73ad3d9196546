"""RaftCore driven message by message, no sockets or clocks. Section numbers cite the Raft paper
(Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm")."""

from __future__ import annotations

import pytest

from raftnode.core import (
    NONE,
    AppendMessage,
    AppendRequest,
    AppendResponse,
    AppendSent,
    CommitEvent,
    Config,
    Entry,
    HardState,
    LogAppend,
    LogTruncate,
    NotLeader,
    RaftCore,
    Role,
    RoleEvent,
    TruncateEvent,
    VoteEvent,
    VoteMessage,
    VoteRequest,
    VoteResponse,
)
from tests.coresim import (
    UP_TO_DATE_CASES,
    elect,
    kinds,
    log_of,
    make,
    prevote_grant,
    prevote_request,
    replicate,
    sent,
    timeout,
    vote_request,
)


def start_election(core: RaftCore, now: int = 0) -> VoteRequest:
    """Times out and gets every pre-vote needed: the real election starts (§5.2)."""
    pre = prevote_request(timeout(core, now))
    for peer in core.cfg.peers:
        core.handle_prevote_response(now, peer, pre.term, prevote_grant(pre.term - 1))
        if core.role is not Role.FOLLOWER:
            break
    return vote_request(core.take_ready())


# ----- 5.2 leader election -----


def test_start_election_raises_the_term_and_votes_for_self():
    core = make(1)
    pre = prevote_request(timeout(core, 0))
    core.handle_prevote_response(0, 2, pre.term, prevote_grant(0))
    ready = core.take_ready()
    assert vote_request(ready) == VoteRequest(1, 1, -1, 0)
    assert [p for p, _ in sent(ready, VoteMessage)] == [2, 3]
    assert (core.role, core.term, core.voted_for) == (Role.CANDIDATE, 1, 1)
    assert ready.hard_state == HardState(1, 1) and ready.reset_timer
    assert kinds(ready) == ["prevote_result", "term", "vote", "role"]
    assert ready.events[2] == VoteEvent(1, 1)


def test_candidate_needs_a_majority_and_then_appends_a_noop():
    core = make(1, size=5, log=log_of(1, 1))
    req = start_election(core)
    assert req.last_log_index == 1 and req.last_log_term == 1
    core.handle_vote_response(0, 2, VoteResponse(req.term, True))
    assert core.role is Role.CANDIDATE  # 2 of 5
    core.handle_vote_response(0, 3, VoteResponse(req.term, False))
    assert core.role is Role.CANDIDATE
    core.handle_vote_response(0, 2, VoteResponse(req.term, True))  # duplicate counts once
    assert core.role is Role.CANDIDATE
    core.handle_vote_response(0, 4, VoteResponse(req.term, True))
    assert core.role is Role.LEADER and core.leader_id == 1
    # Raft 8: a no-op with the empty command at the start of the term.
    assert core.log[-1] == Entry(2, req.term, "")
    ready = core.take_ready()
    assert ready.log_ops == [LogAppend((Entry(2, req.term, ""),))]
    appends = sent(ready, AppendMessage)
    assert [p for p, _ in appends] == [2, 3, 4, 5]
    assert all(isinstance(m, AppendMessage) and m.request.prev_log_index == 1 for _, m in appends)
    assert RoleEvent(Role.LEADER, req.term) in ready.events


def test_votes_for_an_older_election_are_ignored():
    core = make(1)
    old = start_election(core)
    timeout(core, 1000)  # split vote: a new pre-vote round for term 2
    core.handle_prevote_response(1000, 2, 2, prevote_grant(1))  # and a new election in term 2
    core.handle_vote_response(1000, 2, VoteResponse(old.term, True))
    assert core.role is Role.CANDIDATE and core.term == 2


def test_single_node_cluster_elects_itself_and_commits_alone():
    core = RaftCore(Config(1, ()), HardState(), [], 0, 300)
    core.take_ready()
    ready = timeout(core, 300)
    assert core.role is Role.LEADER and core.commit_index == 0  # the no-op
    assert ready.committed == [Entry(0, 1, "")]
    assert core.propose(300, "SET a 1") == (1, 1)
    assert core.commit_index == 1
    assert core.take_ready().committed == [Entry(1, 1, "SET a 1")]


def test_leader_ignores_election_timeout():
    core = make(1)
    elect(core)
    term = core.term
    core.take_ready()
    ready = timeout(core, 100)
    assert core.role is Role.LEADER and core.term == term
    assert ready.hard_state is None and not sent(ready, VoteMessage)


# ----- 5.2 / 5.4.1 voting rules -----


def test_one_vote_per_term():
    core = make(1)
    core.take_ready()
    assert core.handle_vote_request(0, VoteRequest(5, 2, -1, 0)).vote_granted
    ready = core.take_ready()
    assert ready.hard_state == HardState(5, 2) and ready.reset_timer
    assert VoteEvent(5, 2) in ready.events
    assert not core.handle_vote_request(0, VoteRequest(5, 3, -1, 0)).vote_granted
    assert core.voted_for == 2
    # The same candidate asking again (a retried RPC) gets the same answer.
    assert core.handle_vote_request(0, VoteRequest(5, 2, -1, 0)).vote_granted
    # A new term frees the vote.
    assert core.handle_vote_request(0, VoteRequest(6, 3, -1, 0)).vote_granted
    assert core.voted_for == 3 and core.term == 6


def test_vote_denied_for_a_stale_term():
    core = make(1, term=4)
    core.take_ready()
    resp = core.handle_vote_request(0, VoteRequest(3, 2, 10, 3))
    assert resp == VoteResponse(4, False)
    assert core.voted_for == NONE and core.take_ready().hard_state is None


@pytest.mark.parametrize("last_index,last_term,granted", UP_TO_DATE_CASES)
def test_vote_requires_an_up_to_date_log(last_index, last_term, granted):
    core = make(1, log=log_of(1, 1, 2))  # last index 2, last term 2
    resp = core.handle_vote_request(0, VoteRequest(7, 2, last_index, last_term))
    assert resp.vote_granted is granted
    assert core.term == 7  # the higher term is adopted even when the vote is denied
    assert core.voted_for == (2 if granted else NONE)


def test_higher_term_makes_a_leader_step_down():
    core = make(1)
    elect(core)
    core.take_ready()
    resp = core.handle_vote_request(0, VoteRequest(core.term + 1, 2, -1, 0))
    assert not resp.vote_granted  # our log (the no-op) is more up to date
    assert core.role is Role.FOLLOWER and core.voted_for == NONE
    ready = core.take_ready()
    assert ready.hard_state == HardState(2, NONE) and ready.reset_timer
    assert kinds(ready) == ["term", "role"]


def test_higher_term_in_a_response_makes_a_leader_step_down():
    leader = make(1)
    elect(leader)
    leader.take_ready()
    sent_ = AppendSent(leader.term, -1, 1)
    leader.handle_append_response(0, 2, sent_, AppendResponse(sent_.term + 3, False))
    assert leader.role is Role.FOLLOWER and leader.term == sent_.term + 3
    assert leader.match_index(2) is None  # no progress kept: nothing more is sent
    leader.take_ready()
    leader.tick(10)
    assert not leader.take_ready().messages


# ----- 5.3 log replication, follower side -----


def test_append_from_a_stale_term_is_rejected():
    core = make(2, term=3)
    resp = core.handle_append_request(0, AppendRequest(2, 1, -1, 0, (Entry(0, 2, "x"),), -1))
    assert resp == AppendResponse(3, False)
    assert core.log == [] and core.leader_id == NONE


def test_candidate_returns_to_follower_on_append_from_the_new_leader():
    core = make(2)
    start_election(core)
    resp = core.handle_append_request(0, AppendRequest(1, 3, -1, 0, (), -1))
    assert resp.success and core.role is Role.FOLLOWER and core.leader_id == 3
    assert core.take_ready().reset_timer


def test_rejection_hint_when_the_log_is_too_short():
    core = make(2, term=2, log=log_of(1, 1))
    resp = core.handle_append_request(0, AppendRequest(2, 1, 5, 2, (), -1))
    assert resp == AppendResponse(2, False, conflict_index=2, conflict_term=None)


def test_rejection_hint_names_the_conflicting_term_and_its_first_index():
    core = make(2, term=3, log=log_of(1, 1, 2, 2, 2))
    resp = core.handle_append_request(0, AppendRequest(3, 1, 4, 3, (), -1))
    assert resp == AppendResponse(3, False, conflict_index=2, conflict_term=2)
    assert len(core.log) == 5  # a rejection never changes the log
    assert core.take_ready().log_ops == []


def test_conflicting_suffix_is_truncated_and_replaced():
    core = make(2, term=3, log=log_of(1, 1, 2, 2))
    core.take_ready()
    req = AppendRequest(3, 1, 1, 1, (Entry(2, 3, "a"), Entry(3, 3, "b")), -1)
    assert core.handle_append_request(0, req).success
    assert [e.term for e in core.log] == [1, 1, 3, 3]
    ready = core.take_ready()
    assert ready.log_ops == [LogTruncate(2), LogAppend((Entry(2, 3, "a"), Entry(3, 3, "b")))]
    assert TruncateEvent(2) in ready.events


def test_stale_reordered_append_never_truncates():
    core = make(2, term=1)
    entries = (Entry(0, 1, "a"), Entry(1, 1, "b"), Entry(2, 1, "c"))
    assert core.handle_append_request(0, AppendRequest(1, 1, -1, 0, entries, -1)).success
    core.take_ready()
    stale = AppendRequest(1, 1, -1, 0, entries[:1], -1)  # arrives late
    assert core.handle_append_request(0, stale).success
    assert [e.command for e in core.log] == ["a", "b", "c"]
    ready = core.take_ready()
    assert ready.log_ops == []
    assert "truncate" not in kinds(ready)


def test_follower_commit_is_min_of_leader_commit_and_last_new_entry():
    core = make(2, term=1)
    core.take_ready()
    entries = tuple(Entry(i, 1, f"SET k{i} v") for i in range(3))
    assert core.handle_append_request(0, AppendRequest(1, 1, -1, 0, entries[:2], 10)).success
    assert core.commit_index == 1 and core.last_applied == 1
    # A heartbeat with a lower leaderCommit never moves commitIndex back.
    assert core.handle_append_request(0, AppendRequest(1, 1, 1, 1, (), 0)).success
    assert core.commit_index == 1
    ready = core.take_ready()
    assert [e for e in ready.events if isinstance(e, CommitEvent)] == [CommitEvent(1)]
    assert ready.committed == list(entries[:2])


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
    assert leader.match_index(2) == len(leader.log) - 1


def test_backtracking_without_hints_falls_back_one_entry_at_a_time():
    leader, follower = divergent_pair()
    trips = replicate(leader, follower, strip_hints=True)
    assert follower.log == leader.log
    assert trips == 5  # rejected at prev 6, 5, 4, 3; accepted at prev 2


def test_leader_commits_on_majority_and_applies():
    leader = make(1)
    elect(leader)
    f2 = make(2)
    replicate(leader, f2)  # the no-op
    leader.take_ready()
    assert leader.propose(0, "SET x 1") == (1, 1) and leader.commit_index == 0
    replicate(leader, f2)
    assert leader.commit_index == 1
    assert leader.take_ready().committed == []  # taken by replicate; check the log instead
    assert f2.log == leader.log
    # The follower learns the commit index with the next append (a heartbeat when due).
    replicate(leader, f2, now=100)
    assert f2.commit_index == 1
    assert [e.command for e in f2.take_ready().committed] == ["", "SET x 1"]


def test_figure8_entries_of_older_terms_commit_only_with_a_current_term_entry():
    # Leader of term 4 holds an entry of term 2 at index 1 that it did not create.
    leader = make(1, size=5, term=3, log=log_of(1, 2))
    req = start_election(leader)
    for peer in (2, 3):
        leader.handle_vote_response(0, peer, VoteResponse(req.term, True))
    assert leader.role is Role.LEADER and leader.term == 4
    leader.take_ready()
    # A majority (self, 2, 3) stores index 1 (term 2), but not yet the term-4 no-op at index 2.
    for peer in (2, 3):
        leader.handle_append_response(0, peer, AppendSent(4, 0, 1), AppendResponse(4, True))
    assert leader.match_index(2) == 1 and leader.match_index(3) == 1
    assert leader.commit_index == -1, "must not commit an older-term entry by counting replicas"
    # Once the no-op of term 4 is on a majority, everything up to it commits.
    noop = AppendSent(4, 1, 1)
    leader.handle_append_response(0, 2, noop, AppendResponse(4, True))
    assert leader.commit_index == -1  # self + 2 only
    leader.handle_append_response(0, 3, noop, AppendResponse(4, True))
    assert leader.commit_index == 2
    ready = leader.take_ready()
    assert [e for e in ready.events if isinstance(e, CommitEvent)] == [CommitEvent(2)]


def test_responses_from_an_old_term_are_ignored():
    leader = make(1)
    elect(leader)
    old = AppendSent(leader.term, -1, 1)
    leader.handle_vote_request(0, VoteRequest(leader.term + 1, 3, 100, 100))
    elect(leader, now=1000)  # leader again, in a later term
    leader.handle_append_response(1000, 2, old, AppendResponse(old.term, True))
    assert leader.match_index(2) == -1


def test_propose_is_refused_when_not_leader():
    core = make(1)
    core.handle_append_request(0, AppendRequest(1, 3, -1, 0, (), -1))
    assert core.propose(0, "SET a 1") == NotLeader(3)
    assert core.log == []


def test_a_lost_append_is_retried_after_a_heartbeat_interval():
    leader = make(1)
    elect(leader)
    ready = leader.take_ready()
    (_, first), *_ = sent(ready, AppendMessage, 2)
    assert isinstance(first, AppendMessage)
    leader.handle_send_failure(10, 2, first.request.sent())
    leader.tick(20)  # too early: a heartbeat at most, no entries
    retry = [m for _, m in sent(leader.take_ready(), AppendMessage, 2)]
    assert all(isinstance(m, AppendMessage) and not m.request.entries for m in retry)
    leader.tick(60)
    again = [m for _, m in sent(leader.take_ready(), AppendMessage, 2)]
    assert len(again) == 1 and isinstance(again[0], AppendMessage)
    assert again[0].request.entries == first.request.entries


def test_truncating_a_committed_entry_is_refused():
    core = make(2, term=1)
    core.handle_append_request(0, AppendRequest(1, 1, -1, 0, (Entry(0, 1, "a"),), 0))
    assert core.commit_index == 0
    with pytest.raises(AssertionError):
        core.handle_append_request(0, AppendRequest(2, 3, -1, 0, (Entry(0, 2, "b"),), -1))
    assert core.log == [Entry(0, 1, "a")]


def test_malformed_prev_index_is_rejected_without_touching_the_log():
    core = make(2, term=1, log=log_of(1))
    resp = core.handle_append_request(0, AppendRequest(1, 1, -5, 0, (Entry(0, 1, "x"),), -1))
    assert not resp.success and core.log == log_of(1)

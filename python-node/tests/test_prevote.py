"""Pre-vote, check-quorum and stepping down in RaftCore (Raft thesis §9.6 and §6.2; node
contract "Pre-vote and check-quorum"), driven message by message with a hand-made clock."""

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
from tests.test_core import elect, log_of, make, replicate

MIN_S, MAX_S = 0.15, 0.3  # the default election timeout range of RaftCore


def heartbeat(leader: RaftCore, follower: RaftCore, now: float) -> AppendResponse:
    req = leader.append_request_for(follower.node_id)
    assert req is not None
    resp = follower.on_append_request(req, now)
    leader.on_append_response(follower.node_id, req, resp, now)
    return resp


# ----- starting a pre-vote round -----


def test_prevote_election_timeout_asks_for_prevotes_without_raising_the_term():
    core = make(1, term=4, voted_for=2, log=log_of(1, 4))
    core.on_append_request(AppendRequest(4, 2, 1, 4, (), -1), now=1.0)
    core.take_output()
    req = core.on_election_timeout(now=5.0)
    assert req == PreVoteRequest(term=5, candidate_id=1, last_log_index=1, last_log_term=4)
    assert (core.role, core.current_term, core.voted_for) == (FOLLOWER, 4, 2)
    assert core.leader_id == -1  # no longer heard from: clients are not forwarded to it
    out = core.take_output()
    assert out.reset_timer and not out.state_dirty and out.log_dirty_from is None
    assert out.events == [{"event": "prevote", "term": 5}]


def test_prevote_majority_of_grants_starts_the_real_election():
    core = make(1, size=5, term=2)
    pre = core.on_election_timeout()
    assert isinstance(pre, PreVoteRequest)
    assert core.on_prevote_response(2, pre.term, VoteResponse(2, True)) is None
    assert core.on_prevote_response(3, pre.term, VoteResponse(2, False)) is None
    assert core.on_prevote_response(2, pre.term, VoteResponse(2, True)) is None  # counts once
    assert core.current_term == 2 and core.role == FOLLOWER
    req = core.on_prevote_response(4, pre.term, VoteResponse(2, True))  # self, 2, 4: 3 of 5
    assert req == VoteRequest(term=3, candidate_id=1, last_log_index=-1, last_log_term=0)
    assert (core.role, core.current_term, core.voted_for) == (CANDIDATE, 3, 1)
    events = core.take_output().events
    assert events[0] == {"event": "prevote", "term": 3}
    assert events[1] == {"event": "prevote_result", "term": 3, "granted": 3}
    assert [e["event"] for e in events[2:]] == ["term", "role", "vote"]
    # Late grants of the finished round change nothing.
    assert core.on_prevote_response(5, pre.term, VoteResponse(2, True)) is None
    assert core.current_term == 3


def test_prevote_unimplemented_peer_counts_as_a_grant():
    # The driver passes a peer's UNIMPLEMENTED answer as VoteResponse(0, True) (server.py).
    core = make(1, term=7)
    pre = core.on_election_timeout()
    assert isinstance(pre, PreVoteRequest)
    req = core.on_prevote_response(2, pre.term, VoteResponse(0, True))
    assert isinstance(req, VoteRequest) and req.term == 8
    assert core.role == CANDIDATE


def test_prevote_grants_of_an_older_round_do_not_count():
    core = make(1, size=5)
    old = core.on_election_timeout()
    assert isinstance(old, PreVoteRequest)
    core.on_prevote_response(2, old.term, VoteResponse(0, True))
    new = core.on_election_timeout()  # the round failed: a new one (same term asked again)
    assert isinstance(new, PreVoteRequest) and new.term == old.term
    events = core.take_output().events
    assert {"event": "prevote_result", "term": 1, "granted": 2} in events
    assert core.on_prevote_response(3, new.term, VoteResponse(0, True)) is None  # self + 3
    assert core.current_term == 0  # the grant of 2 belonged to the old round


def test_prevote_higher_term_in_a_reply_is_adopted_and_ends_the_round():
    core = make(1, term=2)
    pre = core.on_election_timeout()
    assert isinstance(pre, PreVoteRequest)
    assert core.on_prevote_response(2, pre.term, VoteResponse(9, False)) is None
    assert (core.current_term, core.role, core.voted_for) == (9, FOLLOWER, -1)
    assert core.on_prevote_response(3, pre.term, VoteResponse(0, True)) is None
    assert core.current_term == 9


def test_prevote_leader_contact_ends_the_round():
    core = make(1, term=2)
    pre = core.on_election_timeout()
    assert isinstance(pre, PreVoteRequest)
    assert core.on_append_request(AppendRequest(2, 3, -1, 0, (), -1), now=1.0).success
    assert core.on_prevote_response(2, pre.term, VoteResponse(2, True)) is None
    assert core.current_term == 2 and core.leader_id == 3


def test_prevote_timed_out_candidate_goes_back_to_prevote():
    core = make(1)
    core.start_election()  # a split vote: nobody wins term 1
    core.take_output()
    pre = core.on_election_timeout()
    assert isinstance(pre, PreVoteRequest) and pre.term == 2
    assert (core.role, core.current_term, core.voted_for) == (FOLLOWER, 1, 1)
    assert core.take_output().events[0] == {"event": "role", "role": FOLLOWER, "term": 1}


# ----- granting a pre-vote -----


def test_prevote_granted_to_an_up_to_date_candidate_changes_nothing():
    core = make(2, term=3, voted_for=1, log=log_of(1, 3))
    core.take_output()
    resp = core.on_prevote_request(PreVoteRequest(4, 3, 1, 3), now=10.0)
    assert resp == VoteResponse(3, True)
    assert (core.current_term, core.voted_for, core.role) == (3, 1, FOLLOWER)
    out = core.take_output()
    assert not out.state_dirty and not out.reset_timer and out.events == []


@pytest.mark.parametrize("term", [3, 2])
def test_prevote_refused_for_a_stale_term(term):
    core = make(2, term=3)
    assert core.on_prevote_request(PreVoteRequest(term, 3, 5, 3), now=10.0) == VoteResponse(
        3, False
    )


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
def test_prevote_refused_to_a_less_up_to_date_log(last_index, last_term, granted):
    core = make(1, term=2, log=log_of(1, 1, 2))  # last index 2, last term 2
    resp = core.on_prevote_request(PreVoteRequest(3, 2, last_index, last_term), now=10.0)
    assert resp == VoteResponse(2, granted)
    assert core.current_term == 2  # a pre-vote never adopts its term


def test_prevote_refused_after_hearing_from_the_leader_recently():
    core = make(2, term=3)
    assert core.on_append_request(AppendRequest(3, 1, -1, 0, (), -1), now=100.0).success
    pre = PreVoteRequest(4, 3, 5, 3)
    assert not core.on_prevote_request(pre, now=100.0).granted
    assert not core.on_prevote_request(pre, now=100.0 + MIN_S * 0.9).granted
    # Silent for the minimum election timeout: the leader may be gone.
    assert core.on_prevote_request(pre, now=100.0 + MIN_S).granted
    # A stale leader's append (older term) is no contact with a current leader.
    assert not core.on_append_request(AppendRequest(2, 3, -1, 0, (), -1), now=200.0).success
    assert core.on_prevote_request(pre, now=200.0).granted


def test_prevote_leader_refuses():
    leader = make(1)
    elect(leader, now=0.0)
    term = leader.current_term
    resp = leader.on_prevote_request(PreVoteRequest(term + 1, 2, 100, term), now=1000.0)
    assert resp == VoteResponse(term, False)
    assert leader.role == LEADER and leader.current_term == term


# ----- a node that cannot reach a majority never raises its term -----


class Net:
    """Three cores and a partition: messages to or from a cut-off node are lost."""

    def __init__(self) -> None:
        self.nodes = {i: make(i) for i in (1, 2, 3)}
        self.cut: set[int] = set()

    def reachable(self, a: int, b: int) -> bool:
        return a not in self.cut and b not in self.cut

    def timeout(self, nid: int, now: float) -> None:
        """`nid`'s election timer fires; it runs pre-vote and election over the network."""
        node = self.nodes[nid]
        req = node.on_election_timeout(now)
        for peer in node.peer_ids:
            if not isinstance(req, PreVoteRequest) or not self.reachable(nid, peer):
                continue
            resp = self.nodes[peer].on_prevote_request(req, now)
            vote = node.on_prevote_response(peer, req.term, resp, now)
            if vote is not None:
                self.election(nid, vote, now)
                return

    def election(self, nid: int, req: VoteRequest, now: float) -> None:
        node = self.nodes[nid]
        for peer in node.peer_ids:
            if self.reachable(nid, peer):
                resp = self.nodes[peer].on_vote_request(req)
                node.on_vote_response(peer, req.term, resp, now)

    def heartbeats(self, leader: int, now: float) -> None:
        for peer in self.nodes[leader].peer_ids:
            if self.reachable(leader, peer):
                heartbeat(self.nodes[leader], self.nodes[peer], now)


def test_prevote_a_node_that_cannot_reach_a_majority_never_raises_its_term():
    net = Net()
    net.timeout(1, now=0.0)
    assert net.nodes[1].role == LEADER
    term = net.nodes[1].current_term
    net.heartbeats(1, now=0.05)
    net.cut = {3}
    t = 0.1
    for _ in range(20):  # node 3 times out again and again, cut off
        t += MAX_S
        net.timeout(3, now=t)
        net.heartbeats(1, now=t)
    assert net.nodes[3].current_term == term
    assert net.nodes[3].role == FOLLOWER
    # Healed: node 3 times out once more before the leader's next heartbeat reaches it. The
    # others heard from the leader just now and refuse; the leader is not deposed.
    net.cut = set()
    net.timeout(3, now=t + 0.01)
    assert net.nodes[3].current_term == term
    assert net.nodes[1].role == LEADER and net.nodes[1].current_term == term
    net.heartbeats(1, now=t + 0.02)
    assert net.nodes[3].leader_id == 1 and net.nodes[3].current_term == term


def test_prevote_a_lost_leader_is_replaced_by_one_election():
    net = Net()
    net.timeout(1, now=0.0)
    term = net.nodes[1].current_term
    net.heartbeats(1, now=0.05)
    net.cut = {1}  # the leader dies
    net.timeout(2, now=0.05 + MAX_S)
    assert net.nodes[2].role == LEADER and net.nodes[2].current_term == term + 1


# ----- check-quorum -----


def test_check_quorum_leader_steps_down_without_replies_from_a_majority():
    leader = make(1, size=5)
    elect(leader, now=10.0)
    term, vote = leader.current_term, leader.voted_for
    followers = {i: make(i, size=5) for i in (2, 3)}
    for f in followers.values():
        heartbeat(leader, f, now=10.2)
    leader.take_output()
    # Self + 2 + 3 replied within the maximum election timeout: a majority of 5.
    assert not leader.check_quorum(now=10.2 + MAX_S - 0.001)
    assert leader.role == LEADER
    heartbeat(leader, followers[2], now=10.3)  # 3 falls silent: self + 2 is no majority
    assert not leader.check_quorum(now=10.2 + MAX_S - 0.001)
    assert leader.check_quorum(now=10.2 + MAX_S + 0.01)
    assert (leader.role, leader.current_term, leader.voted_for) == (FOLLOWER, term, vote)
    assert leader.leader_id == -1 and leader.propose("SET a 1") is None
    out = leader.take_output()
    assert out.reset_timer and not out.state_dirty
    assert out.events == [{"event": "role", "role": FOLLOWER, "term": term}]


def test_check_quorum_gives_a_new_leader_a_full_timeout_and_counts_failed_appends():
    leader = make(1, size=3, log=log_of(1, 1))
    elect(leader, now=50.0)
    assert not leader.check_quorum(
        now=50.0 + MAX_S - 0.001
    )  # nobody answered yet, but the term is new
    # A rejection (the follower's log is behind) is a reply too.
    follower = make(2, term=leader.current_term)
    resp = heartbeat(leader, follower, now=50.0 + MAX_S)
    assert not resp.success
    assert not leader.check_quorum(now=50.0 + 2 * MAX_S - 0.001)
    assert leader.check_quorum(now=50.0 + 2 * MAX_S + 0.01)


def test_check_quorum_is_a_no_op_for_followers_and_single_nodes():
    follower = make(2)
    assert not follower.check_quorum(now=1e6)
    alone = RaftCore(1, [])
    alone.on_election_timeout()
    assert alone.role == LEADER
    assert not alone.check_quorum(now=1e6) and alone.role == LEADER


# ----- stepping down draws a fresh election timeout -----


def _step_down_higher_term_vote(core: RaftCore) -> None:
    core.on_vote_request(VoteRequest(core.current_term + 1, 2, 100, 100))


def _step_down_higher_term_reply(core: RaftCore) -> None:
    req = core.append_request_for(2)
    assert req is not None
    core.on_append_response(2, req, AppendResponse(req.term + 1, False))


def _step_down_check_quorum(core: RaftCore) -> None:
    assert core.check_quorum(now=1e6)


def _step_down_higher_term_append(core: RaftCore) -> None:
    core.on_append_request(AppendRequest(core.current_term + 1, 3, -1, 0, (), -1))


@pytest.mark.parametrize(
    "cause",
    [
        _step_down_higher_term_vote,
        _step_down_higher_term_reply,
        _step_down_check_quorum,
        _step_down_higher_term_append,
    ],
)
def test_stepping_down_starts_a_fresh_election_timeout(cause):
    leader = make(1)
    elect(leader, now=0.0)
    follower = make(2)
    replicate(leader, follower)
    leader.take_output()
    cause(leader)
    assert leader.role == FOLLOWER
    assert leader.take_output().reset_timer, "a deposed leader must draw a new timeout"


def test_stepping_down_candidate_on_append_of_its_term_starts_a_fresh_timeout():
    core = make(2)
    core.start_election()
    core.take_output()
    assert core.on_append_request(AppendRequest(1, 3, -1, 0, (Entry(1, ""),), -1)).success
    assert core.role == FOLLOWER and core.take_output().reset_timer

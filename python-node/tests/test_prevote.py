"""Pre-vote, check-quorum and stepping down in RaftCore (Raft thesis §9.6 and §6.2; node
contract "Pre-vote and check-quorum"), driven message by message with a hand-made clock (ms)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from raftnode.core import (
    NONE,
    Answer,
    AppendRequest,
    AppendResponse,
    AppendSent,
    Config,
    Entry,
    HardState,
    NotLeader,
    PreVoteEvent,
    PreVoteResultEvent,
    RaftCore,
    Role,
    RoleEvent,
    Unimplemented,
    VoteMessage,
    VoteRequest,
    VoteResponse,
)
from tests.coresim import (
    MAX_MS,
    MIN_MS,
    UP_TO_DATE_CASES,
    elect,
    heartbeat,
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

# ----- starting a pre-vote round -----


def test_prevote_election_timeout_asks_for_prevotes_without_raising_the_term():
    core = make(1, term=4, voted_for=2, log=log_of(1, 4))
    core.handle_append_request(1000, AppendRequest(4, 2, 1, 4, (), -1))
    core.take_ready()
    ready = timeout(core, 5000)
    assert prevote_request(ready) == VoteRequest(5, 1, 1, 4)
    assert (core.role, core.term, core.voted_for) == (Role.FOLLOWER, 4, 2)
    assert core.leader_id == NONE  # no longer heard from: clients are not forwarded to it
    assert ready.reset_timer and ready.hard_state is None and ready.log_ops == []
    assert ready.events == [PreVoteEvent(5)]


def test_prevote_majority_of_grants_starts_the_real_election():
    core = make(1, size=5, term=2)
    core.take_ready()
    pre = prevote_request(timeout(core, 0))
    core.handle_prevote_response(0, 2, pre.term, prevote_grant(2))
    core.handle_prevote_response(0, 3, pre.term, Answer(VoteResponse(2, False)))
    core.handle_prevote_response(0, 2, pre.term, prevote_grant(2))  # counts once
    assert core.term == 2 and core.role is Role.FOLLOWER
    assert not sent(core.take_ready(), VoteMessage)
    core.handle_prevote_response(0, 4, pre.term, prevote_grant(2))  # self, 2, 4: 3 of 5
    ready = core.take_ready()
    assert vote_request(ready) == VoteRequest(3, 1, -1, 0)
    assert (core.role, core.term, core.voted_for) == (Role.CANDIDATE, 3, 1)
    assert ready.events[0] == PreVoteResultEvent(3, 3)
    assert kinds(ready)[1:] == ["term", "vote", "role"]
    # Late grants of the finished round change nothing.
    core.handle_prevote_response(0, 5, pre.term, prevote_grant(2))
    assert core.term == 3 and core.take_ready().is_empty()


def test_prevote_unimplemented_peer_counts_as_a_grant():
    # The driver passes a peer's UNIMPLEMENTED answer as Unimplemented() (server.py).
    core = make(1, term=7)
    pre = prevote_request(timeout(core, 0))
    core.handle_prevote_response(0, 2, pre.term, Unimplemented())
    assert vote_request(core.take_ready()).term == 8
    assert core.role is Role.CANDIDATE


def test_prevote_grants_of_an_older_round_do_not_count():
    core = make(1, size=5)
    core.take_ready()
    old = prevote_request(timeout(core, 0))
    core.handle_prevote_response(0, 2, old.term, prevote_grant(0))
    ready = timeout(core, 300)  # the round failed: a new one (same term asked again)
    new = prevote_request(ready)
    assert new.term == old.term
    assert PreVoteResultEvent(1, 2) in ready.events
    core.handle_prevote_response(300, 3, new.term, prevote_grant(0))  # self + 3
    assert core.term == 0  # the grant of 2 belonged to the old round


def test_prevote_higher_term_in_a_reply_is_adopted_and_ends_the_round():
    core = make(1, term=2)
    pre = prevote_request(timeout(core, 0))
    core.handle_prevote_response(0, 2, pre.term, Answer(VoteResponse(9, False)))
    assert (core.term, core.role, core.voted_for) == (9, Role.FOLLOWER, NONE)
    core.handle_prevote_response(0, 3, pre.term, prevote_grant(0))
    assert core.term == 9


def test_prevote_leader_contact_ends_the_round():
    core = make(1, term=2)
    pre = prevote_request(timeout(core, 0))
    assert core.handle_append_request(1, AppendRequest(2, 3, -1, 0, (), -1)).success
    core.handle_prevote_response(1, 2, pre.term, prevote_grant(2))
    assert core.term == 2 and core.leader_id == 3


def test_prevote_timed_out_candidate_goes_back_to_prevote():
    core = make(1)
    pre = prevote_request(timeout(core, 0))
    # a split vote: nobody wins term 1
    core.handle_prevote_response(0, 2, pre.term, prevote_grant(0))
    core.take_ready()
    ready = timeout(core, 300)
    assert prevote_request(ready).term == 2
    assert (core.role, core.term, core.voted_for) == (Role.FOLLOWER, 1, 1)
    assert ready.events[0] == RoleEvent(Role.FOLLOWER, 1)


# ----- granting a pre-vote -----


def test_prevote_granted_to_an_up_to_date_candidate_changes_nothing():
    core = make(2, term=3, voted_for=1, log=log_of(1, 3))
    core.take_ready()
    resp = core.handle_prevote_request(10_000, VoteRequest(4, 3, 1, 3))
    assert resp == VoteResponse(3, True)
    assert (core.term, core.voted_for, core.role) == (3, 1, Role.FOLLOWER)
    assert core.take_ready().is_empty()


@pytest.mark.parametrize("term", [3, 2])
def test_prevote_refused_for_a_stale_term(term):
    core = make(2, term=3)
    assert core.handle_prevote_request(10_000, VoteRequest(term, 3, 5, 3)) == VoteResponse(3, False)


@pytest.mark.parametrize("last_index,last_term,granted", UP_TO_DATE_CASES)
def test_prevote_refused_to_a_less_up_to_date_log(last_index, last_term, granted):
    core = make(1, term=2, log=log_of(1, 1, 2))  # last index 2, last term 2
    resp = core.handle_prevote_request(10_000, VoteRequest(3, 2, last_index, last_term))
    assert resp == VoteResponse(2, granted)
    assert core.term == 2  # a pre-vote never adopts its term


def test_prevote_refused_after_hearing_from_the_leader_recently():
    core = make(2, term=3)
    assert core.handle_append_request(100_000, AppendRequest(3, 1, -1, 0, (), -1)).success
    pre = VoteRequest(4, 3, 5, 3)
    assert not core.handle_prevote_request(100_000, pre).vote_granted
    assert not core.handle_prevote_request(100_000 + MIN_MS - 1, pre).vote_granted
    # Silent for the minimum election timeout: the leader may be gone.
    assert core.handle_prevote_request(100_000 + MIN_MS, pre).vote_granted
    # A stale leader's append (older term) is no contact with a current leader.
    assert not core.handle_append_request(200_000, AppendRequest(2, 3, -1, 0, (), -1)).success
    assert core.handle_prevote_request(200_000, pre).vote_granted


def test_prevote_leader_refuses():
    leader = make(1)
    elect(leader, now=0)
    term = leader.term
    resp = leader.handle_prevote_request(1_000_000, VoteRequest(term + 1, 2, 100, term))
    assert resp == VoteResponse(term, False)
    assert leader.role is Role.LEADER and leader.term == term


# ----- a node that cannot reach a majority never raises its term -----


class Net:
    """Three cores and a partition: messages to or from a cut-off node are lost."""

    def __init__(self) -> None:
        self.nodes = {i: make(i) for i in (1, 2, 3)}
        self.cut: set[int] = set()

    def reachable(self, a: int, b: int) -> bool:
        return a not in self.cut and b not in self.cut

    def timeout(self, nid: int, now: int) -> None:
        """`nid`'s election timer fires; it runs pre-vote and election over the network."""
        node = self.nodes[nid]
        pre = prevote_request(timeout(node, now))
        for peer in node.cfg.peers:
            if not self.reachable(nid, peer):
                continue
            resp = self.nodes[peer].handle_prevote_request(now, pre)
            node.handle_prevote_response(now, peer, pre.term, Answer(resp))
            if node.role is Role.CANDIDATE:
                self.election(nid, vote_request(node.take_ready()), now)
                return

    def election(self, nid: int, req: VoteRequest, now: int) -> None:
        node = self.nodes[nid]
        for peer in node.cfg.peers:
            if self.reachable(nid, peer):
                resp = self.nodes[peer].handle_vote_request(now, req)
                node.handle_vote_response(now, peer, resp)

    def heartbeats(self, leader: int, now: int) -> None:
        for peer in self.nodes[leader].cfg.peers:
            if self.reachable(leader, peer):
                heartbeat(self.nodes[leader], self.nodes[peer], now)


def test_prevote_a_node_that_cannot_reach_a_majority_never_raises_its_term():
    net = Net()
    net.timeout(1, now=0)
    assert net.nodes[1].role is Role.LEADER
    term = net.nodes[1].term
    net.heartbeats(1, now=50)
    net.cut = {3}
    t = 100
    for _ in range(20):  # node 3 times out again and again, cut off
        t += MAX_MS
        net.timeout(3, now=t)
        net.heartbeats(1, now=t)
    assert net.nodes[3].term == term
    assert net.nodes[3].role is Role.FOLLOWER
    # Healed: node 3 times out once more before the leader's next heartbeat reaches it. The
    # others heard from the leader just now and refuse; the leader is not deposed.
    net.cut = set()
    net.timeout(3, now=t + 10)
    assert net.nodes[3].term == term
    assert net.nodes[1].role is Role.LEADER and net.nodes[1].term == term
    net.heartbeats(1, now=t + 20)
    assert net.nodes[3].leader_id == 1 and net.nodes[3].term == term


def test_prevote_a_lost_leader_is_replaced_by_one_election():
    net = Net()
    net.timeout(1, now=0)
    term = net.nodes[1].term
    net.heartbeats(1, now=50)
    net.cut = {1}  # the leader dies
    net.timeout(2, now=50 + MAX_MS)
    assert net.nodes[2].role is Role.LEADER and net.nodes[2].term == term + 1


# ----- check-quorum -----


def test_check_quorum_leader_steps_down_without_replies_from_a_majority():
    leader = make(1, size=5)
    elect(leader, now=10_000)
    term, vote = leader.term, leader.voted_for
    followers = {i: make(i, size=5) for i in (2, 3)}
    for f in followers.values():
        heartbeat(leader, f, now=10_200)
    leader.take_ready()
    # Self + 2 + 3 replied within the maximum election timeout: a majority of 5.
    leader.tick(10_200 + MAX_MS - 1)
    assert leader.role is Role.LEADER
    heartbeat(leader, followers[2], now=10_300)  # 3 falls silent: self + 2 is no majority
    leader.tick(10_200 + MAX_MS - 1)
    assert leader.role is Role.LEADER
    leader.take_ready()
    leader.tick(10_200 + MAX_MS)
    assert (leader.role, leader.term, leader.voted_for) == (Role.FOLLOWER, term, vote)
    assert leader.leader_id == NONE and leader.propose(10_500, "SET a 1") == NotLeader(NONE)
    ready = leader.take_ready()
    assert ready.reset_timer and ready.hard_state is None and not ready.messages
    assert ready.events == [RoleEvent(Role.FOLLOWER, term)]


def test_check_quorum_gives_a_new_leader_a_full_timeout_and_counts_failed_appends():
    leader = make(1, size=3, log=log_of(1, 1))
    elect(leader, now=50_000)
    leader.tick(50_000 + MAX_MS - 1)  # nobody answered yet, but the term is new
    assert leader.role is Role.LEADER
    # A rejection (the follower's log is behind) is a reply too.
    follower = make(2, term=leader.term)
    leader.take_ready()
    req = AppendRequest(leader.term, 1, 2, leader.term, (), -1)
    resp = follower.handle_append_request(50_000 + MAX_MS, req)
    assert not resp.success
    leader.handle_append_response(50_000 + MAX_MS, 2, req.sent(), resp)
    leader.tick(50_000 + 2 * MAX_MS - 1)
    assert leader.role is Role.LEADER
    leader.tick(50_000 + 2 * MAX_MS)
    assert leader.role is Role.FOLLOWER


def test_check_quorum_is_a_no_op_for_followers_and_single_nodes():
    follower = make(2)
    follower.handle_append_request(0, AppendRequest(1, 1, -1, 0, (), -1))
    follower.set_election_timeout(10**9)
    follower.tick(10**6)
    assert follower.role is Role.FOLLOWER and follower.leader_id == 1
    alone = RaftCore(Config(1, ()), HardState(), [], 0, 300)
    timeout(alone, 300)
    assert alone.role is Role.LEADER
    alone.tick(10**6)
    assert alone.role is Role.LEADER


def test_check_quorum_off_keeps_a_silent_leader():
    cfg = Config(1, (2, 3), check_quorum=False)
    leader = RaftCore(cfg, HardState(), [], 0, 300)
    pre = prevote_request(timeout(leader, 300))
    leader.handle_prevote_response(300, 2, pre.term, prevote_grant(0))
    leader.handle_vote_response(300, 2, VoteResponse(1, True))
    assert leader.role is Role.LEADER
    leader.tick(10**6)
    assert leader.role is Role.LEADER


# ----- stepping down draws a fresh election timeout -----


def _step_down_higher_term_vote(core: RaftCore) -> None:
    core.handle_vote_request(0, VoteRequest(core.term + 1, 2, 100, 100))


def _step_down_higher_term_reply(core: RaftCore) -> None:
    sent_ = AppendSent(core.term, 0, 0)
    core.handle_append_response(0, 2, sent_, AppendResponse(core.term + 1, False))


def _step_down_check_quorum(core: RaftCore) -> None:
    core.tick(10**6)


def _step_down_higher_term_append(core: RaftCore) -> None:
    core.handle_append_request(0, AppendRequest(core.term + 1, 3, -1, 0, (), -1))


@pytest.mark.parametrize(
    "cause",
    [
        _step_down_higher_term_vote,
        _step_down_higher_term_reply,
        _step_down_check_quorum,
        _step_down_higher_term_append,
    ],
)
def test_stepping_down_starts_a_fresh_election_timeout(cause: Callable[[RaftCore], None]):
    leader = make(1)
    elect(leader, now=0)
    follower = make(2)
    replicate(leader, follower)
    leader.take_ready()
    cause(leader)
    assert leader.role is Role.FOLLOWER
    assert leader.take_ready().reset_timer, "a deposed leader must draw a new timeout"


def test_stepping_down_candidate_on_append_of_its_term_starts_a_fresh_timeout():
    core = make(2)
    pre = prevote_request(timeout(core, 0))
    core.handle_prevote_response(0, 1, pre.term, prevote_grant(0))
    assert core.role is Role.CANDIDATE
    core.take_ready()
    req = AppendRequest(1, 3, -1, 0, (Entry(0, 1, ""),), -1)
    assert core.handle_append_request(0, req).success
    assert core.role is Role.FOLLOWER and core.take_ready().reset_timer

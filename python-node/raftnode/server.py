"""The gRPC side of the node: drives a RaftCore from one asyncio event loop.

Only coroutines and callbacks of this loop touch the core, so it needs no lock. After every
step `_after_step()` makes the core's output durable (fsync) and journals it *before* the
caller sends the reply or messages of that step, then reacts to it: re-draws the election
timer, starts or stops the per-peer replication tasks, and answers waiting client requests.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from typing import Any

import grpc

from raft_pb import raft_service_pb2 as pb
from raft_pb import raft_service_pb2_grpc as pb_grpc

from . import IMPLEMENTATION
from .config import Config
from .core import (
    LEADER,
    AppendRequest,
    AppendResponse,
    Applied,
    Entry,
    PreVoteRequest,
    RaftCore,
    VoteRequest,
    VoteResponse,
)
from .journal import Journal

log = logging.getLogger("raftnode")

CLIENT_TIMEOUT_S = 3.0
FORWARDED_KEY = "x-raft-forwarded"

# Reconnect quickly to a restarted peer (grpc's default backoff grows to two minutes), and
# never route loopback traffic through an HTTP proxy from the environment.
CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
    ("grpc.enable_http_proxy", 0),
    # A channel of its own subchannels: otherwise a renewed channel (see _maybe_renew_channel)
    # shares the global subchannel, backoff and all, with the channel it replaces.
    ("grpc.use_local_subchannel_pool", 1),
]
RENEW_INTERVAL_S = 0.2
# Without this, two nodes could bind one port (grpc sets SO_REUSEPORT by default).
SERVER_OPTIONS = [("grpc.so_reuseport", 0)]


class FatalError(Exception):
    pass


def entry_to_pb(index: int, e: Entry) -> pb.LogEntry:
    return pb.LogEntry(index=index, term=e.term, command=e.command)


class RaftNode(pb_grpc.RaftServiceServicer):
    def __init__(self, cfg: Config, core: RaftCore, storage: Any, journal: Journal) -> None:
        self.cfg = cfg
        self.core = core
        self.storage = storage
        self.journal = journal
        self.peers = {p.id: p for p in cfg.peers}
        self.channels = {
            p.id: grpc.aio.insecure_channel(p.address, options=CHANNEL_OPTIONS) for p in cfg.peers
        }
        self.stubs = {pid: pb_grpc.RaftServiceStub(ch) for pid, ch in self.channels.items()}
        self.rpc_timeout = cfg.election_min_ms / 1000.0
        self.heartbeat = cfg.heartbeat_ms / 1000.0
        self.election_max = cfg.election_max_ms / 1000.0
        self._timer: asyncio.TimerHandle | None = None
        self._quorum_timer: asyncio.TimerHandle | None = None
        # Set (and replaced) whenever the known leader changes: wakes forwarded requests
        # waiting on a leader that may be dead.
        self._leader_changed = asyncio.Event()
        self._known_leader = core.leader_id
        self._leader_term: int | None = None
        self._replicators: dict[int, asyncio.Task[None]] = {}
        self._wake: dict[int, asyncio.Event] = {}
        self._waiters: dict[int, tuple[int, asyncio.Future[Applied | None]]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._peer_up: dict[int, bool] = {}
        self._renewed: dict[int, float] = {}
        self._retired: set[grpc.aio.Channel] = set()  # for logging reachability changes only
        self.on_fatal: Callable[[str], None] = lambda msg: None

    # ----- life cycle -----

    def start(self) -> None:
        self._arm_timer()

    async def stop(self) -> None:
        self._stopping = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._stop_leading()
        tasks = list(self._background) + list(self._replicators.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for ch in [*self.channels.values(), *self._retired]:
            await ch.close()

    # ----- the step driver -----

    def _after_step(self) -> None:
        out = self.core.take_output()
        try:
            if out.state_dirty:
                self.storage.save_state(self.core.current_term, self.core.voted_for)
            if out.log_dirty_from is not None:
                self.storage.sync_log(self.core.log, out.log_dirty_from)
        except Exception as e:  # noqa: BLE001 - any storage failure is fatal
            msg = f"cannot persist state: {e}"
            self.on_fatal(msg)
            raise FatalError(msg) from None
        self.journal.write_all(out.events)
        for ev in out.events:
            if ev["event"] in ("role", "term", "vote", "truncate"):
                log.info("%s", " ".join(f"{k}={v}" for k, v in ev.items()))

        core = self.core
        if core.leader_id != self._known_leader:
            self._known_leader = core.leader_id
            self._leader_changed.set()
            self._leader_changed = asyncio.Event()
        if core.role == LEADER:
            if self._leader_term != core.current_term:
                self._start_leading()
        elif self._leader_term is not None:
            self._stop_leading()
        if core.role != LEADER and not self._stopping and (out.reset_timer or self._timer is None):
            self._arm_timer()

        for a in out.applied:
            waiter = self._waiters.pop(a.index, None)
            if waiter is not None:
                term, fut = waiter
                if not fut.done():
                    fut.set_result(a if a.term == term else None)
        if out.replicate:
            for ev in self._wake.values():
                ev.set()

    # ----- elections -----

    def _arm_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        delay = random.uniform(self.cfg.election_min_ms, self.cfg.election_max_ms) / 1000.0
        self._timer = asyncio.get_running_loop().call_later(delay, self._on_election_timeout)

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _on_election_timeout(self) -> None:
        self._timer = None
        req = self.core.on_election_timeout(self._now())
        try:
            self._after_step()
        except FatalError:
            return
        self._campaign(req)

    def _campaign(self, req: PreVoteRequest | VoteRequest | None) -> None:
        """Send a pre-vote round or a real election to every peer."""
        if req is None:
            return
        for peer in self.peers:
            if isinstance(req, PreVoteRequest):
                self._spawn(self._request_prevote(peer, req))
            else:
                self._spawn(self._request_vote(peer, req))

    async def _request_prevote(self, peer: int, req: PreVoteRequest) -> None:
        """PreVote to one peer (thesis §9.6). UNIMPLEMENTED (a server of the original protocol)
        counts as a grant; any other error or a timeout as a refusal (node contract)."""
        msg = pb.RequestVoteRequest(
            term=req.term,
            candidateId=req.candidate_id,
            lastLogIndex=req.last_log_index,
            lastLogTerm=req.last_log_term,
        )
        try:
            resp = await self.stubs[peer].PreVote(msg, timeout=self.rpc_timeout)
            answer = VoteResponse(resp.term, resp.voteGranted)
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.UNIMPLEMENTED:
                log.debug("PreVote to %d failed: %s", peer, e.code().name)
                self._maybe_renew_channel(peer)
                return
            answer = VoteResponse(0, True)
        if self._stopping:
            return
        vote_req = self.core.on_prevote_response(peer, req.term, answer, self._now())
        try:
            self._after_step()
        except FatalError:
            return  # the node is stopping
        self._campaign(vote_req)

    async def _request_vote(self, peer: int, req: VoteRequest) -> None:
        msg = pb.RequestVoteRequest(
            term=req.term,
            candidateId=req.candidate_id,
            lastLogIndex=req.last_log_index,
            lastLogTerm=req.last_log_term,
        )
        try:
            resp = await self.stubs[peer].RequestVote(msg, timeout=self.rpc_timeout)
        except grpc.aio.AioRpcError as e:
            log.debug("RequestVote to %d failed: %s", peer, e.code().name)
            self._maybe_renew_channel(peer)
            return
        if self._stopping:
            return
        self.core.on_vote_response(
            peer, req.term, VoteResponse(resp.term, resp.voteGranted), self._now()
        )
        try:
            self._after_step()
        except FatalError:
            return  # the node is stopping

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ----- replication (leader) -----

    def _start_leading(self) -> None:
        self._stop_leading()
        self._leader_term = self.core.current_term
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        loop = asyncio.get_running_loop()
        for peer in self.peers:
            self._wake[peer] = asyncio.Event()
            self._replicators[peer] = loop.create_task(self._replicate(peer, self._leader_term))
        if self.peers:
            self._quorum_timer = loop.call_later(self.heartbeat, self._on_quorum_tick)

    def _on_quorum_tick(self) -> None:
        """Check-quorum every heartbeat while leading (node contract "Pre-vote and
        check-quorum"): without a reply from a majority within the maximum election timeout
        the core steps down, and `_after_step` stops the replication and re-arms the timer."""
        self._quorum_timer = None
        if self._stopping or self._leader_term is None:
            return
        if self.core.check_quorum(self._now()):
            log.info(
                "no reply from a majority within %.0f ms: stepping down", 1000 * self.election_max
            )
        try:
            self._after_step()
        except FatalError:
            return
        if self._leader_term is not None:
            loop = asyncio.get_running_loop()
            self._quorum_timer = loop.call_later(self.heartbeat, self._on_quorum_tick)

    def _stop_leading(self) -> None:
        self._leader_term = None
        if self._quorum_timer is not None:
            self._quorum_timer.cancel()
            self._quorum_timer = None
        for task in self._replicators.values():
            task.cancel()
        self._replicators.clear()
        self._wake.clear()
        waiters, self._waiters = self._waiters, {}
        for _, fut in waiters.values():
            if not fut.done():
                fut.set_result(None)

    async def _replicate(self, peer: int, term: int) -> None:
        """One loop per peer: a slow or dead peer never delays the others' heartbeats."""
        wake = self._wake[peer]
        core = self.core
        while core.role == LEADER and core.current_term == term:
            wake.clear()
            req = core.append_request_for(peer)
            if req is None:
                return
            msg = pb.AppendEntriesRequest(
                term=req.term,
                leaderId=req.leader_id,
                prevLogIndex=req.prev_log_index,
                prevLogTerm=req.prev_log_term,
                leaderCommit=req.leader_commit,
                entries=[
                    entry_to_pb(req.prev_log_index + 1 + i, e) for i, e in enumerate(req.entries)
                ],
            )
            try:
                resp = await self.stubs[peer].AppendEntries(msg, timeout=self.rpc_timeout)
            except grpc.aio.AioRpcError as e:
                log.debug("AppendEntries to %d failed: %s %s", peer, e.code().name, e.details())
                if self._peer_up.get(peer, True):
                    log.info("peer %d unreachable: %s", peer, e.code().name)
                self._peer_up[peer] = False
                self._maybe_renew_channel(peer)
                await asyncio.sleep(self.heartbeat)  # retry at the next heartbeat
                continue
            if not self._peer_up.get(peer, True):
                log.info("peer %d reachable again", peer)
            self._peer_up[peer] = True
            core.on_append_response(
                peer,
                req,
                AppendResponse(
                    resp.term,
                    resp.success,
                    resp.conflict_index if resp.HasField("conflict_index") else None,
                    resp.conflict_term if resp.HasField("conflict_term") else None,
                ),
                self._now(),
            )
            try:
                self._after_step()
            except FatalError:
                return  # the node is stopping
            if core.has_more_for(peer):
                continue
            try:
                await asyncio.wait_for(wake.wait(), self.heartbeat)
            except TimeoutError:
                pass

    def _maybe_renew_channel(self, peer: int) -> None:
        """Replaces a channel stuck in reconnect backoff with a fresh one (at most every
        RENEW_INTERVAL_S), so a restarted follower hears from the leader within a few
        heartbeats instead of up to the ~1 s backoff cap: long enough for its own election
        timer to fire and needlessly depose the leader. Candidates renew too, so votes reach
        peers that come back after a long outage without waiting out the backoff."""
        if self._stopping:
            return
        channel = self.channels[peer]
        if channel.get_state() != grpc.ChannelConnectivity.TRANSIENT_FAILURE:
            return
        now = asyncio.get_running_loop().time()
        if now - self._renewed.get(peer, 0.0) < RENEW_INTERVAL_S:
            return
        self._renewed[peer] = now
        log.debug("renewing the channel to peer %d", peer)
        fresh = grpc.aio.insecure_channel(self.peers[peer].address, options=CHANNEL_OPTIONS)
        self.channels[peer] = fresh
        self.stubs[peer] = pb_grpc.RaftServiceStub(fresh)
        self._retired.add(channel)
        self._spawn(self._close_later(channel))

    async def _close_later(self, channel: grpc.aio.Channel) -> None:
        # Calls started on the old channel (votes, forwarded requests) may still be running.
        await asyncio.sleep(CLIENT_TIMEOUT_S + 1.0)
        self._retired.discard(channel)
        await channel.close()

    # ----- RPC handlers -----

    async def _step(self, context: Any) -> None:
        """_after_step() for a handler: a failed fsync answers an error, never a success."""
        try:
            self._after_step()
        except FatalError as e:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(e))

    async def RequestVote(self, request: Any, context: Any) -> Any:
        if self._stopping:  # after the journal's "stop" the state must not change
            await context.abort(grpc.StatusCode.UNAVAILABLE, "node is stopping")
        resp = self.core.on_vote_request(
            VoteRequest(
                request.term, request.candidateId, request.lastLogIndex, request.lastLogTerm
            )
        )
        await self._step(context)  # the vote is durable before the reply leaves
        return pb.RequestVoteResponse(term=resp.term, voteGranted=resp.granted)

    async def PreVote(self, request: Any, context: Any) -> Any:
        """Thesis §9.6: answering changes nothing (no term, vote, timer or journal)."""
        if self._stopping:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "node is stopping")
        resp = self.core.on_prevote_request(
            PreVoteRequest(
                request.term, request.candidateId, request.lastLogIndex, request.lastLogTerm
            ),
            self._now(),
        )
        return pb.RequestVoteResponse(term=resp.term, voteGranted=resp.granted)

    async def AppendEntries(self, request: Any, context: Any) -> Any:
        if self._stopping:  # after the journal's "stop" the state must not change
            await context.abort(grpc.StatusCode.UNAVAILABLE, "node is stopping")
        req = AppendRequest(
            request.term,
            request.leaderId,
            request.prevLogIndex,
            request.prevLogTerm,
            tuple(Entry(e.term, e.command) for e in request.entries),
            request.leaderCommit,
        )
        resp = self.core.on_append_request(req, self._now())
        await self._step(context)  # appended entries are durable before the acknowledgement
        out = pb.AppendEntriesResponse(term=resp.term, success=resp.success)
        if resp.conflict_index is not None:
            out.conflict_index = resp.conflict_index
        if resp.conflict_term is not None:
            out.conflict_term = resp.conflict_term
        return out

    async def GetStatus(self, request: Any, context: Any) -> Any:
        c = self.core
        return pb.GetStatusResponse(
            state=c.role,
            current_term=c.current_term,
            voted_for=c.voted_for,
            leader_id=c.leader_id,
            node_id=self.cfg.node_id,
            commit_index=c.commit_index,
            last_applied=c.last_applied,
            last_log_index=c.last_log_index,
            last_log_term=c.last_log_term,
            implementation=IMPLEMENTATION,
            leader_address=self._leader_address(),
        )

    async def GetLog(self, request: Any, context: Any) -> Any:
        start = max(0, request.from_index) if request.HasField("from_index") else 0
        end = len(self.core.log)
        if request.HasField("max_entries") and request.max_entries > 0:
            end = min(end, start + request.max_entries)
        return pb.GetLogResponse(
            entries=[entry_to_pb(i, self.core.log[i]) for i in range(start, end)]
        )

    async def ClientRequest(self, request: Any, context: Any) -> Any:
        if self._stopping:  # after the journal's "stop" the state must not change
            await context.abort(grpc.StatusCode.UNAVAILABLE, "node is stopping")
        command = request.command
        budget = CLIENT_TIMEOUT_S
        remaining = context.time_remaining()
        if remaining is not None:
            budget = max(0.05, min(budget, remaining - 0.05))
        if self.core.role == LEADER:
            return await self._lead(command, budget, context)
        if self.core.leader_id == -1:
            return self._answer(False, "No leader available", pb.REJECTED)
        metadata = context.invocation_metadata() or ()
        if any(k == FORWARDED_KEY and v == "1" for k, v in metadata):
            return self._answer(
                False, f"not the leader; leader is node {self.core.leader_id}", pb.REJECTED
            )
        return await self._forward(command, budget, context)

    async def _lead(self, command: str, budget: float, context: Any) -> Any:
        index = self.core.propose(command)
        assert index is not None
        fut: asyncio.Future[Applied | None] = asyncio.get_running_loop().create_future()
        self._waiters[index] = (self.core.current_term, fut)
        await self._step(context)  # durable before it counts itself; may resolve fut (one node)
        try:
            applied = await asyncio.wait_for(asyncio.shield(fut), budget)
        except TimeoutError:
            self._waiters.pop(index, None)
            return self._answer(False, "timed out waiting for commit", pb.UNKNOWN)
        if applied is None:
            return self._answer(False, "leadership lost before commit", pb.UNKNOWN)
        return self._answer(True, "applied", pb.APPLIED, applied.result)

    async def _forward(self, command: str, budget: float, context: Any) -> Any:
        """Forward to the leader (node contract §4), following leader changes.

        A leader that cannot be reached is waited for at most one maximum election timeout
        (issue 15 §1: by then a new leader is known, or the client is told there is none),
        never the reconnect backoff of a dead one: the wait ends as soon as the known leader
        changes, and the request then goes to the new leader (or is led here). Nothing has
        been sent when it gives up, so the answer is REJECTED with the current hint; a failed
        or abandoned send is UNKNOWN."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        wait_until = min(deadline, loop.time() + self.election_max)
        while True:
            leader = self.core.leader_id
            if self.core.role == LEADER:
                return await self._lead(command, max(0.05, deadline - loop.time()), context)
            changed = self._leader_changed
            if leader == -1:
                if not await self._wait_event(changed, wait_until - loop.time()):
                    return self._answer(False, "No leader available", pb.REJECTED)
                continue
            if leader not in self.peers:
                return self._answer(False, f"leader {leader} has no known address", pb.REJECTED)
            ready = await self._leader_ready(leader, changed, wait_until - loop.time())
            if ready is None:  # the known leader changed: try the new one, with its own bound
                wait_until = min(deadline, loop.time() + self.election_max)
                continue
            if not ready:
                address = self.peers[leader].address
                return self._answer(
                    False, f"leader {leader} at {address} is unreachable", pb.REJECTED
                )
            return await self._send_forward(command, leader, deadline - loop.time())

    async def _wait_event(self, event: asyncio.Event, timeout: float) -> bool:
        """True when `event` is set within `timeout` seconds."""
        if timeout <= 0:
            return event.is_set()
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def _leader_ready(
        self, leader: int, changed: asyncio.Event, timeout: float
    ) -> bool | None:
        """Waits for the channel to `leader` to be READY: True when it is, False after
        `timeout` seconds (or a closed channel), None when the known leader changed first."""
        channel = self.channels[leader]
        if channel.get_state(try_to_connect=True) == grpc.ChannelConnectivity.READY:
            return True
        if timeout <= 0:
            return False
        ready = asyncio.ensure_future(channel.channel_ready())
        moved = asyncio.ensure_future(changed.wait())
        try:
            done, _ = await asyncio.wait(
                {ready, moved}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            ready.cancel()
            moved.cancel()
        if ready in done and not ready.cancelled() and ready.exception() is None:
            return True
        if moved in done:
            return None
        return False

    async def _send_forward(self, command: str, leader: int, budget: float) -> Any:
        """Sends the request to `leader` and relays its answer; UNKNOWN when the call fails
        after it may have been sent, or when another leader is known while it is pending
        (the old one may still have applied it)."""
        address = self.peers[leader].address
        call = asyncio.ensure_future(
            self.stubs[leader].ClientRequest(
                pb.ClientRequestMessage(command=command),
                timeout=max(0.05, budget),
                metadata=((FORWARDED_KEY, "1"),),
            )
        )
        while True:
            changed = asyncio.ensure_future(self._leader_changed.wait())
            try:
                await asyncio.wait({call, changed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                changed.cancel()
            if call.done():
                break
            if self.core.leader_id not in (-1, leader):
                call.cancel()
                return self._answer(
                    False, f"leader {leader} was replaced while forwarding", pb.UNKNOWN
                )
        try:
            return call.result()
        except grpc.aio.AioRpcError as e:
            return self._answer(
                False,
                f"forward to leader {leader} at {address} failed: {e.code().name}",
                pb.UNKNOWN,
            )

    def _leader_address(self) -> str:
        lid = self.core.leader_id
        if lid == self.cfg.node_id:
            return self.cfg.address
        peer = self.peers.get(lid)
        return peer.address if peer else ""

    def _answer(self, success: bool, message: str, outcome: int, result: str | None = None) -> Any:
        resp = pb.ClientResponseMessage(
            success=success,
            message=message,
            leader_id=self.core.leader_id,
            leader_address=self._leader_address(),
            outcome=outcome,
        )
        if result is not None:
            resp.result = result
        return resp

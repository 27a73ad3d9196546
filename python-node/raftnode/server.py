"""The I/O shell around the pure core (core.py), on one asyncio event loop.

Only coroutines and callbacks of this loop touch the core, so it needs no lock. After every
input `_process_ready()` carries out the core's `Ready` in order: persist (fsync), journal,
send messages, apply committed entries to the key-value store and answer their clients; the RPC
reply of that input leaves only afterwards. The fsync runs on a storage thread (durable.py), so
the loop keeps serving while it waits; inputs that arrive meanwhile are made durable together
by the next write. A tick every TICK_S drives elections, heartbeats and check-quorum inside the
core. Each message is sent as its own RPC with a deadline, so a slow or dead peer never delays
the others. Protobuf conversion lives here, never in the core.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import grpc

from raft_pb import raft_service_pb2 as pb
from raft_pb import raft_service_pb2_grpc as pb_grpc

from . import IMPLEMENTATION
from .config import Config
from .core import (
    NONE,
    Answer,
    AppendMessage,
    AppendRequest,
    AppendResponse,
    CommitEvent,
    Entry,
    Event,
    HardState,
    Message,
    NotLeader,
    PreVoteEvent,
    PreVoteMessage,
    PreVoteReply,
    PreVoteResultEvent,
    RaftCore,
    ReadFailed,
    ReadReady,
    ReadState,
    Ready,
    Role,
    RoleEvent,
    TermEvent,
    TruncateEvent,
    Unimplemented,
    VoteEvent,
    VoteMessage,
    VoteRequest,
    VoteResponse,
)
from .core import (
    Config as CoreConfig,
)
from .durable import Pipeline, Storage, Write
from .journal import Journal
from .kv import KvStore

log = logging.getLogger("raftnode")

CLIENT_TIMEOUT_S = 3.0
FORWARDED_KEY = "x-raft-forwarded"
TICK_S = 0.01
MAX_ENTRIES_PER_APPEND = 256

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

Context = grpc.aio.ServicerContext[Any, Any]


class FatalError(Exception):
    pass


@dataclass(frozen=True)
class Applied:
    """A client's command, applied: its log position and the state machine's result."""

    index: int
    term: int
    result: str | None


def journal_record(ev: Event) -> dict[str, Any]:
    """The journal line of a core event (docs/node-contract.md section 5)."""
    match ev:
        case TermEvent(term):
            return {"event": "term", "term": term}
        case VoteEvent(term, candidate):
            return {"event": "vote", "term": term, "candidate": candidate}
        case RoleEvent(role, term):
            return {"event": "role", "role": role.value, "term": term}
        case TruncateEvent(from_index):
            return {"event": "truncate", "from_index": from_index}
        case CommitEvent(index):
            return {"event": "commit", "index": index}
        case PreVoteEvent(term):
            return {"event": "prevote", "term": term}
        case PreVoteResultEvent(term, granted):
            return {"event": "prevote_result", "term": term, "granted": granted}


def entry_to_pb(e: Entry) -> pb.LogEntry:
    return pb.LogEntry(index=e.index, term=e.term, command=e.command)


def vote_to_pb(req: VoteRequest) -> pb.RequestVoteRequest:
    return pb.RequestVoteRequest(
        term=req.term,
        candidateId=req.candidate_id,
        lastLogIndex=req.last_log_index,
        lastLogTerm=req.last_log_term,
    )


def vote_from_pb(r: pb.RequestVoteRequest) -> VoteRequest:
    return VoteRequest(r.term, r.candidateId, r.lastLogIndex, r.lastLogTerm)


def append_to_pb(req: AppendRequest) -> pb.AppendEntriesRequest:
    return pb.AppendEntriesRequest(
        term=req.term,
        leaderId=req.leader_id,
        prevLogIndex=req.prev_log_index,
        prevLogTerm=req.prev_log_term,
        leaderCommit=req.leader_commit,
        entries=[entry_to_pb(e) for e in req.entries],
    )


def append_from_pb(r: pb.AppendEntriesRequest) -> AppendRequest:
    entries = tuple(Entry(e.index, e.term, e.command) for e in r.entries)
    return AppendRequest(r.term, r.leaderId, r.prevLogIndex, r.prevLogTerm, entries, r.leaderCommit)


def core_config(cfg: Config) -> CoreConfig:
    """The core's settings from the command line; an RPC deadline is the minimum election
    timeout, as in the Rust node."""
    return CoreConfig(
        id=cfg.node_id,
        peers=tuple(p.id for p in cfg.peers),
        heartbeat_ms=cfg.heartbeat_ms,
        rpc_timeout_ms=cfg.election_min_ms,
        max_entries_per_append=MAX_ENTRIES_PER_APPEND,
        max_inflight_appends=cfg.max_inflight_appends,
        election_timeout_ms=(cfg.election_min_ms, cfg.election_max_ms),
        pre_vote=True,
        check_quorum=True,
    )


def _read_error(done: asyncio.Future[pb.ClientResponseMessage]) -> None:
    """Marks the error of a finished forwarded call as read (see `_send_forward`)."""
    if not done.cancelled():
        done.exception()


class RaftNode(pb_grpc.RaftServiceServicer):
    def __init__(
        self,
        cfg: Config,
        storage: Storage,
        journal: Journal,
        hard_state: HardState,
        entries: list[Entry],
    ) -> None:
        self.cfg = cfg
        self.storage = storage
        self.journal = journal
        self.kv = KvStore()
        self._epoch = time.monotonic()
        self.core = RaftCore(
            core_config(cfg), hard_state, entries, self._now(), self._draw_timeout()
        )
        self.peers = {p.id: p for p in cfg.peers}
        self.channels = {
            p.id: grpc.aio.insecure_channel(p.address, options=CHANNEL_OPTIONS) for p in cfg.peers
        }
        self.stubs = {pid: pb_grpc.RaftServiceStub(ch) for pid, ch in self.channels.items()}
        self.rpc_timeout = cfg.election_min_ms / 1000.0
        self.election_max = cfg.election_max_ms / 1000.0
        # Set (and replaced) whenever the known leader changes: wakes forwarded requests
        # waiting on a leader that may be dead.
        self._leader_changed = asyncio.Event()
        self._known_leader = self.core.leader_id
        self._waiters: dict[int, tuple[int, asyncio.Future[Applied | None]]] = {}
        # GETs of this loop iteration (one ReadIndex request serves them all, thesis §6.4),
        # and GETs waiting for their ReadIndex, by the core's ctx. A future's result is the
        # read: (value,) when confirmed, None when this node lost leadership first.
        self._read_batch: list[tuple[str, asyncio.Future[tuple[str | None] | None]]] = []
        self._reads: dict[int, list[tuple[str, asyncio.Future[tuple[str | None] | None]]]] = {}
        self._read_ctx = 0
        self.read_requests = 0  # ReadIndex requests made, for tests
        self._background: set[asyncio.Task[None]] = set()
        self._ticker: asyncio.Task[None] | None = None
        self._stopping = False
        self._flush_scheduled = False
        self.flushes = 0  # group-commit flushes of proposals, for tests and the bench
        self._pipeline = Pipeline(
            storage,
            self._take_ready,
            self._carry_out,
            self._storage_failed,
            f"raft-storage-{cfg.node_id}",
        )
        self._pipeline.durable_index = len(entries) - 1
        self._peer_up: dict[int, bool] = {}
        self._renewed: dict[int, float] = {}
        self._retired: set[grpc.aio.Channel] = set()  # for logging reachability changes only
        self.on_fatal: Callable[[str], None] = lambda msg: None

    # ----- life cycle -----

    def start(self) -> None:
        """Journals the core's first Ready (role Follower) and starts the tick."""
        self._process_ready()
        self._ticker = asyncio.get_running_loop().create_task(self._tick_loop())

    async def stop(self) -> None:
        self._stopping = True
        tasks = list(self._background)
        if self._ticker is not None:
            tasks.append(self._ticker)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._pipeline.close()  # the write in flight ends and is carried out
        self._fail_waiters(-1)
        self._fail_reads()
        for ch in [*self.channels.values(), *self._retired]:
            await ch.close()

    def _now(self) -> int:
        """Milliseconds on the monotonic clock since this node started."""
        return int((time.monotonic() - self._epoch) * 1000)

    def _draw_timeout(self) -> int:
        return random.randint(self.cfg.election_min_ms, self.cfg.election_max_ms)

    async def _tick_loop(self) -> None:
        while not self._stopping:
            await asyncio.sleep(TICK_S)
            self.core.tick(self._now())
            try:
                self._process_ready()
            except FatalError:
                return

    # ----- carrying out a Ready -----

    def _process_ready(self) -> asyncio.Future[bool] | None:
        """Persist, journal, send, apply: the order that keeps the durability promises (Figure
        2: persistent state is "updated on stable storage before responding to RPCs"). The
        persisting is off the loop (durable.Pipeline): None when the Ready was carried out
        already, else a future, True once it is durable and carried out, False when it never
        will be (failed write, stopping). Raises FatalError after a failed write."""
        try:
            return self._pipeline.submit()
        except Pipeline.Failed as e:
            raise FatalError(str(e)) from None

    async def _settled(self) -> bool:
        """Carries out the pending Ready and waits for it (tests; a handler's reply): True
        once it is durable and carried out."""
        pending = self._process_ready()
        return True if pending is None else await asyncio.shield(pending)

    def _take_ready(self) -> tuple[Ready, Write] | None:
        """The core's Ready and what it makes durable; None when there is nothing to do."""
        ready = self.core.take_ready()
        if ready.is_empty():
            return None
        self._note_leader()
        return ready, Write.of(ready, self.core.log)

    def _carry_out(self, ready: Ready) -> None:
        """A Ready whose write is durable: journal, send, apply, answer reads, timer."""
        records = [journal_record(ev) for ev in ready.events]
        self.journal.write_all(records)
        for ev, rec in zip(ready.events, records, strict=True):
            if isinstance(ev, RoleEvent) and ev.role is not Role.LEADER:
                self._fail_waiters(-1)
            elif isinstance(ev, TruncateEvent):
                self._fail_waiters(ev.from_index)
            if rec["event"] in ("role", "term", "vote", "truncate"):
                log.info("%s", " ".join(f"{k}={v}" for k, v in rec.items()))
        if not self._stopping:
            for peer, msg in ready.messages:
                self._spawn(self._send(peer, msg))
        for entry in ready.committed:
            self._apply(entry)
        for read in ready.reads:
            self._answer_reads(read)
        if ready.reset_timer:
            self.core.set_election_timeout(self._draw_timeout())

    def _storage_failed(self, msg: str) -> None:
        """A write failed (fatal): the node stops; no client waits for an answer meanwhile."""
        self.on_fatal(msg)
        self._fail_waiters(-1)
        self._fail_reads()

    def _note_leader(self) -> None:
        if self.core.leader_id != self._known_leader:
            self._known_leader = self.core.leader_id
            self._leader_changed.set()
            self._leader_changed = asyncio.Event()

    def _apply(self, entry: Entry) -> None:
        result = self.kv.apply(entry.command)
        self.journal.write(
            "apply", index=entry.index, term=entry.term, command=entry.command, result=result
        )
        waiter = self._waiters.pop(entry.index, None)
        if waiter is not None:
            term, fut = waiter
            if not fut.done():
                same = entry.term == term  # else another leader's entry took its index
                fut.set_result(Applied(entry.index, entry.term, result) if same else None)

    def _schedule_flush(self) -> None:
        """Group commit (issue 15 §3): proposals become one log append, ONE fsync and one
        AppendEntries per peer per batch. While entries persisted earlier still wait for a
        majority (AppendEntries in flight: the core sends followers nothing new until they
        answer), a new proposal waits for the `_process_ready()` of those answers or of the
        next tick, so everything proposed meanwhile shares it. Otherwise (low load) the first
        proposal of a loop iteration schedules one flush at the end of the callbacks already
        queued: it waits for nothing else. A failed fsync settles the waiters as unknown."""
        if self._flush_scheduled or self.core.commit_index < self._pipeline.durable_index:
            return
        self._flush_scheduled = True
        asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        self.flushes += 1
        try:
            self._process_ready()
        except FatalError:
            self._fail_waiters(-1)

    def _fail_waiters(self, from_index: int) -> None:
        """Clients of entries at `from_index` and after learn their outcome is unknown."""
        for index in [i for i in self._waiters if i >= from_index]:
            _, fut = self._waiters.pop(index)
            if not fut.done():
                fut.set_result(None)

    def _answer_reads(self, read: ReadState) -> None:
        """A confirmed read is answered from the key-value store, which holds every entry up
        to commitIndex >= readIndex (committed entries are applied before reads); a read of a
        node that lost leadership did not happen (None)."""
        for key, fut in self._reads.pop(read.ctx, []):
            if not fut.done():
                fut.set_result((self.kv.data.get(key),) if isinstance(read, ReadReady) else None)

    def _fail_reads(self) -> None:
        batches = [self._read_batch, *self._reads.values()]
        self._read_batch, self._reads = [], {}
        for batch in batches:
            for _, fut in batch:
                if not fut.done():
                    fut.set_result(None)

    def _flush_reads(self) -> None:
        """One ReadIndex request (thesis §6.4) for every GET of this loop iteration, so a burst
        of reads costs one heartbeat round."""
        batch, self._read_batch = self._read_batch, []
        if not batch or self._stopping:
            return
        self._read_ctx += 1
        self.read_requests += 1
        if isinstance(self.core.read_index(self._now(), self._read_ctx), NotLeader):
            self._reads[self._read_ctx] = batch
            self._answer_reads(ReadFailed(self._read_ctx))
            return
        self._reads[self._read_ctx] = batch
        try:
            self._process_ready()
        except FatalError:
            self._fail_reads()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _step(self, feed: Callable[[int], None]) -> None:
        """Feeds one peer reply to the core (unless stopping) and carries out its Ready."""
        if self._stopping:
            return
        feed(self._now())
        try:
            self._process_ready()
        except FatalError:
            pass  # the node is stopping

    # ----- sending messages -----

    async def _send(self, peer: int, msg: Message) -> None:
        if isinstance(msg, VoteMessage):
            await self._send_vote(peer, msg.request)
        elif isinstance(msg, PreVoteMessage):
            await self._send_prevote(peer, msg.request)
        else:
            await self._send_append(peer, msg)

    async def _send_vote(self, peer: int, req: VoteRequest) -> None:
        try:
            r = await self.stubs[peer].RequestVote(vote_to_pb(req), timeout=self.rpc_timeout)
        except grpc.aio.AioRpcError as e:
            log.debug("RequestVote to %d failed: %s", peer, e.code().name)
            self._maybe_renew_channel(peer)
            return
        resp = VoteResponse(r.term, r.voteGranted)
        self._step(lambda now: self.core.handle_vote_response(now, peer, resp))

    async def _send_prevote(self, peer: int, req: VoteRequest) -> None:
        """PreVote to one peer (thesis §9.6). UNIMPLEMENTED (a server of the original protocol)
        counts as a grant; any other error or a timeout as a refusal (node contract)."""
        reply: PreVoteReply
        try:
            r = await self.stubs[peer].PreVote(vote_to_pb(req), timeout=self.rpc_timeout)
            reply = Answer(VoteResponse(r.term, r.voteGranted))
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.UNIMPLEMENTED:
                log.debug("PreVote to %d failed: %s", peer, e.code().name)
                self._maybe_renew_channel(peer)
                return
            reply = Unimplemented()
        self._step(lambda now: self.core.handle_prevote_response(now, peer, req.term, reply))

    async def _send_append(self, peer: int, msg: AppendMessage) -> None:
        sent = msg.sent
        try:
            r = await self.stubs[peer].AppendEntries(
                append_to_pb(msg.request), timeout=self.rpc_timeout
            )
        except grpc.aio.AioRpcError as e:
            log.debug("AppendEntries to %d failed: %s %s", peer, e.code().name, e.details())
            if self._peer_up.get(peer, True):
                log.info("peer %d unreachable: %s", peer, e.code().name)
            self._peer_up[peer] = False
            self._maybe_renew_channel(peer)
            self._step(lambda now: self.core.handle_send_failure(now, peer, sent))
            return
        if not self._peer_up.get(peer, True):
            log.info("peer %d reachable again", peer)
        self._peer_up[peer] = True
        resp = AppendResponse(
            r.term,
            r.success,
            r.conflict_index if r.HasField("conflict_index") else None,
            r.conflict_term if r.HasField("conflict_term") else None,
        )
        self._step(lambda now: self.core.handle_append_response(now, peer, sent, resp))

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
        now = time.monotonic()
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

    async def _reply_step(self, context: Context) -> None:
        """_process_ready() for a handler, awaited: the reply leaves only once this input's
        state is durable; a failed fsync (or stopping) answers an error, never a success."""
        try:
            durable = await self._settled()
        except FatalError:
            durable = False
        if not durable:
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, self._pipeline.failed or "node is stopping"
            )

    async def _refuse_if_stopping(self, context: Context) -> None:
        if self._stopping:  # after the journal's "stop" the state must not change
            await context.abort(grpc.StatusCode.UNAVAILABLE, "node is stopping")

    async def RequestVote(
        self, request: pb.RequestVoteRequest, context: Context
    ) -> pb.RequestVoteResponse:
        """Figure 2: the vote is durable before the reply leaves."""
        return await self._vote_rpc(self.core.handle_vote_request, request, context)

    async def PreVote(
        self, request: pb.RequestVoteRequest, context: Context
    ) -> pb.RequestVoteResponse:
        """Thesis §9.6: answering changes nothing (no term, vote, timer or journal)."""
        return await self._vote_rpc(self.core.handle_prevote_request, request, context)

    async def _vote_rpc(
        self,
        handle: Callable[[int, VoteRequest], VoteResponse],
        request: pb.RequestVoteRequest,
        context: Context,
    ) -> pb.RequestVoteResponse:
        await self._refuse_if_stopping(context)
        resp = handle(self._now(), vote_from_pb(request))
        await self._reply_step(context)
        return pb.RequestVoteResponse(term=resp.term, voteGranted=resp.vote_granted)

    async def AppendEntries(
        self, request: pb.AppendEntriesRequest, context: Context
    ) -> pb.AppendEntriesResponse:
        await self._refuse_if_stopping(context)
        resp = self.core.handle_append_request(self._now(), append_from_pb(request))
        await self._reply_step(context)  # appended entries are durable before the ack
        out = pb.AppendEntriesResponse(term=resp.term, success=resp.success)
        if resp.conflict_index is not None:
            out.conflict_index = resp.conflict_index
        if resp.conflict_term is not None:
            out.conflict_term = resp.conflict_term
        return out

    async def GetStatus(
        self, request: pb.GetStatusRequest, context: Context
    ) -> pb.GetStatusResponse:
        c = self.core
        return pb.GetStatusResponse(
            state=c.role.value,
            current_term=c.term,
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

    async def GetLog(self, request: pb.GetLogRequest, context: Context) -> pb.GetLogResponse:
        entries = self.core.log
        start = max(0, request.from_index) if request.HasField("from_index") else 0
        end = len(entries)
        if request.HasField("max_entries") and request.max_entries > 0:
            end = min(end, start + request.max_entries)
        return pb.GetLogResponse(entries=[entry_to_pb(e) for e in entries[start:end]])

    async def ClientRequest(
        self, request: pb.ClientRequestMessage, context: Context
    ) -> pb.ClientResponseMessage:
        await self._refuse_if_stopping(context)
        command = request.command
        budget = CLIENT_TIMEOUT_S
        remaining = context.time_remaining()
        if remaining is not None:
            budget = max(0.05, min(budget, remaining - 0.05))
        if self.core.role is Role.LEADER:
            return await self._lead(command, budget, context)
        if self.core.leader_id == NONE:
            return self._answer(False, "No leader available", pb.REJECTED)
        metadata = context.invocation_metadata() or ()
        if any(k == FORWARDED_KEY and v == "1" for k, v in metadata):
            return self._answer(
                False, f"not the leader; leader is node {self.core.leader_id}", pb.REJECTED
            )
        return await self._forward(command, budget, context)

    async def _lead(
        self, command: str, budget: float, context: Context
    ) -> pb.ClientResponseMessage:
        words = command.split(" ")
        if len(words) == 2 and words[0] == "GET" and words[1]:
            return await self._read(words[1], budget)
        proposed = self.core.propose(self._now(), command)
        if isinstance(proposed, NotLeader):
            return self._answer(False, "No leader available", pb.REJECTED)
        index, term = proposed
        fut: asyncio.Future[Applied | None] = asyncio.get_running_loop().create_future()
        self._waiters[index] = (term, fut)
        self._schedule_flush()  # durable before it counts itself; may settle fut
        try:
            applied = await asyncio.wait_for(asyncio.shield(fut), budget)
        except TimeoutError:
            self._waiters.pop(index, None)
            return self._answer(False, "timed out waiting for commit", pb.UNKNOWN)
        if applied is None:
            return self._answer(False, "leadership lost before commit", pb.UNKNOWN)
        return self._answer(True, "applied", pb.APPLIED, applied.result)

    async def _read(self, key: str, budget: float) -> pb.ClientResponseMessage:
        """A linearizable GET through ReadIndex (thesis §6.4): no log entry is written."""
        fut: asyncio.Future[tuple[str | None] | None] = asyncio.get_running_loop().create_future()
        if not self._read_batch:
            asyncio.get_running_loop().call_soon(self._flush_reads)
        self._read_batch.append((key, fut))
        try:
            read = await asyncio.wait_for(asyncio.shield(fut), budget)
        except TimeoutError:
            return self._answer(False, "timed out waiting for the read's ReadIndex", pb.UNKNOWN)
        if read is None:
            # Side-effect free, so the failure is definite: the client may retry anywhere.
            return self._answer(False, "not the leader: the read was not confirmed", pb.REJECTED)
        return self._answer(True, "read (ReadIndex)", pb.APPLIED, read[0])

    async def _forward(
        self, command: str, budget: float, context: Context
    ) -> pb.ClientResponseMessage:
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
            if self.core.role is Role.LEADER:
                return await self._lead(command, max(0.05, deadline - loop.time()), context)
            changed = self._leader_changed
            if leader == NONE:
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

    async def _send_forward(
        self, command: str, leader: int, budget: float
    ) -> pb.ClientResponseMessage:
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
        # The call may end with an error in the same loop iteration in which this handler
        # is cancelled (both deadlines pass together, e.g. after the node was paused): the
        # handler then never reads it, and asyncio would log "Task exception was never
        # retrieved". The outcome is already UNKNOWN to the client; mark the error as read.
        call.add_done_callback(_read_error)
        try:
            while True:
                changed = asyncio.ensure_future(self._leader_changed.wait())
                try:
                    await asyncio.wait({call, changed}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    changed.cancel()
                if call.done():
                    break
                if self.core.leader_id not in (NONE, leader):
                    return self._answer(
                        False, f"leader {leader} was replaced while forwarding", pb.UNKNOWN
                    )
        finally:
            # Also when this handler is cancelled (the client gave up): the forwarded call
            # must not outlive it and end later with an exception nobody reads.
            if not call.done():
                call.cancel()
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

    def _answer(
        self, success: bool, message: str, outcome: pb.Outcome.ValueType, result: str | None = None
    ) -> pb.ClientResponseMessage:
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

"""The fsync runs off the event loop (issue 15 §3), and nothing that depends on it leaves first.

Raft's Figure 2: persistent state is "updated on stable storage before responding to RPCs". A
storage whose writes block until the test opens a gate shows: while a write is blocked the
loop still serves (GetStatus answers), the AppendEntries reply or the client's answer is not
sent, and the inputs that arrive meanwhile are written together by one writer as the next
batch. A write that would block the loop itself (the driver before this change) runs into the
gate's bound and is reported as such; no assertion depends on timing.
"""

from __future__ import annotations

import asyncio
import threading

from raft_pb import raft_service_pb2 as pb
from raftnode.config import Config, Peer
from raftnode.core import Entry, HardState
from raftnode.journal import Journal
from raftnode.server import RaftNode
from tests.drivers import elect_alone

GATE_BOUND_S = 60.0  # a write on the loop thread would wait this long; never reached otherwise


class GatedStorage:
    """In-memory storage whose every write waits for `gate` (open at first) on the calling
    thread, recording which thread wrote, how many wrote at once, and the appends."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()  # a write is waiting at the closed gate
        self.loop_thread = threading.get_ident()
        self.on_loop_thread = 0  # writes made on the event loop's thread
        self.gate_bound_hit = 0
        self.active = 0
        self.max_active = 0
        self.appends: list[tuple[Entry, ...]] = []
        self.log: list[Entry] = []
        self.state = (0, -1)
        self._lock = threading.Lock()

    def _write(self) -> None:
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            if threading.get_ident() == self.loop_thread:
                self.on_loop_thread += 1
        try:
            if not self.gate.is_set():
                self.entered.set()
                if not self.gate.wait(GATE_BOUND_S):
                    self.gate_bound_hit += 1
        finally:
            with self._lock:
                self.active -= 1

    def save_state(self, term: int, voted_for: int) -> None:
        self._write()
        self.state = (term, voted_for)

    def truncate(self, kept: list[Entry]) -> None:
        self._write()
        self.log = list(kept)

    def append(self, entries: tuple[Entry, ...]) -> None:
        if not entries:
            return
        self._write()
        self.appends.append(entries)
        self.log.extend(entries)

    def close(self) -> None:
        pass


async def _until_blocked(storage: GatedStorage) -> None:
    """Waits (off the loop, bounded) until a write waits at the closed gate."""
    entered = await asyncio.get_running_loop().run_in_executor(
        None, storage.entered.wait, GATE_BOUND_S
    )
    assert entered, "no write reached the storage"


async def _spin(rounds: int = 50) -> None:
    """Lets every ready callback of the loop run a few times over."""
    for _ in range(rounds):
        await asyncio.sleep(0)


def _node(storage: GatedStorage, peers: list[Peer]) -> RaftNode:
    cfg = Config(1, 35200, peers, election_min_ms=50, election_max_ms=60, heartbeat_ms=10)
    return RaftNode(cfg, storage, Journal(None, 1), HardState(0, -1), [])


async def _lone_leader() -> tuple[RaftNode, GatedStorage]:
    """A node without peers, elected, on GatedStorage made on the loop's thread (gate open)."""
    storage = GatedStorage()
    storage.loop_thread = threading.get_ident()
    return await elect_alone(_node(storage, [])), storage


def test_an_append_entries_reply_waits_for_its_write_which_runs_off_the_loop() -> None:
    async def run() -> None:
        storage = GatedStorage()
        storage.loop_thread = threading.get_ident()
        peers = [Peer(2, "127.0.0.1", 35201), Peer(3, "127.0.0.1", 35202)]
        node = _node(storage, peers)
        storage.gate.clear()
        entries = [pb.LogEntry(index=i, term=1, command=f"SET k {i}") for i in range(3)]
        request = pb.AppendEntriesRequest(
            term=1, leaderId=2, prevLogIndex=-1, prevLogTerm=0, entries=entries, leaderCommit=-1
        )
        reply = asyncio.create_task(node.AppendEntries(request, None))  # type: ignore[arg-type]
        await _until_blocked(storage)
        await _spin()
        assert storage.on_loop_thread == 0 and storage.gate_bound_hit == 0, "fsync on the loop"
        assert not reply.done(), "the reply left before its entries were durable"
        status = await node.GetStatus(pb.GetStatusRequest(), None)  # type: ignore[arg-type]
        assert status.current_term == 1, "the loop serves while the write waits"
        storage.gate.set()
        resp = await reply
        assert resp.success and resp.term == 1
        assert [e.index for e in storage.log] == [0, 1, 2]
        assert storage.state == (1, -1)
        await node.stop()

    asyncio.run(run())


def test_a_write_is_answered_only_once_it_is_durable() -> None:
    async def run() -> None:
        node, storage = await _lone_leader()
        storage.gate.clear()
        lead = asyncio.create_task(node._lead("SET a 1", 30.0, None))  # type: ignore[arg-type]
        await _until_blocked(storage)
        await _spin()
        assert storage.on_loop_thread == 0 and storage.gate_bound_hit == 0, "fsync on the loop"
        assert not lead.done(), "the client heard before the entry was durable"
        assert node.kv.data.get("a") is None, "applied before durable"
        storage.gate.set()
        reply = await lead
        assert reply.outcome == pb.APPLIED
        assert node.kv.data.get("a") == "1"
        await node.stop()

    asyncio.run(run())


def test_writes_arriving_during_a_write_are_the_next_batch_of_one_writer() -> None:
    async def run() -> None:
        node, storage = await _lone_leader()
        before = len(storage.appends)
        storage.gate.clear()
        first = asyncio.create_task(node._lead("SET k first", 30.0, None))  # type: ignore[arg-type]
        await _until_blocked(storage)
        rest = [
            asyncio.create_task(node._lead(f"SET k {i}", 30.0, None))  # type: ignore[arg-type]
            for i in range(20)
        ]
        await _spin()
        assert len(storage.appends) == before, "the first write is still at the gate"
        assert storage.gate_bound_hit == 0, "fsync on the loop"
        assert not any(t.done() for t in [first, *rest])
        storage.gate.set()
        replies = await asyncio.gather(first, *rest)
        assert [r.outcome for r in replies] == [pb.APPLIED] * 21
        batches = [len(a) for a in storage.appends[before:]]
        assert batches == [1, 20], "one write for the first, one for the 20 that came meanwhile"
        assert storage.max_active == 1, "one writer at a time"
        assert [e.index for e in storage.log] == list(range(len(storage.log))), "in log order"
        assert node.kv.data.get("k") == "19"
        await node.stop()

    asyncio.run(run())

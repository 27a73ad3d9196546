"""Group commit in the driver (issue 15 §3): proposals that arrive together are made durable
with one log append and one fsync, and a lone proposal is flushed without waiting for more."""

from __future__ import annotations

import asyncio
from pathlib import Path

from raft_pb import raft_service_pb2 as pb
from raftnode.config import Config
from raftnode.core import HardState, Role
from raftnode.journal import Journal
from raftnode.server import RaftNode
from raftnode.storage import FileStorage


def _leader(data_dir: Path) -> tuple[RaftNode, FileStorage]:
    """A single node (no peers) on FileStorage, elected by running its clock far ahead."""
    storage = FileStorage(str(data_dir))
    term, voted_for, entries = storage.load()
    cfg = Config(node_id=1, port=1, election_min_ms=50, election_max_ms=60, heartbeat_ms=10)
    node = RaftNode(cfg, storage, Journal(None, 1), HardState(term, voted_for), entries)
    for step in range(1, 4):
        node.core.tick(10_000 * step)
        node._process_ready()
    assert node.core.role is Role.LEADER
    return node, storage


def test_proposals_arriving_together_are_one_append_and_one_fsync(tmp_path: Path) -> None:
    async def run() -> None:
        node, storage = _leader(tmp_path)
        appends, fsyncs, written = storage.appends, storage.fsyncs, storage.entries_written
        replies = await asyncio.gather(
            *(node._lead(f"SET k{i} v{i}", 5.0, None) for i in range(20))  # type: ignore[arg-type]
        )
        assert [r.outcome for r in replies] == [pb.APPLIED] * 20
        assert storage.appends - appends == 1
        assert storage.entries_written - written == 20
        assert storage.fsyncs - fsyncs == 1
        assert node.flushes == 1
        await node.stop()

    asyncio.run(run())


def test_a_lone_proposal_is_flushed_and_answered_at_once(tmp_path: Path) -> None:
    async def run() -> None:
        node, storage = _leader(tmp_path)
        appends = storage.appends
        reply = await node._lead("SET a 1", 5.0, None)  # type: ignore[arg-type]
        assert reply.outcome == pb.APPLIED
        assert (storage.appends - appends, node.flushes) == (1, 1)
        second = await node._lead("SET a 2", 5.0, None)  # type: ignore[arg-type]
        assert second.outcome == pb.APPLIED
        assert (storage.appends - appends, node.flushes) == (2, 2)
        await node.stop()

    asyncio.run(run())

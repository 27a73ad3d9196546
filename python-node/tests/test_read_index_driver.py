"""GETs through ReadIndex in the driver (issue 15 §3, Raft thesis §6.4): GETs arriving together
are one ReadIndex request, answered from the key-value store with the value committed before
them, and no log entry is written; a follower's core refuses the read."""

from __future__ import annotations

import asyncio
from pathlib import Path

from raft_pb import raft_service_pb2 as pb
from raftnode.core import NotLeader
from raftnode.server import RaftNode
from raftnode.storage import FileStorage
from tests.drivers import elect_alone, file_node


async def _node(data_dir: Path, elect: bool) -> tuple[RaftNode, FileStorage]:
    """A single node (no peers) on FileStorage, elected by running its clock far ahead."""
    node, storage = file_node(data_dir)
    return (await elect_alone(node) if elect else node), storage


def test_gets_arriving_together_are_one_read_index_and_write_no_entry(tmp_path: Path) -> None:
    async def run() -> None:
        node, storage = await _node(tmp_path, elect=True)
        wrote = await node._lead("SET k v1", 5.0, None)  # type: ignore[arg-type]
        assert wrote.outcome == pb.APPLIED
        appends, log_len = storage.appends, len(node.core.log)
        replies = await asyncio.gather(
            *(node._lead(f"GET {k}", 5.0, None) for k in ("k", "absent", "k"))  # type: ignore[arg-type]
        )
        assert [r.outcome for r in replies] == [pb.APPLIED] * 3
        assert [r.result if r.HasField("result") else None for r in replies] == ["v1", None, "v1"]
        assert node.read_requests == 1, "one ReadIndex request for the three GETs"
        assert (storage.appends - appends, len(node.core.log)) == (0, log_len), "no entry"
        await node.stop()

    asyncio.run(run())


def test_a_read_on_a_follower_core_is_refused_with_the_leader_hint(tmp_path: Path) -> None:
    async def run() -> None:
        node, _ = await _node(tmp_path, elect=False)
        assert node.core.read_index(node._now(), 1) == NotLeader(-1)
        reply = await node._lead("GET k", 5.0, None)  # type: ignore[arg-type]
        assert reply.outcome == pb.REJECTED and not reply.success
        await node.stop()

    asyncio.run(run())

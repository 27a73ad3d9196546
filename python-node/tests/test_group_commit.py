"""Group commit in the driver (issue 15 §3): proposals that arrive together are made durable
with one log append and one fsync, a lone proposal is flushed without waiting for more, and
proposals made while earlier entries await a majority share the next flush."""

from __future__ import annotations

import asyncio
from pathlib import Path

from raft_pb import raft_service_pb2 as pb
from raftnode.config import Config, Peer
from raftnode.core import Answer, HardState, Role, VoteResponse
from raftnode.journal import Journal
from raftnode.server import RaftNode
from raftnode.storage import FileStorage
from tests.drivers import elect_alone, file_node


async def _leader(data_dir: Path) -> tuple[RaftNode, FileStorage]:
    """A single node (no peers) on FileStorage, elected by running its clock far ahead."""
    node, storage = file_node(data_dir)
    return await elect_alone(node), storage


def test_proposals_arriving_together_are_one_append_and_one_fsync(tmp_path: Path) -> None:
    async def run() -> None:
        node, storage = await _leader(tmp_path)
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
        node, storage = await _leader(tmp_path)
        appends = storage.appends
        reply = await node._lead("SET a 1", 5.0, None)  # type: ignore[arg-type]
        assert reply.outcome == pb.APPLIED
        assert (storage.appends - appends, node.flushes) == (1, 1)
        second = await node._lead("SET a 2", 5.0, None)  # type: ignore[arg-type]
        assert second.outcome == pb.APPLIED
        assert (storage.appends - appends, node.flushes) == (2, 2)
        await node.stop()

    asyncio.run(run())


def test_proposals_while_replication_is_in_flight_share_the_next_flush(tmp_path: Path) -> None:
    """Leader of three whose peers (nothing listens on 32490/32491) never answer: its no-op
    waits for a majority, so proposals wait for the next _process_ready (a reply or a tick)
    and are made durable together."""

    async def run() -> None:
        storage = FileStorage(str(tmp_path))
        term, voted_for, entries = storage.load()
        peers = [Peer(2, "127.0.0.1", 32490), Peer(3, "127.0.0.1", 32491)]
        cfg = Config(1, 1, peers, election_min_ms=1000, election_max_ms=2000, heartbeat_ms=500)
        node = RaftNode(cfg, storage, Journal(None, 1), HardState(term, voted_for), entries)
        node.core.tick(10_000)
        node.core.handle_prevote_response(10_000, 2, 1, Answer(VoteResponse(0, True)))
        node.core.handle_vote_response(10_000, 2, VoteResponse(1, True))
        assert await node._settled()
        assert node.core.role is Role.LEADER
        assert node.core.commit_index < node.core.last_log_index  # the no-op is not committed
        appends, written = storage.appends, storage.entries_written
        leads = [asyncio.create_task(node._lead(f"SET k{i} {i}", 5.0, None)) for i in range(5)]  # type: ignore[arg-type]
        for _ in range(3):
            await asyncio.sleep(0)
        assert (storage.appends - appends, node.flushes) == (0, 0), "deferred while in flight"
        assert await node._settled()  # what a reply or the next tick does
        assert storage.appends - appends == 1
        assert storage.entries_written - written == 5
        await node.stop()
        await asyncio.gather(*leads)

    asyncio.run(run())

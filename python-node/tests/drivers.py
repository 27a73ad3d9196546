"""Fixtures for the tests that drive one `RaftNode` without peers by hand (group commit,
ReadIndex, fsync off the loop)."""

from __future__ import annotations

from pathlib import Path

from raftnode.config import Config
from raftnode.core import HardState, Role
from raftnode.journal import Journal
from raftnode.server import RaftNode
from raftnode.storage import FileStorage


def file_node(data_dir: Path) -> tuple[RaftNode, FileStorage]:
    """A single node (no peers, timeouts 50-60 ms) on FileStorage in `data_dir`, not elected."""
    storage = FileStorage(str(data_dir))
    term, voted_for, entries = storage.load()
    cfg = Config(node_id=1, port=1, election_min_ms=50, election_max_ms=60, heartbeat_ms=10)
    node = RaftNode(cfg, storage, Journal(None, 1), HardState(term, voted_for), entries)
    return node, storage


async def elect_alone(node: RaftNode) -> RaftNode:
    """Elects a node without peers by running its clock far past any election timeout (§5.2),
    each step's writes settled; asserts it leads."""
    for step in range(1, 4):
        node.core.tick(10_000 * step)
        assert await node._settled()
    assert node.core.role is Role.LEADER
    return node

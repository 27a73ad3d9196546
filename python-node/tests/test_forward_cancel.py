"""A forwarded ClientRequest whose call fails in the same loop iteration in which its handler
is cancelled (both deadlines pass together, e.g. when the paused node resumes) leaves no
error unread: asyncio must not log "Task exception was never retrieved", which the harness's
node_errors check rightly counts as a node error."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import grpc

from raft_pb import raft_service_pb2 as pb
from raftnode.config import Config, Peer
from raftnode.core import HardState
from raftnode.journal import Journal
from raftnode.server import RaftNode


class _NoStorage:
    def save_state(self, term: int, voted_for: int) -> None: ...
    def truncate(self, kept: list[Any]) -> None: ...
    def append(self, entries: tuple[Any, ...]) -> None: ...
    def close(self) -> None: ...


class _FailingStub:
    """A stub whose ClientRequest waits for `gate`, then fails with DEADLINE_EXCEEDED."""

    def __init__(self, gate: asyncio.Future[None]) -> None:
        self.gate = gate

    async def ClientRequest(self, *_: Any, **__: Any) -> pb.ClientResponseMessage:  # noqa: N802
        await self.gate
        raise grpc.aio.AioRpcError(
            grpc.StatusCode.DEADLINE_EXCEEDED, grpc.aio.Metadata(), grpc.aio.Metadata()
        )


def test_a_call_failing_as_its_handler_is_cancelled_leaves_no_unread_error() -> None:
    unread: list[str] = []

    async def run() -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _, ctx: unread.append(str(ctx.get("message"))))
        cfg = Config(1, 35300, [Peer(2, "127.0.0.1", 35301)], election_min_ms=50)
        node = RaftNode(cfg, _NoStorage(), Journal(None, 1), HardState(0, -1), [])
        gate: asyncio.Future[None] = loop.create_future()
        node.stubs[2] = _FailingStub(gate)  # type: ignore[assignment]
        handler = asyncio.create_task(node._send_forward("SET a 1", 2, 5.0))
        for _ in range(10):
            await asyncio.sleep(0)  # the handler now waits for the call
        gate.set_result(None)  # the call fails at its next step ...
        handler.cancel()  # ... and the handler is cancelled in the same iteration
        try:
            await handler
        except asyncio.CancelledError:
            pass
        else:
            raise AssertionError("the handler was expected to be cancelled")
        del handler
        for _ in range(10):
            await asyncio.sleep(0)
        gc.collect()
        await node.stop()

    asyncio.run(run())
    gc.collect()
    assert not [m for m in unread if "never retrieved" in m], unread

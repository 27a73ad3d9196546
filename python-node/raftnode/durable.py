"""Making the core's Readies durable off the event loop, one batch at a time (issue 15 §3).

Raft's Figure 2 asks that persistent state be "updated on stable storage before responding to
RPCs": nothing of a Ready (journal lines, messages, applied entries, replies) may happen before
its hard state and log changes are on disk. `Pipeline` keeps that promise without blocking the
asyncio loop on fsync: the write runs on one storage thread while the loop keeps serving RPCs.
Inputs handled meanwhile leave their effects in the core's Ready; when the write is done and
carried out, the pipeline takes that Ready as the next batch — group commit: one log append,
one fsync, one AppendEntries per follower for everything that arrived during the previous
write. One writer at a time, batches carried out in the order they were taken.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from .core import Entry, HardState, LogAppend, LogTruncate, Ready

log = logging.getLogger("raftnode")


class Storage(Protocol):
    """What the pipeline needs of storage.py's MemoryStorage / FileStorage (each call returns
    once the change is durable)."""

    def save_state(self, term: int, voted_for: int) -> None: ...
    def truncate(self, kept: list[Entry]) -> None: ...
    def append(self, entries: tuple[Entry, ...]) -> None: ...


@dataclass(frozen=True)
class Write:
    """What one batch makes durable: the latest hard state, then the log changes collapsed to
    at most one rewrite (`kept`: the log below the lowest truncation point; None: no
    truncation) and one append, so a batch costs one fsync of the log whatever it holds."""

    hard_state: HardState | None
    kept: list[Entry] | None
    appended: tuple[Entry, ...]

    @staticmethod
    def of(ready: Ready, core_log: list[Entry]) -> Write:
        """The write of `ready`, whose log ops turned the durable log into `core_log` (the
        core's log when the Ready was taken)."""
        cuts = [op.from_index for op in ready.log_ops if isinstance(op, LogTruncate)]
        if cuts:
            cut = min(cuts)
            return Write(ready.hard_state, list(core_log[:cut]), tuple(core_log[cut:]))
        appended = tuple(e for op in ready.log_ops if isinstance(op, LogAppend) for e in op.entries)
        return Write(ready.hard_state, None, appended)

    def is_empty(self) -> bool:
        return self.hard_state is None and self.kept is None and not self.appended

    def last_index(self, before: int) -> int:
        """The last durable log index after this write, given `before`."""
        if self.appended:
            return self.appended[-1].index
        return len(self.kept) - 1 if self.kept is not None else before

    def apply_to(self, storage: Storage) -> None:
        """Runs on the storage thread: hard state first, then the log (Ready's order)."""
        if self.hard_state is not None:
            storage.save_state(self.hard_state.term, self.hard_state.voted_for)
        if self.kept is not None:
            storage.truncate(self.kept)
        storage.append(self.appended)


Take = Callable[[], tuple[Ready, Write] | None]


class Pipeline:
    """Carries out Readies in order, each only once its `Write` is durable.

    `take()` takes the core's Ready (None when empty) with its write; `carry_out(ready)` does
    the rest of it on the loop (journal, send, apply, answer); `on_failure(message)` is told
    once when a write or a carry-out fails (fatal: the node stops; later `submit`s raise
    `Failed`). Loop-thread only, except the writes themselves.
    """

    class Failed(Exception):
        """A write failed earlier: nothing more can be made durable."""

    def __init__(
        self,
        storage: Storage,
        take: Take,
        carry_out: Callable[[Ready], None],
        on_failure: Callable[[str], None],
        thread_name: str = "raft-storage",
    ) -> None:
        self._storage = storage
        self._take = take
        self._carry_out = carry_out
        self._on_failure = on_failure
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=thread_name)
        self._writer: asyncio.Task[None] | None = None
        self._next: asyncio.Future[bool] | None = None  # the batch after the one in flight
        self._closing = False
        self.failed: str | None = None
        self.durable_index = -1  # last log index on disk (set by the owner at start)
        self.batches = 0  # writes made, for tests and the bench

    def submit(self) -> asyncio.Future[bool] | None:
        """Carries out the core's pending Ready. None: done already (it had nothing to
        persist). Else a future, True once this input's effects are durable and carried out,
        False when they never will be (a failed write, or the node stopping): answer no RPC
        as a success then. Raises `Failed` after a failed write."""
        if self.failed is not None:
            raise Pipeline.Failed(self.failed)
        loop = asyncio.get_running_loop()
        if self._closing:  # stopping: nothing more is made durable or carried out
            refused: asyncio.Future[bool] = loop.create_future()
            refused.set_result(False)
            return refused
        if self._writer is not None:  # a batch is on its way to disk: join the next one
            if self._next is None:
                self._next = loop.create_future()
            return self._next
        taken = self._take()
        if taken is None:
            return None
        ready, write = taken
        if write.is_empty():
            self._carry_out(ready)
            return None
        done: asyncio.Future[bool] = loop.create_future()
        self._writer = loop.create_task(self._write_batches(ready, write, done))
        return done

    async def _write_batches(self, ready: Ready, write: Write, done: asyncio.Future[bool]) -> None:
        """The one writer: `ready` (already taken), then the Ready of everything that arrived
        while it was written, until a Ready has nothing to persist or the node stops."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                await loop.run_in_executor(self._thread, write.apply_to, self._storage)
                self.batches += 1
                self.durable_index = write.last_index(self.durable_index)
                self._carry_out(ready)
                done.set_result(True)
                nxt, self._next = self._next, None
                taken = None if self._closing else self._take()
                if taken is not None and taken[1].is_empty():
                    self._carry_out(taken[0])
                    taken = None
                if taken is None:
                    if nxt is not None:
                        nxt.set_result(not self._closing)
                    return
                ready, write = taken
                done = nxt if nxt is not None else loop.create_future()
        except Exception as e:  # noqa: BLE001 - any storage or journal failure is fatal
            self.failed = f"cannot persist state: {e}"
            log.error("%s", self.failed)
            for fut in (done, self._next):
                if fut is not None and not fut.done():
                    fut.set_result(False)
            self._next = None
            self._on_failure(self.failed)
        finally:
            self._writer = None

    async def close(self) -> None:
        """Lets the write in flight finish and be carried out, starts no other (inputs still
        waiting hear False), and stops the storage thread."""
        self._closing = True
        if self._writer is not None:
            await asyncio.gather(asyncio.shield(self._writer), return_exceptions=True)
        if self._next is not None and not self._next.done():
            self._next.set_result(False)
        self._next = None
        self._thread.shutdown(wait=False)

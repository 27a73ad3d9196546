"""The leader's view of one follower (Raft §5.3 nextIndex and matchIndex) and the flow control of
its AppendEntries: a port of rust-node/progress.rs (probe and replicate states and a window of
in-flight appends, in the manner of etcd raft's Progress).

- Probe (at leader start, after a rejection, a timeout or a failed send): at most one append
  carrying entries in flight; `next_index` moves only on replies.
- Replicate (after a success that raised matchIndex): appends go out optimistically,
  `next_index` moves past what was sent, up to `max_inflight` appends carrying entries are
  outstanding at once.

Replies may arrive late, duplicated or out of order: matchIndex only grows, nextIndex never
drops below matchIndex + 1, and a rejection of an append the follower has since moved past is
ignored. With `max_inflight = 1` the leader sends one append at a time.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field


class ProgressState(enum.Enum):
    PROBE = "Probe"
    REPLICATE = "Replicate"


@dataclass
class _Inflight:
    """An AppendEntries carrying entries, not yet answered: its last entry's index, when sent."""

    last_index: int
    sent_ms: int


@dataclass
class Progress:
    next_index: int
    match_index: int = -1
    state: ProgressState = ProgressState.PROBE
    last_sent_ms: int | None = None  # last AppendEntries of any kind (heartbeat interval)
    retry_at_ms: int = 0  # after a failed send, entries are retried no earlier than this
    last_reply_ms: int = 0  # last reply of any kind (or becoming leader): check-quorum
    read_acked: int = 0  # highest ReadIndex round acknowledged (a reply of this term)
    _inflight: deque[_Inflight] = field(default_factory=deque)  # oldest first

    def can_send(self, max_inflight: int) -> bool:
        """Whether another append carrying entries may go out: in probe none may be in flight,
        in replicate fewer than `max_inflight` (at least 1)."""
        if self.state is ProgressState.PROBE:
            return not self._inflight
        return len(self._inflight) < max(max_inflight, 1)

    @property
    def inflight_count(self) -> int:
        return len(self._inflight)

    def on_sent(self, last: int, now_ms: int) -> None:
        """An append carrying entries up to `last` left at `now_ms`; in replicate nextIndex
        moves past it."""
        self._inflight.append(_Inflight(last, now_ms))
        if self.state is ProgressState.REPLICATE:
            self.next_index = max(self.next_index, last + 1)

    def oldest_expired(self, now_ms: int, timeout_ms: int) -> bool:
        """Whether the oldest append in flight was sent `timeout_ms` or more before `now_ms`."""
        return bool(self._inflight) and now_ms - self._inflight[0].sent_ms >= timeout_ms

    def become_probe(self) -> None:
        """Back to probe: nothing counts as in flight; from replicate nextIndex returns to
        matchIndex + 1, in probe it stays."""
        if self.state is ProgressState.REPLICATE:
            self.next_index = self.match_index + 1
        self.state = ProgressState.PROBE
        self._inflight.clear()

    def on_success(self, last: int) -> bool:
        """A success for an append whose last entry is `last` (§5.3). matchIndex and nextIndex
        only grow; appends up to `last` are no longer in flight; a probe answered with new
        progress turns into replicate, nextIndex past anything still in flight. Returns
        whether matchIndex grew."""
        while self._inflight and self._inflight[0].last_index <= last:
            self._inflight.popleft()
        if last <= self.match_index:
            return False
        self.match_index = last
        if self.state is ProgressState.PROBE:
            self.state = ProgressState.REPLICATE
            sent_to = self._inflight[-1].last_index if self._inflight else last
            self.next_index = max(self.next_index, sent_to + 1)
        self.next_index = max(self.next_index, last + 1)
        return True

    def on_reject(self, prev_log_index: int, last: int, hinted: int) -> bool:
        """A rejection of the append with `prev_log_index` that carried entries up to `last`
        (`last == prev_log_index` for an empty one); `hinted` is the leader's reading of the
        follower's conflict hint (thesis §5.3). Probe: only a rejection of the append sent from
        the current nextIndex counts. Replicate: one below matchIndex is stale, any other falls
        back to probe. nextIndex = max(min(hinted, prev_log_index), matchIndex + 1). Returns
        whether nextIndex was set (False: stale, ignored)."""
        if last > prev_log_index:
            self._remove(last)
        if self.state is ProgressState.PROBE:
            stale = prev_log_index + 1 != self.next_index
        else:
            stale = prev_log_index < self.match_index
        if stale:
            return False
        if self.state is ProgressState.REPLICATE:
            self.become_probe()
        self.next_index = max(min(hinted, prev_log_index), self.match_index + 1, 0)
        return True

    def on_send_failure(self, last: int) -> None:
        """The driver could not deliver the append that carried entries up to `last`. Entries
        the follower already holds need nothing; otherwise back to probe."""
        if last <= self.match_index:
            return
        if self.state is ProgressState.PROBE:
            self._remove(last)
            return
        self.become_probe()

    def _remove(self, last: int) -> None:
        for f in self._inflight:
            if f.last_index == last:
                self._inflight.remove(f)
                return

"""The event journal (contract section 5): one JSON object per line, flushed before acting.

Every line has ts_us (wall clock, microseconds), node and event, then the event's fields.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any


class JournalError(Exception):
    pass


class Journal:
    def __init__(self, path: str | None, node_id: int) -> None:
        self.node_id = node_id
        self._file = None
        if path is not None:
            try:
                self._file = open(path, "a", encoding="utf-8")
            except OSError as e:
                raise JournalError(f"--journal {path}: cannot open: {e.strerror}") from None

    def write(self, event: str, **fields: Any) -> None:
        self.write_all([{"event": event, **fields}])

    def write_all(self, events: Iterable[dict[str, Any]]) -> None:
        if self._file is None:
            return
        wrote = False
        for ev in events:
            line = {"ts_us": time.time_ns() // 1000, "node": self.node_id, **ev}
            self._file.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
            wrote = True
        if wrote:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

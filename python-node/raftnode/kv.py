"""The replicated state machine: a string key-value store (node contract section 3).

Commands are words separated by single spaces. SET/GET/CAS/DEL count only with exactly the
right number of non-empty words; anything else (including the leader's empty no-op) is an
opaque no-op whose result is absent (None).
"""

from __future__ import annotations


class KvStore:
    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def apply(self, command: str) -> str | None:
        """Apply one committed command and return its result (None = absent)."""
        words = command.split(" ")
        if any(w == "" for w in words):
            return None
        op, args = words[0], words[1:]
        if op == "SET" and len(args) == 2:
            self.data[args[0]] = args[1]
            return "OK"
        if op == "GET" and len(args) == 1:
            return self.data.get(args[0])
        if op == "CAS" and len(args) == 3:
            key, old, new = args
            if self.data.get(key) == old:
                self.data[key] = new
                return "true"
            return "false"
        if op == "DEL" and len(args) == 1:
            self.data.pop(args[0], None)
            return "OK"
        return None

"""Durable Raft state in --data-dir, in the layout shared by the reference nodes (contract 7).

    DIR/state.json  {"term":T,"voted_for":V}; replaced atomically (tmp, fsync, rename, fsync dir)
    DIR/log.jsonl   one {"index":I,"term":T,"command":C} per line; appended and fsynced;
                    a truncation rewrites it atomically like state.json

Every write returns only once it is on disk, so the caller may answer an RPC right after.
"""

from __future__ import annotations

import json
import os
from typing import BinaryIO

from .core import Entry


class StorageError(Exception):
    """The data dir cannot be used; the message names the path and the problem."""


class MemoryStorage:
    """No --data-dir: nothing survives a restart."""

    def load(self) -> tuple[int, int, list[Entry]]:
        return 0, -1, []

    def save_state(self, term: int, voted_for: int) -> None:
        pass

    def truncate(self, kept: list[Entry]) -> None:
        pass

    def append(self, entries: tuple[Entry, ...]) -> None:
        pass

    def close(self) -> None:
        pass


class FileStorage:
    def __init__(self, data_dir: str) -> None:
        self.dir = data_dir
        self.state_path = os.path.join(data_dir, "state.json")
        self.log_path = os.path.join(data_dir, "log.jsonl")
        self._log_file: BinaryIO | None = None
        self._persisted = 0  # number of entries in log.jsonl
        # What was made durable, for the throughput bench (fsyncs per write, issue 15 §3):
        # every fsync of a file or directory, the log appends and the entries they carried.
        self.fsyncs = 0
        self.appends = 0
        self.entries_written = 0
        try:
            os.makedirs(data_dir, exist_ok=True)
        except OSError as e:
            raise StorageError(f"--data-dir {data_dir}: cannot create: {e.strerror}") from None
        if not os.path.isdir(data_dir):
            raise StorageError(f"--data-dir {data_dir}: not a directory")

    # ----- loading -----

    def load(self) -> tuple[int, int, list[Entry]]:
        term, voted_for = 0, -1
        try:
            with open(self.state_path, encoding="utf-8") as f:
                state = json.load(f)
            term, voted_for = int(state["term"]), int(state["voted_for"])
        except FileNotFoundError:
            pass
        except (ValueError, KeyError, TypeError) as e:
            raise StorageError(f"{self.state_path}: corrupt state file: {e}") from None
        except OSError as e:
            raise StorageError(f"{self.state_path}: cannot read: {e.strerror}") from None
        # Rewriting the state proves at start-up, not at the first vote, that DIR is writable.
        self.save_state(term, voted_for)

        entries: list[Entry] = []
        torn = False
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().split(b"\n")
        except FileNotFoundError:
            lines = []
        except OSError as e:
            raise StorageError(f"{self.log_path}: cannot read: {e.strerror}") from None
        # The text after the last newline is empty, or a record torn by a crash mid-append;
        # a torn record was never acknowledged (fsync comes before any reply), so drop it.
        if lines and lines[-1] != b"":
            torn = True
        for lineno, raw in enumerate(lines[:-1], start=1):
            try:
                rec = json.loads(raw)
                index, term_i, command = int(rec["index"]), int(rec["term"]), rec["command"]
                if not isinstance(command, str):
                    raise TypeError("command is not a string")
            except (ValueError, KeyError, TypeError) as e:
                raise StorageError(f"{self.log_path}:{lineno}: corrupt log record: {e}") from None
            if index != len(entries):
                raise StorageError(
                    f"{self.log_path}:{lineno}: expected index {len(entries)}, found {index}"
                )
            entries.append(Entry(index, term_i, command))
        self._persisted = len(entries)
        if torn:
            self._rewrite(entries)
        self._open_log()
        return term, voted_for, entries

    # ----- writing -----

    def save_state(self, term: int, voted_for: int) -> None:
        data = json.dumps({"term": term, "voted_for": voted_for}, separators=(",", ":")).encode()
        self._replace(self.state_path, data)

    def truncate(self, kept: list[Entry]) -> None:
        """Make log.jsonl hold exactly `kept` (a prefix of it), rewritten atomically."""
        self._rewrite(kept)

    def append(self, entries: tuple[Entry, ...]) -> None:
        """Append `entries`, whose indices continue the log on disk, and fsync."""
        if not entries:
            return
        if entries[0].index != self._persisted:
            raise StorageError(
                f"{self.log_path}: append at index {entries[0].index}, log has {self._persisted}"
            )
        assert self._log_file is not None
        self._log_file.write(b"".join(_record(e) for e in entries))
        self._log_file.flush()
        os.fsync(self._log_file.fileno())
        self.fsyncs += 1
        self.appends += 1
        self.entries_written += len(entries)
        self._persisted += len(entries)

    def close(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def _rewrite(self, log: list[Entry]) -> None:
        self.close()
        self._replace(self.log_path, b"".join(_record(e) for e in log))
        self._persisted = len(log)
        self._open_log()

    def _open_log(self) -> None:
        try:
            self._log_file = open(self.log_path, "ab")
        except OSError as e:
            raise StorageError(f"{self.log_path}: cannot open for append: {e.strerror}") from None

    def _replace(self, path: str, data: bytes) -> None:
        tmp = path + ".tmp"
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
            dir_fd = os.open(self.dir, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
                self.fsyncs += 2  # the file and its directory
            finally:
                os.close(dir_fd)
        except OSError as e:
            raise StorageError(f"{path}: cannot write: {e.strerror}") from None


def _record(entry: Entry) -> bytes:
    return (
        json.dumps(
            {"index": entry.index, "term": entry.term, "command": entry.command},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        + "\n"
    ).encode("utf-8")

"""Reads `scenarios/grammar.spec`, the one source of every directive's key lists
(docs/scenarios.md, "Directives"), shared with the Rust and Java runners.

A line is `name required optional entries` (whitespace-separated; keys comma-separated in the
order of docs/scenarios.md, `-` for none; `entries` is `yes` or `no`); the line named `entry`
gives the keys of entry lines. Blank lines and `#` lines are skipped.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

GRAMMAR_PATH = Path(__file__).resolve().parents[3] / "scenarios" / "grammar.spec"

_NAME = re.compile(r"[a-z][a-z-]*")
_KEY = re.compile(r"[a-z][a-z_]*")


class GrammarError(Exception):
    """A malformed grammar file: `path:line: message`."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")


@dataclass(frozen=True)
class Spec:
    """The keys of one directive (or of entry lines), in the grammar's order; `entries`: whether
    entry lines may follow the directive line."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    entries: bool


@dataclass(frozen=True)
class Grammar:
    """Every directive in the grammar's order (the order of did-you-mean tie-breaks), and the
    keys of entry lines."""

    directives: dict[str, Spec]
    entry: Spec

    def spec(self, name: str) -> Spec | None:
        """The spec of directive `name`, or of entry lines when `name == "entry"`."""
        return self.entry if name == "entry" else self.directives.get(name)


@functools.cache
def grammar() -> Grammar:
    """The repository's grammar, parsed once; raises `GrammarError` naming file:line."""
    return parse_grammar(str(GRAMMAR_PATH), GRAMMAR_PATH.read_text(encoding="utf-8"))


def parse_grammar(path: str, text: str) -> Grammar:
    """Parses grammar text read from `path`. Raises `GrammarError` for a line without four
    columns, a bad directive or key name, a key listed twice in a line, an entries column not
    `yes`/`no`, a directive listed twice, `entry` taking entry lines, no `entry` line or no
    directive (named at the last line)."""
    directives: dict[str, Spec] = {}
    entry: Spec | None = None
    last = 1
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the end of the last line, not a line
    for last, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, spec = _parse_line(path, last, line)
        if name in directives or (name == "entry" and entry is not None):
            raise GrammarError(path, last, f"directive `{name}` listed twice")
        if name != "entry":
            directives[name] = spec
        elif spec.entries:
            raise GrammarError(path, last, "`entry` lines take no entry lines")
        else:
            entry = spec
    if entry is None:
        raise GrammarError(path, last, "no `entry` line")
    if not directives:
        raise GrammarError(path, last, "no directive")
    return Grammar(directives, entry)


def _parse_line(path: str, line: int, text: str) -> tuple[str, Spec]:
    """One data line: `name required optional entries`."""
    cols = text.split()
    if len(cols) != 4:
        raise GrammarError(
            path, line, f"expected 4 columns (name required optional entries), got {len(cols)}"
        )
    name, required, optional, entries = cols
    if not _NAME.fullmatch(name):
        raise GrammarError(path, line, f"`{name}`: not a directive name (a-z and -)")
    req, opt = _key_list(path, line, required), _key_list(path, line, optional)
    seen: set[str] = set()
    for key in (*req, *opt):
        if key in seen:
            raise GrammarError(path, line, f"key `{key}` listed twice for `{name}`")
        seen.add(key)
    if entries not in ("yes", "no"):
        raise GrammarError(path, line, f"`{entries}`: expected yes or no (takes entry lines)")
    return name, Spec(req, opt, entries == "yes")


def _key_list(path: str, line: int, col: str) -> tuple[str, ...]:
    """`a,b,c` (or `-` for none); every key is `[a-z][a-z_]*`."""
    if col == "-":
        return ()
    keys = tuple(col.split(","))
    for key in keys:
        if not _KEY.fullmatch(key):
            raise GrammarError(path, line, f"`{key}`: not a key name (a-z and _)")
    return keys

"""Reads `scenarios/*.txt` (docs/scenarios.md, "Lexical rules" and "Directives") into cases.

A case is a directive (name, fields, entry lines) with its expected output lines. Every error is
a `ScenarioError` naming the file, the line and the offending value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from raftnode.core import NONE, Entry
from tests.scenario.grammar import grammar


class ScenarioError(Exception):
    """Bad scenario text: `path:line: message`."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")


@dataclass
class Case:
    """One directive: `line` is its 1-based line number; `expected` the lines after `----`."""

    line: int
    name: str
    fields: dict[str, str]
    entries: list[Entry] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)


def _is_comment(text: str) -> bool:
    return text.lstrip().startswith("#")


def tokenize(path: str, line: int, text: str) -> tuple[str, dict[str, str]]:
    """Splits `name key=value ...` on spaces outside double quotes; a repeated key, a token
    without `=`, an unterminated quote or a backslash is an error."""
    if "\\" in text:
        raise ScenarioError(path, line, "`\\` is not allowed (commands have no escapes)")
    tokens: list[str] = []
    cur, quoted = "", False
    for c in text:
        if c == '"':
            quoted = not quoted
            cur += c
        elif c == " " and not quoted:
            if cur:
                tokens.append(cur)
            cur = ""
        else:
            cur += c
    if quoted:
        raise ScenarioError(path, line, f"unterminated quote in {text!r}")
    if cur:
        tokens.append(cur)
    if not tokens:
        raise ScenarioError(path, line, "empty directive")
    name, fields = tokens[0], {}
    for tok in tokens[1:]:
        key, eq, value = tok.partition("=")
        if not eq or not key:
            raise ScenarioError(path, line, f"`{tok}`: expected key=value")
        if key in fields:
            raise ScenarioError(path, line, f"key `{key}` given twice")
        fields[key] = value
    return name, fields


def check_keys(path: str, line: int, name: str, fields: dict[str, str]) -> None:
    """Rejects, first found first, an unknown directive, an unknown key (in the order written) or
    a missing required key, worded as the Rust and Java runners word them:
    ``unknown directive `tikc` (did you mean `tick`?)``,
    ``unknown key `nwo` for `tick` (did you mean `now`?)``, ``missing key `now` for `tick```.
    The key lists, and their order (which missing key is named first, which suggestion wins a
    tie), come from scenarios/grammar.spec; a malformed grammar raises `GrammarError`."""
    spec = grammar().spec(name)
    if spec is None:
        names = grammar().directives
        raise ScenarioError(path, line, f"unknown directive `{name}`{did_you_mean(name, names)}")
    required, optional = spec.required, spec.optional
    for key in fields:
        if key not in required and key not in optional:
            unused = [k for k in (*required, *optional) if k not in fields]
            raise ScenarioError(
                path, line, f"unknown key `{key}` for `{name}`{did_you_mean(key, unused)}"
            )
    for key in required:
        if key not in fields:
            raise ScenarioError(path, line, missing_key(key, name))


def missing_key(key: str, name: str) -> str:
    return f"missing key `{key}` for `{name}`"


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean `x`?)`` for the first candidate nearest to `word` if it is at most two
    edits away, else empty."""
    best: tuple[int, str] | None = None
    for cand in candidates:
        d = edit_distance(word, cand)
        if d <= 2 and (best is None or d < best[0]):
            best = (d, cand)
    return "" if best is None else f" (did you mean `{best[1]}`?)"


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between `a` and `b` (characters)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a):
        prev, row[0] = row[0], i + 1
        for j, cb in enumerate(b):
            cur = row[j + 1]
            row[j + 1] = min(prev + (ca != cb), row[j] + 1, cur + 1)
            prev = cur
    return row[len(b)]


class Fields:
    """Typed access to one directive's fields; `finish()` rejects any field not taken."""

    def __init__(self, path: str, line: int, fields: dict[str, str], name: str = "") -> None:
        self.path, self.line, self._f, self.name = path, line, dict(fields), name

    def _err(self, message: str) -> ScenarioError:
        return ScenarioError(self.path, self.line, message)

    def has(self, key: str) -> bool:
        return key in self._f

    def text(self, key: str) -> str:
        if key not in self._f:
            raise self._err(missing_key(key, self.name))
        return self._f.pop(key)

    def integer(self, key: str) -> int:
        value = self.text(key)
        try:
            return int(value, 10)
        except ValueError:
            raise self._err(f"`{key}={value}`: not an integer") from None

    def ms(self, key: str) -> int:
        value = self.integer(key)
        if value < 0:
            raise self._err(f"`{key}={value}`: milliseconds must be >= 0")
        return value

    def boolean(self, key: str) -> bool:
        value = self.text(key)
        if value not in ("true", "false"):
            raise self._err(f"`{key}={value}`: expected true or false")
        return value == "true"

    def node(self, key: str) -> int:
        if self._f.get(key) == "none":
            self._f.pop(key)
            return NONE
        return self.integer(key)

    def opt_int(self, key: str) -> int | None:
        if key not in self._f or self._f[key] == "none":
            self._f.pop(key, None)
            return None
        return self.integer(key)

    def command(self, key: str) -> str:
        value = self.text(key)
        if len(value) < 2 or value[0] != '"' or value[-1] != '"' or '"' in value[1:-1]:
            raise self._err(f"`{key}={value}`: expected a double-quoted command")
        return value[1:-1]

    def peers(self, key: str) -> tuple[int, ...]:
        value = self.text(key)
        if value == "":
            return ()
        try:
            return tuple(int(p, 10) for p in value.split(","))
        except ValueError:
            raise self._err(f"`{key}={value}`: expected comma-separated node ids") from None

    def range(self, key: str) -> tuple[int, int]:
        value = self.text(key)
        lo, sep, hi = value.partition("..")
        try:
            a, b = int(lo, 10), int(hi, 10)
        except ValueError:
            a, b = -1, -1
        if not sep or a < 0 or a > b:
            raise self._err(f"`{key}={value}`: expected MIN..MAX with 0 <= MIN <= MAX")
        return a, b

    def finish(self) -> None:
        if self._f:
            raise self._err(f"unknown key `{next(iter(self._f))}` for `{self.name}`")


def parse_entry(path: str, line: int, text: str) -> Entry:
    name, fields = tokenize(path, line, text.strip())
    if name != "entry":
        raise ScenarioError(path, line, f"`{name}`: expected an entry line or `----`")
    check_keys(path, line, name, fields)
    f = Fields(path, line, fields, name)
    entry = Entry(f.integer("index"), f.integer("term"), f.command("command"))
    f.finish()
    return entry


def _takes_entries(name: str) -> bool:
    spec = grammar().spec(name)
    return spec is not None and spec.entries


def _read_case(path: str, lines: list[str], i: int) -> tuple[Case, int]:
    """The case whose directive is at lines[i]; returns it and the index after it."""
    start = i + 1
    name, fields = tokenize(path, start, lines[i])
    check_keys(path, start, name, fields)
    case = Case(start, name, fields)
    i += 1
    while i < len(lines) and lines[i] != "----":
        if not lines[i].strip():
            break  # a blank line ends the case: its `----` is missing
        if not _is_comment(lines[i]):
            if not _takes_entries(name):
                raise ScenarioError(path, i + 1, f"`{name}` takes no entry lines")
            case.entries.append(parse_entry(path, i + 1, lines[i]))
        i += 1
    if i >= len(lines) or lines[i] != "----":
        raise ScenarioError(path, start, f"`{name}`: missing `----`")
    i += 1
    while i < len(lines) and lines[i] != "":
        case.expected.append(lines[i])
        i += 1
    return case, i


def parse_text(path: str, text: str) -> list[Case]:
    """All cases of one file, in order; the first must be `init`."""
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]
    cases: list[Case] = []
    last_now: int | None = None
    i = 0
    while i < len(lines):
        if not lines[i].strip() or _is_comment(lines[i]):
            i += 1
            continue
        case, i = _read_case(path, lines, i)
        if not cases and case.name != "init":
            raise ScenarioError(path, case.line, f"`{case.name}`: the first case must be `init`")
        last_now = _check_clock(path, case, last_now)
        cases.append(case)
    if not cases:
        raise ScenarioError(path, 1, "no cases")
    return cases


def _check_clock(path: str, case: Case, last_now: int | None) -> int | None:
    """Time never goes backwards within a file (docs/scenarios.md): returns the latest `now`."""
    text = case.fields.get("now")
    if text is None or not text.lstrip("-").isdigit():
        return last_now  # no time here (or a bad value, reported when the case runs)
    now = int(text)
    if last_now is not None and now < last_now:
        raise ScenarioError(
            path, case.line, f"`now={now}` is earlier than the previous directive's now={last_now}"
        )
    return now


def parse_file(path: Path) -> list[Case]:
    return parse_text(str(path), path.read_text(encoding="utf-8"))

"""durable.Write: one batch's log ops collapsed to at most one rewrite and one append, whose
result on disk is the core's log (issue 15 §3)."""

from __future__ import annotations

from pathlib import Path

from raftnode.core import Entry, HardState, LogAppend, LogTruncate, Ready
from raftnode.durable import Write
from raftnode.storage import FileStorage


def _entries(first: int, last: int, term: int) -> tuple[Entry, ...]:
    return tuple(Entry(i, term, f"SET k {i}.{term}") for i in range(first, last + 1))


def test_appends_only_become_one_append_in_order() -> None:
    ready = Ready(log_ops=[LogAppend(_entries(3, 4, 1)), LogAppend(_entries(5, 7, 1))])
    w = Write.of(ready, [*_entries(0, 7, 1)])
    assert w == Write(None, None, _entries(3, 7, 1))
    assert w.last_index(2) == 7
    assert Write.of(Ready(hard_state=HardState(2, 1)), []).last_index(4) == 4


def test_truncations_collapse_to_one_rewrite_below_the_lowest_cut(tmp_path: Path) -> None:
    """Entries 5..7 appended, cut at 7 and 7' appended, then cut at 6 by a later leader: the
    disk must end as the core's log, never with term-1 entries after term-3 ones."""
    storage = FileStorage(str(tmp_path))
    storage.load()
    storage.append(_entries(0, 4, 1))
    final = [*_entries(0, 5, 1), *_entries(6, 8, 3)]
    ready = Ready(
        hard_state=HardState(3, 2),
        log_ops=[
            LogAppend(_entries(5, 7, 1)),
            LogTruncate(7),
            LogAppend(_entries(7, 7, 2)),
            LogTruncate(6),
            LogAppend(_entries(6, 8, 3)),
        ],
    )
    w = Write.of(ready, final)
    assert w.kept == final[:6] and w.appended == tuple(final[6:])
    assert w.last_index(4) == 8
    w.apply_to(storage)
    storage.close()
    term, voted_for, log = FileStorage(str(tmp_path)).load()
    assert (term, voted_for, log) == (3, 2, final)


def test_a_truncation_to_the_end_of_the_log_appends_nothing() -> None:
    final = [*_entries(0, 2, 1)]
    w = Write.of(Ready(log_ops=[LogTruncate(3)]), final)
    assert w.kept == final and w.appended == () and not w.is_empty()
    assert w.last_index(9) == 2
    assert Write.of(Ready(), final).is_empty()

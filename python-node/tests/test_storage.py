"""Persistence in the shared data-dir layout (node contract section 7)."""

import json

import pytest

from raftnode.core import AppendRequest, Config, Entry, HardState, LogAppend, LogTruncate, RaftCore
from raftnode.kv import KvStore
from raftnode.storage import FileStorage, StorageError


def entries(*pairs, start=0):
    return [Entry(start + i, t, c) for i, (t, c) in enumerate(pairs)]


def test_fresh_dir_is_created_with_an_initial_state(tmp_path):
    d = tmp_path / "a" / "b"
    st = FileStorage(str(d))
    assert st.load() == (0, -1, [])
    assert json.loads((d / "state.json").read_text()) == {"term": 0, "voted_for": -1}
    st.close()


def test_round_trip_of_term_vote_and_log(tmp_path):
    st = FileStorage(str(tmp_path))
    st.load()
    st.save_state(7, 3)
    log = entries((1, ""), (1, "SET a 1"), (2, "héllo wörld"))
    st.append(tuple(log))
    st.close()
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert lines[1] == {"index": 1, "term": 1, "command": "SET a 1"}
    assert json.loads((tmp_path / "state.json").read_text()) == {"term": 7, "voted_for": 3}
    assert not (tmp_path / "state.json.tmp").exists()

    st2 = FileStorage(str(tmp_path))
    assert st2.load() == (7, 3, log)
    st2.close()


def test_appends_then_truncation_rewrite(tmp_path):
    st = FileStorage(str(tmp_path))
    st.load()
    log = entries((1, "a"), (1, "b"), (1, "c"))
    st.append(tuple(log))
    st.append((Entry(3, 1, "d"),))  # append only the new entry
    st.truncate(log[:2])  # truncation: rewrite
    st.append(tuple(entries((2, "x"), (2, "y"), start=2)))
    with pytest.raises(StorageError, match="append at index 5, log has 4"):
        st.append((Entry(5, 2, "gap"),))
    st.close()
    st2 = FileStorage(str(tmp_path))
    assert st2.load()[2] == entries((1, "a"), (1, "b"), (2, "x"), (2, "y"))
    st2.close()


def test_a_torn_last_record_is_dropped(tmp_path):
    st = FileStorage(str(tmp_path))
    st.load()
    st.append(tuple(entries((1, "a"), (1, "b"))))
    st.close()
    with open(tmp_path / "log.jsonl", "ab") as f:
        f.write(b'{"index":2,"term":1,"comm')  # crash mid-append
    st2 = FileStorage(str(tmp_path))
    log = st2.load()[2]
    assert log == entries((1, "a"), (1, "b"))
    st2.append((Entry(2, 1, "c"),))
    st2.close()
    st3 = FileStorage(str(tmp_path))
    assert st3.load()[2] == entries((1, "a"), (1, "b"), (1, "c"))
    st3.close()


def test_a_corrupt_record_in_the_middle_is_an_error(tmp_path):
    (tmp_path / "log.jsonl").write_text('{"index":0,"term":1,"command":"a"}\nnot json\n')
    with pytest.raises(StorageError, match=r"log.jsonl:2: corrupt log record"):
        FileStorage(str(tmp_path)).load()


def test_a_gap_in_indices_is_an_error(tmp_path):
    (tmp_path / "log.jsonl").write_text('{"index":1,"term":1,"command":"a"}\n')
    with pytest.raises(StorageError, match="expected index 0, found 1"):
        FileStorage(str(tmp_path)).load()


def test_a_data_dir_below_a_file_is_an_error(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(StorageError, match="cannot create"):
        FileStorage(str(f / "sub"))


def test_a_core_recovers_its_persisted_state(tmp_path):
    """What a follower acknowledged survives a restart (the driver persists before replying)."""
    cfg = Config(2, (1, 3))
    st = FileStorage(str(tmp_path))
    term, voted, log = st.load()
    core = RaftCore(cfg, HardState(term, voted), log, 0)
    noop, cmd = Entry(0, 3, ""), Entry(1, 3, "SET a 1")
    core.handle_append_request(0, AppendRequest(3, 1, -1, 0, (noop, cmd), 1))
    ready = core.take_ready()
    assert ready.hard_state is not None
    st.save_state(ready.hard_state.term, ready.hard_state.voted_for)
    for op in ready.log_ops:
        if isinstance(op, LogTruncate):
            st.truncate(core.log[: op.from_index])
        else:
            assert isinstance(op, LogAppend)
            st.append(op.entries)
    st.close()

    st2 = FileStorage(str(tmp_path))
    term, voted, log = st2.load()
    again = RaftCore(cfg, HardState(term, voted), log, 0)
    assert (again.term, again.voted_for, again.log) == (3, -1, core.log)
    # Commit index and state machine are rebuilt as the commit index is learned again.
    assert again.commit_index == -1
    again.handle_append_request(0, AppendRequest(3, 1, 1, 3, (), 1))
    kv = KvStore()
    for e in again.take_ready().committed:
        kv.apply(e.command)
    assert kv.data == {"a": "1"}
    st2.close()

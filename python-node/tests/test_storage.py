"""Persistence in the shared data-dir layout (node contract section 7)."""

import json

import pytest

from raftnode.core import AppendRequest, Entry, RaftCore
from raftnode.storage import FileStorage, StorageError


def entries(*pairs):
    return [Entry(t, c) for t, c in pairs]


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
    st.sync_log(log, 0)
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
    st.sync_log(log, 0)
    log.append(Entry(1, "d"))
    st.sync_log(log, 3)  # append only the new entry
    log[2:] = entries((2, "x"))
    st.sync_log(log, 2)  # truncation: rewrite
    log.append(Entry(2, "y"))
    st.sync_log(log, 3)
    st.close()
    st2 = FileStorage(str(tmp_path))
    assert st2.load()[2] == entries((1, "a"), (1, "b"), (2, "x"), (2, "y"))
    st2.close()


def test_a_torn_last_record_is_dropped(tmp_path):
    st = FileStorage(str(tmp_path))
    st.load()
    st.sync_log(entries((1, "a"), (1, "b")), 0)
    st.close()
    with open(tmp_path / "log.jsonl", "ab") as f:
        f.write(b'{"index":2,"term":1,"comm')  # crash mid-append
    st2 = FileStorage(str(tmp_path))
    log = st2.load()[2]
    assert log == entries((1, "a"), (1, "b"))
    log.append(Entry(1, "c"))
    st2.sync_log(log, 2)
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
    st = FileStorage(str(tmp_path))
    term, voted, log = st.load()
    core = RaftCore(2, [1, 3], term, voted, log)
    core.on_append_request(AppendRequest(3, 1, -1, 0, (Entry(3, ""), Entry(3, "SET a 1")), 1))
    out = core.take_output()
    st.save_state(core.current_term, core.voted_for)
    st.sync_log(core.log, out.log_dirty_from)
    st.close()

    st2 = FileStorage(str(tmp_path))
    term, voted, log = st2.load()
    again = RaftCore(2, [1, 3], term, voted, log)
    assert (again.current_term, again.voted_for, again.log) == (3, -1, core.log)
    # Commit index and state machine are rebuilt as the commit index is learned again.
    assert again.commit_index == -1 and again.kv.data == {}
    again.on_append_request(AppendRequest(3, 1, 1, 3, (), 1))
    assert again.kv.data == {"a": "1"}
    st2.close()

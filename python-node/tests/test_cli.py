"""The node process with bad input, and a clean stop (node contract section 1)."""

from __future__ import annotations

import signal
import socket

import pytest

from tests.procs import PYTHON, SERVER, TIMING, Node, run, wait_for


def assert_one_error_line(proc, code: int, *fragments: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["--nope"], "unrecognized arguments: --nope"),
        (["1=localhost"], "peer '1=localhost'"),
        (["--election-timeout-ms", "600-300"], "--election-timeout-ms '600-300'"),
        (["--heartbeat-ms", "x"], "--heartbeat-ms 'x'"),
    ],
)
def test_usage_errors_exit_2_with_one_line(ports, args, fragment):
    proc = run([PYTHON, str(SERVER), "2", str(ports[0]), *args])
    assert_one_error_line(proc, 2, fragment)


def test_missing_positionals_exit_2(ports):
    assert_one_error_line(run([PYTHON, str(SERVER)]), 2, "missing <id> and <port>")


def test_port_in_use_exits_1_with_one_line(ports):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", ports[0]))
        blocker.listen()
        proc = run([PYTHON, str(SERVER), "1", str(ports[0])])
    assert_one_error_line(proc, 1, f"<port> {ports[0]}", "in use")


def test_unusable_data_dir_exits_1_with_one_line(ports, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    proc = run([PYTHON, str(SERVER), "1", str(ports[0]), "--data-dir", str(blocker / "data")])
    assert_one_error_line(proc, 1, "--data-dir", "cannot create")


def test_unopenable_journal_exits_1_with_one_line(ports, tmp_path):
    proc = run([PYTHON, str(SERVER), "1", str(ports[0]), "--journal", str(tmp_path)])
    assert_one_error_line(proc, 1, "--journal", "cannot open")


def test_sigterm_journals_stop_and_exits_0(ports, nodes, tmp_path):
    journal = tmp_path / "j.jsonl"
    node = Node(
        1, ports[0], ["1", str(ports[0]), "--journal", str(journal), *TIMING], tmp_path / "err.log"
    )
    nodes.nodes.append(node)
    node.start()
    node.wait_up()
    wait_for("the lone node to lead", lambda: node.status().state == "Leader")
    node.signal(signal.SIGTERM)
    assert node.proc is not None and node.proc.wait(timeout=15) == 0
    assert "state is in memory only" in node.stderr()
    assert "Traceback" not in node.stderr()
    import json

    events = [json.loads(line) for line in journal.read_text().splitlines()]
    assert events[0]["event"] == "start"
    assert events[0]["implementation"] == "python-node 0.1.0"
    assert (events[0]["term"], events[0]["voted_for"], events[0]["log_len"]) == (0, -1, 0)
    assert events[1] == {**events[1], "event": "role", "role": "Follower", "term": 0}
    assert events[-1]["event"] == "stop"
    assert all(e["node"] == 1 and isinstance(e["ts_us"], int) for e in events)


def test_sigint_also_stops_cleanly(ports, nodes, tmp_path):
    node = Node(1, ports[0], ["1", str(ports[0]), *TIMING], tmp_path / "err.log")
    nodes.nodes.append(node)
    node.start()
    node.wait_up()
    node.signal(signal.SIGINT)
    assert node.proc is not None and node.proc.wait(timeout=15) == 0
    assert "Traceback" not in node.stderr()

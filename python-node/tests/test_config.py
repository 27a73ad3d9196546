"""Command-line parsing (node contract section 1), in process."""

import pytest

from raftnode.config import Peer, UsageError, parse_args


def test_positionals_and_options_in_any_order():
    cfg = parse_args(
        [
            "--data-dir",
            "/tmp/d",
            "3",
            "5003",
            "1=127.0.0.1:5001",
            "localhost:5002",
            "--journal=/tmp/j",
            "--election-timeout-ms",
            "300-600",
            "--heartbeat-ms",
            "40",
            "--host",
            "0.0.0.0",
        ]
    )
    assert (cfg.node_id, cfg.port, cfg.host) == (3, 5003, "0.0.0.0")
    assert cfg.peers == [Peer(1, "127.0.0.1", 5001), Peer(2, "localhost", 5002)]
    assert (cfg.data_dir, cfg.journal) == ("/tmp/d", "/tmp/j")
    assert (cfg.election_min_ms, cfg.election_max_ms, cfg.heartbeat_ms) == (300, 600, 40)


def test_defaults():
    cfg = parse_args(["1", "5001"])
    assert cfg.peers == [] and cfg.host == "127.0.0.1" and cfg.data_dir is None
    assert (cfg.election_min_ms, cfg.election_max_ms, cfg.heartbeat_ms) == (150, 300, 50)
    assert cfg.max_inflight_appends == 1


def test_max_inflight_appends():
    assert parse_args(["1", "5001", "--max-inflight-appends", "4"]).max_inflight_appends == 4


@pytest.mark.parametrize(
    "argv,message",
    [
        ([], "missing <id> and <port>"),
        (["1"], "missing <port>"),
        (["x", "5001"], "<id> 'x': not an integer"),
        (["0", "5001"], "<id> '0': must be >= 1"),
        (["1", "70000"], "<port> '70000': must be between 1 and 65535"),
        (["1", "5001", "--verbose"], "unrecognized arguments: --verbose"),
        (["1", "5001", "-v"], "unrecognized arguments: -v"),
        (["1", "5001", "--data-dir"], "argument --data-dir: expected one argument"),
        (["1", "5001", "localhost"], "peer 'localhost': expected ID=HOST:PORT or HOST:PORT"),
        (["1", "5001", "h:abc"], "peer 'h:abc': port 'abc': not an integer"),
        (["1", "5001", "x=h:5002"], "peer 'x=h:5002': id 'x': not an integer"),
        (["1", "5001", "h:4000"], "id -1000 must be >= 1"),
        (["1", "5001", "1=h:5002"], "has this node's own id 1"),
        (["1", "5001", "h:5002", "2=h:6000"], "id 2 given twice"),
        (["1", "5001", "--election-timeout-ms", "300"], "expected MIN-MAX"),
        (["1", "5001", "--election-timeout-ms", "300-300"], "MIN must be < MAX"),
        (["1", "5001", "--election-timeout-ms", "0-300"], "MIN must be >= 1"),
        (["1", "5001", "--election-timeout-ms", "a-300"], "MIN 'a': not an integer"),
        (
            ["1", "5001", "--heartbeat-ms", "150"],
            "must be less than the minimum election timeout 150",
        ),
        (["1", "5001", "--heartbeat-ms", "fast"], "--heartbeat-ms 'fast': not an integer"),
        (["1", "5001", "--host", "a", "--host", "b"], "option --host: given twice"),
        (["1", "5001", "--hea", "40"], "unrecognized arguments: --hea 40"),
        (["1", "5001", "--data-dir="], "option --data-dir: empty value"),
        (["1", "5001", "--host", "a b"], "option --host 'a b': bad host"),
        (
            ["1", "5001", "--max-inflight-appends", "0"],
            "--max-inflight-appends '0': must be 1..1024",
        ),
        (
            ["1", "5001", "--max-inflight-appends", "x"],
            "--max-inflight-appends 'x': not an integer",
        ),
    ],
)
def test_bad_input_names_the_argument(argv, message):
    with pytest.raises(UsageError) as info:
        parse_args(argv)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_peers_may_follow_options():
    cfg = parse_args(["1", "5001", "--heartbeat-ms", "40", "2=h:5002", "h:5003"])
    assert cfg.peers == [Peer(2, "h", 5002), Peer(3, "h", 5003)] and cfg.heartbeat_ms == 40

"""raft_client.py against real nodes."""

from __future__ import annotations

from concurrent import futures

import grpc

from raft_pb import raft_service_pb2 as pb
from raft_pb import raft_service_pb2_grpc as pb_grpc
from tests.procs import CLIENT, PYTHON, leader_of, run, wait_for


def client(*args: str, stdin: str | None = None):
    return run([PYTHON, str(CLIENT), *args], stdin=stdin)


def one_node(ports, nodes):
    [node] = nodes.cluster([ports[0]], size=1)
    wait_for("the lone node to lead", lambda: node.status().state == "Leader")
    return node


def test_one_shot_commands_and_exit_codes(ports, nodes):
    node = one_node(ports, nodes)
    p = client("--node", node.address, "SET", "a", "1")
    assert (p.returncode, p.stdout) == (0, "APPLIED OK\n"), p.stderr
    p = client("--node", node.address, "GET", "a")
    assert (p.returncode, p.stdout) == (0, "APPLIED 1\n")
    p = client("--node", node.address, "GET", "missing")
    assert (p.returncode, p.stdout) == (0, "APPLIED (absent)\n")
    p = client("--node", node.address, "CAS", "a", "7", "8")
    assert (p.returncode, p.stdout) == (0, "APPLIED false\n")


def test_interactive_mode_reads_stdin(ports, nodes):
    node = one_node(ports, nodes)
    p = client("--node", node.address, stdin="SET b 2\n\nGET   b\nDEL b\nGET b\n")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["APPLIED OK", "APPLIED 2", "APPLIED OK", "APPLIED (absent)"]


def test_cluster_list_skips_dead_nodes_and_reaches_the_leader_via_a_follower(ports, nodes):
    cluster = nodes.cluster(ports, size=3)
    leader = leader_of(cluster)
    follower = next(n for n in cluster if n is not leader)
    dead = f"127.0.0.1:{ports[9]}"
    p = client("--cluster", f"{dead},{follower.address}", "SET", "k", "v")
    assert (p.returncode, p.stdout) == (0, "APPLIED OK\n"), p.stderr
    p = client("--cluster", f"{follower.address},{leader.address}", "GET", "k")
    assert (p.returncode, p.stdout) == (0, "APPLIED v\n")


def test_no_reachable_node_is_a_failure(ports):
    p = client("--node", f"127.0.0.1:{ports[0]}", "--timeout", "2", "GET", "a")
    assert p.returncode == 1
    assert p.stdout.startswith("REJECTED ") and "unreachable" in p.stdout
    assert "Traceback" not in p.stderr


def test_client_usage_error_is_one_line(ports):
    p = client("--node", "nohostport", "GET", "a")
    assert p.returncode == 2
    assert p.stderr.splitlines() == ["error: option --node 'nohostport': expected HOST:PORT"]
    p = client("--bogus")
    assert p.returncode == 2 and p.stderr == "error: unrecognized arguments: --bogus\n"


class _Redirector(pb_grpc.RaftServiceServicer):
    """A node that is never leader but knows who is, like a node that does not forward."""

    def __init__(self, leader_address: str) -> None:
        self.leader_address = leader_address
        self.calls = 0

    def ClientRequest(self, request, context):
        self.calls += 1
        return pb.ClientResponseMessage(
            success=False,
            message="not the leader",
            leader_id=1,
            leader_address=self.leader_address,
            outcome=pb.REJECTED,
        )


def test_client_follows_the_leader_hint(ports, nodes):
    node = one_node(ports, nodes)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    redirector = _Redirector(node.address)
    pb_grpc.add_RaftServiceServicer_to_server(redirector, server)
    server.add_insecure_port(f"127.0.0.1:{ports[5]}")
    server.start()
    try:
        p = client("--node", f"127.0.0.1:{ports[5]}", "SET", "h", "1")
    finally:
        server.stop(0)
    assert (p.returncode, p.stdout) == (0, "APPLIED OK\n"), p.stderr
    assert redirector.calls == 1
    assert node.request("GET h").result == "1"

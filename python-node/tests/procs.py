"""Node processes for tests: each in its own process group, always killed at teardown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc

from raft_pb import raft_service_pb2 as pb
from raft_pb import raft_service_pb2_grpc as pb_grpc

NODE_DIR = Path(__file__).resolve().parent.parent
SERVER = NODE_DIR / "raft_server.py"
CLIENT = NODE_DIR / "raft_client.py"
PYTHON = sys.executable
WAIT_S = 15.0
TIMING = ["--election-timeout-ms", "300-600", "--heartbeat-ms", "50"]


def wait_for(what: str, check: Callable[[], Any], timeout: float = WAIT_S) -> Any:
    """Polls check() until it returns something truthy; fails the test after `timeout`."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except grpc.RpcError as e:
            last_error = e
        time.sleep(0.05)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what} (last error: {last_error})"
    )


class Node:
    def __init__(self, node_id: int, port: int, args: list[str], stderr_path: Path) -> None:
        self.id = node_id
        self.port = port
        self.address = f"127.0.0.1:{port}"
        self.args = args
        self.stderr_path = stderr_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.channel = grpc.insecure_channel(self.address, options=[("grpc.enable_http_proxy", 0)])
        self.stub = pb_grpc.RaftServiceStub(self.channel)

    def start(self) -> None:
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(
                [PYTHON, str(SERVER), *self.args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,  # own process group: killpg at teardown
            )

    def status(self, timeout: float = 1.0) -> Any:
        return self.stub.GetStatus(pb.GetStatusRequest(), timeout=timeout)

    def request(self, command: str, timeout: float = 5.0, metadata: Any = None) -> Any:
        return self.stub.ClientRequest(
            pb.ClientRequestMessage(command=command), timeout=timeout, metadata=metadata
        )

    def log(self) -> list[tuple[int, str]]:
        return [
            (e.term, e.command) for e in self.stub.GetLog(pb.GetLogRequest(), timeout=2).entries
        ]

    def wait_up(self) -> None:
        wait_for(f"node {self.id} to answer GetStatus", lambda: self.status() is not None)

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        """SIGKILL the whole process group and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")


class NodeSet:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.nodes: list[Node] = []

    def cluster(self, ports: list[int], size: int = 3) -> list[Node]:
        """Starts `size` nodes with data dirs and journals under tmp; waits until all answer."""
        members = [(i + 1, ports[i]) for i in range(size)]
        started = []
        for node_id, port in members:
            peers = [f"{pid}=127.0.0.1:{pport}" for pid, pport in members if pid != node_id]
            args = [
                str(node_id),
                str(port),
                *peers,
                "--data-dir",
                str(self.tmp / f"data{node_id}"),
                "--journal",
                str(self.tmp / f"journal{node_id}.jsonl"),
                *TIMING,
            ]
            node = Node(node_id, port, args, self.tmp / f"stderr{node_id}.log")
            self.nodes.append(node)
            node.start()
            started.append(node)
        for node in started:
            node.wait_up()
        return started

    def journal(self, node_id: int) -> list[dict[str, Any]]:
        path = self.tmp / f"journal{node_id}.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()]

    def kill_all(self) -> None:
        for node in self.nodes:
            node.kill()
            node.channel.close()


def leader_of(nodes: list[Node]) -> Node:
    """Waits until exactly one live node says it is leader of the highest term, and returns it."""

    def check() -> Node | None:
        statuses = []
        for n in nodes:
            if n.proc is None or n.proc.poll() is not None:
                continue
            try:
                statuses.append((n, n.status(timeout=0.5)))
            except grpc.RpcError:
                continue
        leaders = [(n, s) for n, s in statuses if s.state == "Leader"]
        if len(leaders) != 1:
            return None
        node, st = leaders[0]
        if any(s.current_term > st.current_term for _, s in statuses):
            return None
        return node

    leader: Node = wait_for("a single leader", check)
    return leader


def run(
    argv: list[str], timeout: float = 30.0, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs a short-lived command (server with bad input, client) with a hard timeout."""
    return subprocess.run(
        argv,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        start_new_session=True,
    )

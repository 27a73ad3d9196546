#!/usr/bin/env python3
"""How fast a restarted follower rejoins: from spawning it again to it having the leader's commit.

    python-node/.venv/bin/python python-node/bench_rejoin.py [RUNS] [DOWN_SECONDS]

Runs a 3-node cluster on ports 22980-22982; each run SIGKILLs a follower, commits a write
while it is down, waits DOWN_SECONDS (default 3, so the leader's reconnect backoff has grown to
its cap), restarts it and measures until GetStatus shows the write applied there.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import grpc  # noqa: E402

from raft_pb import raft_service_pb2 as pb  # noqa: E402
from raft_pb import raft_service_pb2_grpc as pb_grpc  # noqa: E402

T = TypeVar("T")

PORTS = {1: 22980, 2: 22981, 3: 22982}


def poll(check: Callable[[], T | None], timeout: float = 20.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except grpc.RpcError:
            pass
        time.sleep(0.005)
    raise SystemExit("error: timed out")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    down = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    tmp = tempfile.mkdtemp(prefix="rejoin-")
    procs: dict[int, subprocess.Popen[bytes]] = {}
    stubs = {
        i: pb_grpc.RaftServiceStub(
            grpc.insecure_channel(f"127.0.0.1:{p}", options=[("grpc.enable_http_proxy", 0)])
        )
        for i, p in PORTS.items()
    }

    def start(i: int) -> None:
        peers = [f"{j}=127.0.0.1:{p}" for j, p in PORTS.items() if j != i]
        procs[i] = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "raft_server.py"), str(i), str(PORTS[i]), *peers,
             "--data-dir", os.path.join(tmp, f"d{i}"), "--election-timeout-ms", "300-600"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip

    def status(i: int) -> pb.GetStatusResponse:
        return stubs[i].GetStatus(pb.GetStatusRequest(), timeout=0.5)

    def fresh_status(i: int) -> pb.GetStatusResponse:
        # A fresh channel each time: the bench's own channel to a dead node is in backoff.
        with grpc.insecure_channel(
            f"127.0.0.1:{PORTS[i]}", options=[("grpc.enable_http_proxy", 0)]
        ) as ch:
            return pb_grpc.RaftServiceStub(ch).GetStatus(pb.GetStatusRequest(), timeout=0.5)

    def knows_leader(i: int) -> bool:
        return fresh_status(i).leader_id > 0

    def caught_up(i: int, target: int) -> bool:
        return fresh_status(i).last_applied >= target

    def leader() -> int | None:
        for i in PORTS:
            try:
                if status(i).state == "Leader":
                    return i
            except grpc.RpcError:
                pass
        return None

    try:
        for i in PORTS:
            start(i)
        times: list[float] = []
        terms: list[int] = []
        phases: list[str] = []
        for run in range(runs):
            lead = poll(leader)
            victim = next(i for i in PORTS if i != lead)
            os.killpg(procs[victim].pid, signal.SIGKILL)
            procs[victim].wait()
            resp = stubs[lead].ClientRequest(
                pb.ClientRequestMessage(command=f"SET r {run}"), timeout=5
            )
            assert resp.outcome == pb.APPLIED, resp
            target = status(lead).commit_index
            term_before = status(lead).current_term
            time.sleep(down)
            t0 = time.monotonic()
            start(victim)
            poll(partial(fresh_status, victim))
            t_up = time.monotonic() - t0
            poll(partial(knows_leader, victim))
            t_leader = time.monotonic() - t0
            poll(partial(caught_up, victim, target))
            phases.append(f"{t_up * 1000:.0f}/{t_leader * 1000:.0f}")
            times.append(time.monotonic() - t0)
            terms.append(fresh_status(victim).current_term - term_before)
        ms = sorted(t * 1000 for t in times)
        print(
            f"python-node follower rejoin after {down:.0f} s down ({runs} runs),"
            f" spawn to caught up: min {ms[0]:.0f} ms, median {statistics.median(ms):.0f} ms,"
            f" max {ms[-1]:.0f} ms; elections caused by the rejoin: {terms};"
            f" ms to serving/leader known: {' '.join(phases)}"
        )
    finally:
        for p in procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

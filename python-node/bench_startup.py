#!/usr/bin/env python3
"""Start-up time of python-node: from spawning the process to GetStatus answering.

    python-node/.venv/bin/python python-node/bench_startup.py [RUNS] [LOG_ENTRIES]

Starts a one-node cluster RUNS times (default 10) on port 22990, each with a fresh data dir
holding LOG_ENTRIES (default 0) log entries to recover, and prints min / median / max.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import grpc  # noqa: E402

from raft_pb import raft_service_pb2 as pb  # noqa: E402
from raft_pb import raft_service_pb2_grpc as pb_grpc  # noqa: E402

PORT = 22990


def once(log_entries: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        if log_entries:
            with open(os.path.join(tmp, "log.jsonl"), "w") as f:
                for i in range(log_entries):
                    f.write(json.dumps({"index": i, "term": 1, "command": f"SET k{i} v"}) + "\n")
            with open(os.path.join(tmp, "state.json"), "w") as f:
                f.write('{"term":1,"voted_for":1}')
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [
                sys.executable,
                os.path.join(HERE, "raft_server.py"),
                "1",
                str(PORT),
                "--data-dir",
                tmp,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            while True:  # wait for the listening socket, then ask GetStatus
                if time.monotonic() - t0 > 30:
                    raise SystemExit("error: node did not start within 30 s")
                try:
                    socket.create_connection(("127.0.0.1", PORT), timeout=0.1).close()
                    break
                except OSError:
                    time.sleep(0.002)
            with grpc.insecure_channel(
                f"127.0.0.1:{PORT}", options=[("grpc.enable_http_proxy", 0)]
            ) as ch:
                st = pb_grpc.RaftServiceStub(ch).GetStatus(pb.GetStatusRequest(), timeout=5)
            elapsed = time.monotonic() - t0
            assert st.last_log_index == log_entries - 1
            return elapsed
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    entries = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    times = [once(entries) for _ in range(runs)]
    ms = sorted(t * 1000 for t in times)
    print(
        f"python-node start-up to GetStatus ({runs} runs, {entries} log entries): "
        f"min {ms[0]:.0f} ms, median {statistics.median(ms):.0f} ms, max {ms[-1]:.0f} ms"
    )


if __name__ == "__main__":
    main()

"""Does every node kind answer GetLog from an index (the paging extension, issue 15 §3)?

Starts a 3-node cluster of one Rust, one Python and one Java node (ports 32100-32102; run it
inside a private network namespace), writes a few commands, then asks each node for its whole
log and for pages of it, and compares: from_index k alone must give entries[k:], from_index k
with max_entries m must give entries[k:k+m]; past the end, nothing. Prints one line per node
and per case; exit 0 when every node answered every case as the extension says, 1 otherwise.

    python-node/.venv/bin/python benches/cluster/getlog_check.py [JAVA_ROOT] [RUST_ROOT]

JAVA_ROOT / RUST_ROOT: checkouts whose java-node/run.sh / target/release/rust-node to start
(default: this one). Not a test: a check to run by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python-node"))

import grpc  # noqa: E402
from raft_pb import raft_service_pb2 as pb  # noqa: E402
from raft_pb import raft_service_pb2_grpc as pb_grpc  # noqa: E402

PORTS = {1: 32100, 2: 32101, 3: 32102}


def commands(java_root: str, rust_root: str, tmp: str) -> dict[int, list[str]]:
    def peers(me: int) -> list[str]:
        return [f"{i}=127.0.0.1:{p}" for i, p in PORTS.items() if i != me]

    def common(i: int) -> list[str]:
        return [str(i), str(PORTS[i]), *peers(i), "--data-dir", f"{tmp}/d{i}",
                "--election-timeout-ms", "300-600", "--heartbeat-ms", "50"]  # fmt: skip

    py = [os.path.join(ROOT, "python-node/.venv/bin/python"),
          os.path.join(ROOT, "python-node/raft_server.py")]  # fmt: skip
    return {
        1: [os.path.join(rust_root, "target/release/rust-node"), *common(1)],
        2: [*py, *common(2)],
        3: [os.path.join(java_root, "java-node/run.sh"), *common(3)],
    }


def leader(stubs: dict[int, pb_grpc.RaftServiceStub]) -> int | None:
    for i, s in stubs.items():
        try:
            if s.GetStatus(pb.GetStatusRequest(), timeout=1).state == "Leader":
                return i
        except grpc.RpcError:
            pass
    return None


def check(name: str, stub: pb_grpc.RaftServiceStub) -> bool:
    full = list(stub.GetLog(pb.GetLogRequest(), timeout=3).entries)
    n = len(full)
    good = True
    for k in sorted({0, 1, n // 2, n - 1, n, n + 5}):
        for m in (None, 2):
            req = (
                pb.GetLogRequest(from_index=k)
                if m is None
                else pb.GetLogRequest(from_index=k, max_entries=m)
            )
            got = list(stub.GetLog(req, timeout=3).entries)
            want = full[k:] if m is None else full[k : k + m]
            ok = got == want
            good &= ok
            print(f"{name:<7} log of {n:>3}: from_index={k:<3} max_entries={m!s:<4} "
                  f"got {len(got):>3} entries: {'as expected' if ok else 'WRONG'}")  # fmt: skip
    return good


def main() -> int:
    java_root = sys.argv[1] if len(sys.argv) > 1 else ROOT
    rust_root = sys.argv[2] if len(sys.argv) > 2 else ROOT
    names = {1: "rust", 2: "python", 3: "java"}
    with tempfile.TemporaryDirectory(prefix="getlog-check.") as tmp:
        procs = {
            i: subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(f"{tmp}/{i}.log", "w"))
            for i, cmd in commands(java_root, rust_root, tmp).items()
        }
        try:
            stubs = {
                i: pb_grpc.RaftServiceStub(grpc.insecure_channel(f"127.0.0.1:{p}"))
                for i, p in PORTS.items()
            }
            deadline = time.monotonic() + 60
            lead = None
            while lead is None and time.monotonic() < deadline:
                time.sleep(0.2)
                lead = leader(stubs)
            if lead is None:
                print("no leader within 60 s")
                return 1
            for j in range(12):
                stubs[lead].ClientRequest(
                    pb.ClientRequestMessage(command=f"SET k{j} {j}"), timeout=5
                )
            time.sleep(1)  # let the followers catch up (the check compares each node with itself)
            results = [check(names[i], s) for i, s in stubs.items()]
        finally:
            for p in procs.values():
                p.terminate()
            for p in procs.values():
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
    print("GetLog paging:", "every node as expected" if all(results) else "SOME NODE WRONG")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

"""A 3-node Python cluster on loopback: commit through a follower, SIGKILL the leader, elect a
new one with the data intact, restart the killed node from its data dir and watch it catch up."""

from __future__ import annotations

from typing import Any

import grpc

from raft_pb import raft_service_pb2 as pb
from tests.procs import leader_of, wait_for


def applied_entries(journal: list[dict[str, Any]]) -> dict[int, tuple[int, str]]:
    out: dict[int, tuple[int, str]] = {}
    for e in journal:
        if e["event"] == "apply":
            # State machine safety: an index is applied with one entry, however often restarted.
            assert out.setdefault(e["index"], (e["term"], e["command"])) == (
                e["term"],
                e["command"],
            )
    return out


def test_commit_failover_and_catch_up(ports, nodes):
    cluster = nodes.cluster(ports, size=3)
    leader = leader_of(cluster)
    follower = next(n for n in cluster if n is not leader)
    st = leader.status()
    assert st.implementation == "python-node 0.1.0" and st.node_id == leader.id
    assert st.leader_address == leader.address

    # A write through a follower is forwarded, committed and applied before the answer.
    resp = follower.request("SET x 1")
    assert (resp.success, resp.outcome, resp.result) == (True, pb.APPLIED, "OK")
    assert (resp.leader_id, resp.leader_address) == (leader.id, leader.address)
    resp = follower.request("GET x")
    assert (resp.outcome, resp.result) == (pb.APPLIED, "1")
    resp = leader.request("CAS x 1 2")
    assert (resp.outcome, resp.result) == (pb.APPLIED, "true")

    # A request already forwarded once is not forwarded again.
    resp = follower.request("SET y 9", metadata=(("x-raft-forwarded", "1"),))
    assert (resp.success, resp.outcome) == (False, pb.REJECTED)
    assert resp.leader_address == leader.address

    committed = leader.status().commit_index
    wait_for(
        "every node to apply the writes",
        lambda: all(n.status().last_applied >= committed for n in cluster),
    )
    old_term = leader.status().current_term

    leader.kill()  # SIGKILL
    survivors = [n for n in cluster if n is not leader]
    new_leader = leader_of(survivors)
    assert new_leader.status().current_term > old_term
    resp = survivors[0].request("GET x", timeout=10)
    assert (resp.outcome, resp.result) == (pb.APPLIED, "2")
    resp = new_leader.request("SET z 3")
    assert resp.outcome == pb.APPLIED

    # The killed node restarts from its data dir and catches up.
    leader.start()
    leader.wait_up()
    target = new_leader.status().commit_index
    wait_for(
        "the restarted node to catch up",
        lambda: leader.status().last_applied >= target and leader.log() == new_leader.log(),
    )
    st = leader.status()
    assert st.state == "Follower" and st.leader_id == new_leader.id
    resp = leader.request("GET z")
    assert (resp.outcome, resp.result) == (pb.APPLIED, "3")

    # Journals: the restart recovered the durable state, and all nodes applied the same entries.
    journal = nodes.journal(leader.id)
    starts = [e for e in journal if e["event"] == "start"]
    assert len(starts) == 2
    assert starts[1]["log_len"] > 0 and starts[1]["term"] >= old_term
    applied = [applied_entries(nodes.journal(n.id)) for n in cluster]
    for a in applied[1:]:
        common = set(a) & set(applied[0])
        assert all(a[i] == applied[0][i] for i in common)
    assert [cmd for _, cmd in sorted(applied[0].values())][:1] == [""]  # the first leader's no-op


def test_no_leader_available(ports, nodes):
    """Node 1 alone of a 3-node cluster can never win: clients get the original message."""
    [node] = nodes.cluster([ports[0]], size=1)
    wait_for("the one-node cluster to commit its no-op", lambda: node.status().commit_index == 0)
    # Restart it as a member of a cluster whose other two members are down.
    node.kill()
    node.args = [
        "1",
        str(ports[0]),
        f"2=127.0.0.1:{ports[1]}",
        f"3=127.0.0.1:{ports[2]}",
        "--election-timeout-ms",
        "300-600",
        "--heartbeat-ms",
        "50",
        "--data-dir",
        str(nodes.tmp / "data1"),
    ]
    node.start()
    node.wait_up()
    resp = node.request("SET a 1")
    assert resp.success is False
    assert resp.message == "No leader available"
    assert resp.outcome == pb.REJECTED
    assert (resp.leader_id, resp.leader_address) == (-1, "")
    st = node.status()
    assert st.state in ("Follower", "Candidate") and st.leader_id == -1
    # GetLog paging on the log recovered from the one-node run (its no-op).
    entries = node.stub.GetLog(pb.GetLogRequest(from_index=0, max_entries=1), timeout=2).entries
    assert [(e.index, e.command) for e in entries] == [(0, "")]
    try:
        node.stub.GetLog(pb.GetLogRequest(from_index=5), timeout=2)
    except grpc.RpcError as e:  # pragma: no cover - reported with its code
        raise AssertionError(f"GetLog past the end failed: {e.code()}") from None

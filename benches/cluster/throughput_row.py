"""One result line of benches/cluster/throughput.sh, or the medians of all lines.

    throughput_row.py RUN_DIR BUILD ROUND LEADER_ID EXIT   -> one tab-separated row
    throughput_row.py --medians ROWS.tsv                   -> medians per build

A run counts only when exactly one node became leader and it is LEADER_ID (from the role
events of the node journals): otherwise the leader column says what happened. fsyncs per
acknowledged write come from the leader's "storage stats" log line (rust-node, python-node
and java-node log one at a clean stop); `-` when there is none (e.g. an older build).
"""

from __future__ import annotations

import glob
import json
import os
import re
import statistics
import sys

STATS = re.compile(r"storage stats.*?fsyncs[=:]\s*(\d+)")


def leaders(run_dir: str) -> list[int]:
    """Ids of the nodes that journaled becoming leader, once per election won."""
    won = []
    for path in sorted(glob.glob(os.path.join(run_dir, "journals", "*.jsonl"))):
        node = int(os.path.basename(path).split(".")[0])
        with open(path, encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                if rec.get("event") == "role" and str(rec.get("role")).lower() == "leader":
                    won.append(node)
    return won


def fsyncs(run_dir: str, node: int) -> int | None:
    path = os.path.join(run_dir, "nodes", f"{node}.log")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            found = STATS.findall(f.read())
    except OSError:
        return None
    return int(found[-1]) if found else None


def row(run_dir: str, build: str, rnd: str, lead_id: int, rc: str) -> str:
    with open(os.path.join(run_dir, "report.json"), encoding="utf-8") as f:
        m = json.load(f)["metrics"]
    won = leaders(run_dir)
    ok = m.get("ops_ok", 0.0)
    n = fsyncs(run_dir, lead_id)
    per = f"{n / ok:.3f}" if n is not None and ok > 0 else "-"
    if won == [lead_id]:
        who = f"{lead_id}" + ("" if rc == "0" else f" (run exit {rc})")
    else:
        who = f"NOT COUNTED: leaders {won} (wanted only {lead_id})"
    return "\t".join(
        [
            f"{build:<6}",
            f"{rnd:<5}",
            f"{m.get('throughput_ok_per_s', 0.0):>10.1f}",
            f"{m.get('latency_p50_ms', float('nan')):>8.2f}",
            f"{m.get('latency_p99_ms', float('nan')):>8.2f}",
            f"{per:>12}",
            who,
        ]
    )


def medians(path: str) -> None:
    by: dict[str, list[list[float]]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            cols = [c.strip() for c in line.rstrip("\n").split("\t")]
            if cols[6].startswith("NOT COUNTED"):
                continue
            by.setdefault(cols[0], []).append([float(c) for c in cols[2:5]])
    for build, rows in by.items():
        med = [statistics.median(col) for col in zip(*rows, strict=True)]
        print(
            f"median {build:<6} over {len(rows)} runs: {med[0]:.1f} writes/s, "
            f"p50 {med[1]:.2f} ms, p99 {med[2]:.2f} ms"
        )


def main() -> None:
    if sys.argv[1:2] == ["--medians"]:
        medians(sys.argv[2])
    else:
        run_dir, build, rnd, lead_id, rc = sys.argv[1:6]
        print(row(run_dir, build, rnd, int(lead_id), rc))


if __name__ == "__main__":
    main()

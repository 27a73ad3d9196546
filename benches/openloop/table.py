#!/usr/bin/env python3
"""Tables of benches/openloop/compare.sh, from a reports folder of `raft-harness run`.

    table.py REPORTS [HARNESS]

REPORTS holds <suite>/<timestamp>/{report.json,history.jsonl}; suite folders named
<suite>-closed / <suite>-open are paired, any other suite is listed alone (e.g. the reports of
`raft-harness run suites/` for the in-flight table). Prints, per suite and mode:
- per disruptive fault N (kill, stop, pause, net cuts; the faults `ok_per_s_after_fault.N`
  numbers): acknowledged ops/s in the 2 s before it (from the history), in the 2 s after it
  (`ok_per_s_after_fault.N`), requests in flight at it (`in_flight_at_fault.N`); medians
  over the runs;
- with HARNESS: the linearizability check of each history (`HARNESS check history.jsonl`):
  wall ms and peak RSS (KiB) of that process, medians and maxima, with the history's ops,
  info ops and logical clients.
Exit 2 if REPORTS holds no run.
"""
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

WINDOW_US = 2_000_000  # as harness/workload/inflight.rs AFTER_FAULT_US
DISRUPTIVE = {"kill", "stop", "pause", "net-isolate", "net-halves", "net-bridge",
              "net-majorities-ring"}


def runs(reports: Path):
    """(suite, mode, run dir) of every run that wrote a report.json and a history."""
    for suite_dir in sorted(p for p in reports.iterdir() if p.is_dir()):
        name = suite_dir.name
        if name in ("latest", "batch.d"):
            continue
        base, _, mode = name.rpartition("-")
        if mode not in ("closed", "open"):
            base, mode = name, "-"
        for run in sorted(suite_dir.iterdir()):
            if (run / "report.json").is_file() and not run.is_symlink():
                yield base, mode, run


def history(run: Path):
    p = run / "history.jsonl"
    if not p.is_file():
        return []
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()]


def ok_before(h, t_us):
    """Acknowledged client ops/s answered in [t - 2 s, t)."""
    n = sum(1 for o in h if o.get("client") != 0 and o.get("outcome") == "ok"
            and o.get("complete_us") is not None and t_us - WINDOW_US <= o["complete_us"] < t_us)
    return n / (WINDOW_US / 1e6)


def fault_rows(report, h):
    """(N, action, before, after, in flight) per disruptive fault."""
    m = report.get("metrics", {})
    faults = [f for f in report.get("faults", []) if f.get("action") in DISRUPTIVE]
    for n, f in enumerate(faults, 1):
        after = m.get(f"ok_per_s_after_fault.{n}")
        inflight = m.get(f"in_flight_at_fault.{n}")
        yield n, f["action"], ok_before(h, f["t_us"]), after, inflight


def check_cost(harness: str, run: Path):
    """Wall ms and peak RSS KiB of `harness check RUN/history.jsonl`, and its exit code."""
    t0 = time.monotonic()
    p = subprocess.Popen([harness, "check", str(run / "history.jsonl")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    ms = (time.monotonic() - t0) * 1000
    return ms, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    reports = Path(sys.argv[1])
    harness = sys.argv[2] if len(sys.argv) > 2 else None
    by = {}
    for suite, mode, run in runs(reports) if reports.is_dir() else []:
        by.setdefault((suite, mode), []).append(run)
    if not by:
        print(f"{reports}: no runs (report.json) found", file=sys.stderr)
        return 2
    print("Leader faults: acknowledged ops/s in the 2 s before / after, requests in flight at it")
    print(f"{'suite':<22} {'mode':<6} {'runs':>4} {'pass':>4} {'fault':<14} "
          f"{'ok/s before':>11} {'ok/s after':>10} {'in flight':>9}  per run (after)")
    for (suite, mode), rs in sorted(by.items()):
        reps = [json.loads((r / "report.json").read_text()) for r in rs]
        hs = [history(r) for r in rs]
        passed = sum(1 for rep in reps if rep.get("verdict") == "pass")
        per = {}
        for rep, h in zip(reps, hs):
            for n, action, before, after, inflight in fault_rows(rep, h):
                per.setdefault((n, action), []).append((before, after, inflight))
        if not per:
            print(f"{suite:<22} {mode:<6} {len(rs):>4} {passed:>4} {'(no fault)':<14}")
        for (n, action), vals in sorted(per.items()):
            b, a, i = zip(*vals)
            runs_after = " ".join(f"{x:.0f}" if x is not None else "-" for x in a)
            print(f"{suite:<22} {mode:<6} {len(rs):>4} {passed:>4} {f'{n} {action}':<14} "
                  f"{med(b):>11.1f} {med(a):>10.1f} {med(i):>9.1f}  {runs_after}")
    if not harness:
        return 0
    print("\nLinearizability check of each history (`raft-harness check history.jsonl`)")
    print(f"{'suite':<22} {'mode':<6} {'runs':>4} {'ops':>6} {'info':>5} {'clients':>7} "
          f"{'ms p50':>8} {'ms max':>8} {'RSS KiB p50':>11} {'RSS max':>8} {'exit':>6}")
    for (suite, mode), rs in sorted(by.items()):
        rows = []
        for r in rs:
            h = history(r)
            if not h:
                continue
            ms, rss, code = check_cost(harness, r)
            clients = len({o["client"] for o in h if o.get("client") != 0})
            info = sum(1 for o in h if o.get("outcome") == "info")
            rows.append((len(h), info, clients, ms, rss, code))
        if not rows:
            continue
        ops, info, clients, ms, rss, codes = zip(*rows)
        exits = ",".join(sorted({str(c) for c in codes}))
        print(f"{suite:<22} {mode:<6} {len(rows):>4} {med(ops):>6.0f} {med(info):>5.0f} "
              f"{med(clients):>7.0f} {med(ms):>8.1f} {max(ms):>8.1f} {med(rss):>11.0f} "
              f"{max(rss):>8} {exits:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

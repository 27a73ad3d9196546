#!/usr/bin/env bash
# Failover cost on the 5-node mixed cluster (issue 15 §1): runs benches/cluster/failover.toml
# (or SUITE) -- 50 leader kills under a steady workload, 150-300 ms election timeouts -- inside
# its own network namespace (`unshare -n`, needs root), and prints p50/p99 of failover_ms.N
# (kill -> new leader seen) and first_commit_after_fault_ms.N (kill -> first acknowledged write).
# Aim: first commit p50 <= failover p50 + 100 ms, first commit p99 <= 600 ms. Not a test.
#   benches/cluster/failover.sh [SUITE] [--seed N]
# Exit: 0 numbers printed (even when a check of the run failed: its report is kept and named),
# 1 no report or too few kills measured, 2 usage, 3 cannot run (no unshare/python3).
set -euo pipefail
cd "$(dirname "$0")/../.."
suite=benches/cluster/failover.toml
seed_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seed) [ $# -ge 2 ] || { echo "failover.sh: --seed needs a value" >&2; exit 2; }
            seed_args=(--seed "$2"); shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    -*) echo "failover.sh: unknown option $1" >&2; exit 2 ;;
    *) suite=$1; shift ;;
  esac
done
[ -f "$suite" ] || { echo "failover.sh: suite $suite not found" >&2; exit 2; }
command -v unshare >/dev/null || { echo "failover.sh: unshare not found" >&2; exit 3; }
command -v python3 >/dev/null || { echo "failover.sh: python3 not found" >&2; exit 3; }
cargo build -q --release --bins
out=${FAILOVER_REPORTS:-$(mktemp -d /tmp/failover-bench.XXXXXX)}
mkdir -p "$out"
echo "failover.sh: running $suite (reports in $out)" >&2
rc=0
unshare -n sh -c 'ip link set lo up && exec "$@"' sh \
  target/release/raft-harness run "$suite" --reports "$out" "${seed_args[@]}" >"$out/run.log" 2>&1 \
  || rc=$?
report=$(ls -td "$out"/*/*/ 2>/dev/null | head -1)report.json
[ -f "$report" ] || { echo "failover.sh: no report.json (exit $rc; see $out/run.log)" >&2; exit 1; }
[ "$rc" -eq 0 ] || echo "failover.sh: warning: the run exited $rc (see $out/run.log); numbers follow" >&2
python3 - "$report" <<'PY'
import json, sys

metrics = json.load(open(sys.argv[1]))["metrics"]

def series(prefix):
    return {int(k.split(".")[1]): v for k, v in metrics.items() if k.startswith(prefix + ".")}

def pct(xs, p):  # nearest rank on the sorted values, as the harness computes latency_p50_ms
    xs = sorted(xs)
    return xs[round((len(xs) - 1) * p)]

fail, first = series("failover_ms"), series("first_commit_after_fault_ms")
both = sorted(set(fail) & set(first))
print(f"report: {sys.argv[1]}")
print(f"{'metric':<34} {'n':>4} {'p50_ms':>8} {'p99_ms':>8} {'max_ms':>8}")
for name, xs in (
    ("failover_ms", list(fail.values())),
    ("first_commit_after_fault_ms", list(first.values())),
    ("first_commit - failover (per kill)", [first[i] - fail[i] for i in both]),
):
    if xs:
        print(f"{name:<34} {len(xs):>4} {pct(xs, .5):>8.0f} {pct(xs, .99):>8.0f} {max(xs):>8.0f}")
    else:
        print(f"{name:<34} {0:>4} {'-':>8} {'-':>8} {'-':>8}")
if len(fail) < 50 or len(first) < 50:
    print(f"warning: fewer than 50 kills measured ({len(fail)} failovers, {len(first)} first commits)")
if fail and first:
    p50_ok = pct(list(first.values()), .5) <= pct(list(fail.values()), .5) + 100
    p99_ok = pct(list(first.values()), .99) <= 600
    print(f"aim: first commit p50 <= failover p50 + 100 ms: {'met' if p50_ok else 'MISSED'}; "
          f"first commit p99 <= 600 ms: {'met' if p99_ok else 'MISSED'}")
sys.exit(0 if len(fail) >= 50 and len(first) >= 50 else 1)
PY

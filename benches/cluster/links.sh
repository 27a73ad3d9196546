#!/usr/bin/env bash
# What the link layer costs (issue 12 §4): commit throughput and p50/p99 latency of the same
# cluster with nodes connected directly, through the TCP proxies (`proxies = true`) and through
# the RPC-aware links (`network = "rpc"`), in interleaved rounds (round r runs every mode once,
# so machine load hits all alike), compared by medians. Each run is a generated suite inside
# a private network namespace: the chosen leader kind gets election timeouts of 1000-1200 ms
# and the others 5000-10000 ms, so it wins the first election; `set` workload of CLIENTS
# closed-loop clients sending to the leader for SECS s. A run whose leader is of another kind,
# or that saw a second leader, is reported as such and not counted (throughput_row.py).
# Not a test: run it without nice on a machine as quiet as you can get.
#   benches/cluster/links.sh [--cluster rust3|mixed] [--leader rust|python|java]
#       [--clients N] [--secs S] [--rounds R] [--modes "direct proxied rpc"] [--no-build]
# mixed = 1 Rust, 3 Python, 1 Java (ids 1..5). Exit: 0 numbers printed, 1 a run failed, 2 usage.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=$(pwd)
cluster=rust3 leader=rust clients=32 secs=10 rounds=5 modes="direct proxied rpc" build=1
. benches/cluster/common.sh
own_arg() {  # the options only this bench takes (see parse_args in common.sh)
  took=2
  case "$1" in
    --modes) modes=$2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) took=0 ;;
  esac
}
parse_args "$@"
pick_cluster
for m in $modes; do
  case "$m" in direct|proxied|rpc) ;; *) echo "links.sh: unknown mode $m (direct, proxied, rpc)" >&2; exit 2 ;; esac
done
[[ "$clients" =~ ^[1-9][0-9]*$ && "$secs" =~ ^[1-9][0-9]*$ && "$rounds" =~ ^[1-9][0-9]*$ ]] \
  || { echo "links.sh: --clients, --secs and --rounds take positive integers" >&2; exit 2; }
build_nodes
out=$(mktemp -d /tmp/links-bench.XXXXXX)
echo "links.sh: reports in $out" >&2
sed -e "s|^root = .*|root = \"$here\"|" -e '/^build = /d' -e '/^build_inputs = /d' \
  suites/kinds.toml >"$out/kinds.toml"

suite() {  # suite MODE N -> path of a generated suite
  local mode=$1 n=$2 f="$out/suite-$n.toml"
  {
    echo "name = \"links-$mode\""
    echo 'include = ["kinds.toml"]'
    echo '[cluster]'
    echo 'base_port = 35900'
    echo 'election_timeout_ms = [5000, 10000]'
    echo 'heartbeat_ms = 50'
    case "$mode" in
      direct) echo 'proxies = false' ;;
      proxied) echo 'proxies = true' ;;
      rpc) echo 'network = "rpc"' ;;
    esac
    suite_tail set 0
  } >"$f"
  echo "$f"
}

printf '%-7s %-5s %10s %8s %8s %12s %s\n' mode round ok_per_s p50_ms p99_ms fsync_per_ok leader
n=0
for r in $(seq 1 "$rounds"); do
  for mode in $modes; do
    n=$((n + 1))
    s=$(suite "$mode" "$n")
    run_one "$n" "$mode" "$r" "$s"
  done
done
python3 benches/cluster/throughput_row.py --medians "$out/rows.tsv"
# Paired: in each round, a mode's throughput over the TCP proxies' (same load), then the median
# of those ratios (less sensitive to load that changes between rounds than a ratio of medians).
python3 - "$out/rows.tsv" <<'PY'
import statistics, sys
by = {}
for line in open(sys.argv[1], encoding="utf-8"):
    c = [x.strip() for x in line.split("\t")]
    if not c[6].startswith("NOT COUNTED"):
        by.setdefault(c[1], {})[c[0]] = float(c[2])
for mode in ("direct", "rpc"):
    rs = [r[mode] / r["proxied"] for r in by.values() if mode in r and r.get("proxied")]
    if rs:
        print(f"paired {mode}/proxied over {len(rs)} rounds: median {statistics.median(rs):.2f}"
              f" (rounds {' '.join(f'{x:.2f}' for x in rs)})")
PY

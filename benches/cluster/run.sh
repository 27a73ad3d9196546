#!/usr/bin/env bash
# Cluster commit throughput and latency with and without the link proxies
# (issue: the proxies must be cheap): direct, TCP proxies, RPC-aware links, in
# interleaved rounds; compare medians. Prints one line per mode; not a test.
#   benches/cluster/run.sh [rounds]      (MODES="direct proxied rpc" by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
cargo build -q --release --bins
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-8s %5s %12s %10s %10s\n' mode round ok_per_s p50_ms p99_ms
for r in $(seq 1 "$rounds"); do
  for mode in ${MODES:-direct proxied rpc}; do
    target/release/raft-harness run "benches/cluster/$mode.toml" --reports "$out" --seed "$r" >/dev/null 2>&1 || {
      echo "run failed: $mode round $r (see $out)" >&2; exit 1; }
    python3 - "$out/bench-$mode/$(ls -t "$out/bench-$mode" | head -1)/report.json" "$mode" "$r" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["metrics"]
print(f"{sys.argv[2]:<8} {sys.argv[3]:>5} {m['throughput_ok_per_s']:>12.1f} {m['latency_p50_ms']:>10.2f} {m['latency_p99_ms']:>10.2f}")
PY
  done
done

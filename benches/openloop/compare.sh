#!/usr/bin/env bash
# Closed vs open loop during a leader fault (issue 13 §1): acknowledged ops/s in the 2 s before
# and after each leader fault, requests in flight at it, and the linearizability checker's cost
# (wall time, peak RSS) on each run's history. Not a test: it prints numbers.
#
#   benches/openloop/compare.sh [ROUNDS] [SUITE...]     (default: 3 failover pause-leader partition-leader)
#
# Each round runs every suite twice from one seed (`--seed ROUND`): a copy with
# `mode = "closed"` and one with `mode = "open"`, through the multi-suite runner (each suite in
# its own network namespace where it can make one, else on shifted ports). Reports stay in
# $KEEP_DIR if set, else in a temporary folder removed at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
rounds=${1:-3}
shift || true
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(failover pause-leader partition-leader)
cargo build -q --release --bins
out=${KEEP_DIR:-$(mktemp -d)}
[ -n "${KEEP_DIR:-}" ] || trap 'rm -rf "$out"' EXIT
mkdir -p "$out/suites"
for s in "${suites[@]}"; do
  src="suites/$s.toml"
  [ -f "$src" ] || { echo "no such suite: $src" >&2; exit 2; }
  for mode in closed open; do
    # Same suite, the kinds file by absolute path, and the mode written out.
    sed -e "s|^include = \[\"kinds.toml\"\]|include = [\"$root/suites/kinds.toml\"]|" \
        -e "s|^\[workload\]$|[workload]\nmode = \"$mode\"|" "$src" >"$out/suites/$s-$mode.toml"
    grep -q "^mode = \"$mode\"" "$out/suites/$s-$mode.toml" || { echo "$src: no [workload]" >&2; exit 2; }
  done
done
for r in $(seq 1 "$rounds"); do
  echo "round $r of $rounds" >&2
  # A failing suite is reported in the table (verdict column), not fatal to the bench.
  target/release/raft-harness run "$out/suites" --reports "$out/reports" --seed "$r" \
    --keep 1000 >"$out/round-$r.log" 2>&1 || echo "round $r: some suite failed (see $out/round-$r.log)" >&2
done
python3 benches/openloop/table.py "$out/reports" target/release/raft-harness

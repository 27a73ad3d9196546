#!/usr/bin/env bash
# Cluster commit throughput and latency (issue 15 §3), same-run comparison of two builds.
# For each round and each build (interleaved, so machine load hits both alike) it runs a
# generated suite: the cluster, the chosen leader kind, `set` workload of CLIENTS closed-loop
# clients sending to the leader for SECS seconds, inside a private network namespace. The
# chosen leader gets election timeouts of 1000-1200 ms (also check-quorum's window) and the
# others 5000-10000 ms, so it wins the first election; a run whose leader is of another kind, or that saw a second leader,
# is reported as such and not counted. Prints one line per run, then medians per build.
# Also prints fsyncs per acknowledged write of the leader (from its "storage stats" log line,
# written at a clean stop; `-` when the build does not log it). Not a test.
#   benches/cluster/throughput.sh [--cluster rust3|mixed] [--leader rust|python|java]
#       [--clients N] [--secs S] [--rounds R] [--compare ROOT] [--spread] [--no-build]
#       [--log-poll-ms N] [--workload set|register] [--max-inflight N] [--compare-max-inflight N]
#   --compare ROOT: a second build (a checkout with target/release/rust-node,
#       python-node/.venv, java-node/target/raft-node.jar already built), e.g. /work/main.
#   --spread: clients send to every node (followers forward) instead of the leader only.
#   --no-build: use the binaries as they are (this checkout's too).
#   --log-poll-ms N: the harness's full GetLog poll of every node (default 1000, as suites).
#   --max-inflight N / --compare-max-inflight N: start this build's / the compare build's nodes
#       with --max-inflight-appends N (pipelining; default: the nodes' own default). Before vs
#       after pipelining in one run: --compare . --max-inflight 4 --compare-max-inflight 1.
#   --workload register: the read mix (40% GET, 40% SET, 20% CAS over a few keys, checked for
#       linearizability) instead of `set` (writes only): GETs measure ReadIndex (thesis §6.4).
# Ports 32000-32099 (engineer range). Exit: 0 numbers printed, 1 a run failed, 2 usage.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=$(pwd)
cluster=rust3 leader=rust clients=32 secs=10 rounds=3 compare="" spread=0 build=1 log_poll=1000
workload=set inflight=("" "")
. benches/cluster/common.sh
own_arg() {  # the options only this bench takes (see parse_args in common.sh)
  took=2
  case "$1" in
    --compare) compare=$2 ;;
    --spread) spread=1; took=1 ;;
    --log-poll-ms) log_poll=$2 ;;
    --workload) workload=$2 ;;
    --max-inflight) inflight[0]=$2 ;;
    --compare-max-inflight) inflight[1]=$2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) took=0 ;;
  esac
}
parse_args "$@"
pick_cluster
case "$workload" in
  set|register) ;;
  *) echo "throughput.sh: --workload must be set or register, not $workload" >&2; exit 2 ;;
esac
for n in "${inflight[@]}"; do
  [[ -z "$n" || "$n" =~ ^[1-9][0-9]*$ ]] \
    || { echo "throughput.sh: --max-inflight and --compare-max-inflight take positive integers" >&2; exit 2; }
done
[[ "$clients" =~ ^[1-9][0-9]*$ && "$log_poll" =~ ^[1-9][0-9]*$ && "$secs" =~ ^[1-9][0-9]*$ && "$rounds" =~ ^[1-9][0-9]*$ ]] \
  || { echo "throughput.sh: --clients, --log-poll-ms, --secs and --rounds take positive integers" >&2; exit 2; }
builds=("$here")
if [ -n "$compare" ]; then
  for f in target/release/rust-node python-node/.venv/bin/python java-node/target/raft-node.jar; do
    [ -e "$compare/$f" ] || { echo "throughput.sh: $compare/$f missing: build it first" >&2; exit 2; }
  done
  builds+=("$(cd "$compare" && pwd)")
fi
build_nodes
out=$(mktemp -d /tmp/thru-bench.XXXXXX)
echo "throughput.sh: reports in $out" >&2

suite() {  # suite BUILD_ROOT N [MAX_INFLIGHT] -> path of a generated suite for that build
  local root=$1 n=$2 dir="$out/suite-$n" extra=""
  [ -z "${3:-}" ] || extra=" \"--max-inflight-appends\", \"$3\","
  mkdir -p "$dir"
  sed -e "s|^root = .*|root = \"$root\"|" -e '/^build = /d' -e '/^build_inputs = /d' \
    -e "s|\"--heartbeat-ms\", \"{heartbeat_ms}\",\$|&$extra|" \
    suites/kinds.toml >"$dir/kinds.toml"
  {
    echo "name = \"thru-$n\""
    echo 'include = ["kinds.toml"]'
    echo '[cluster]'
    echo "base_port = $((32000 + 10 * (n % 10)))"
    echo 'election_timeout_ms = [5000, 10000]'
    echo 'heartbeat_ms = 50'
    echo 'proxies = false'
    echo "log_poll_ms = $log_poll"
    suite_tail "$workload" "$spread"
  } >"$dir/suite.toml"
  echo "$dir/suite.toml"
}

printf '%-6s %-5s %10s %8s %8s %12s %s\n' build round ok_per_s p50_ms p99_ms fsync_per_ok leader
n=0
for r in $(seq 1 "$rounds"); do
  for b in "${!builds[@]}"; do
    name=$([ "$b" = 0 ] && echo this || echo other)
    n=$((n + 1))
    s=$(suite "${builds[$b]}" "$n" "${inflight[$b]}")
    run_one "$n" "$name" "$r" "$s"
  done
done
python3 benches/cluster/throughput_row.py --medians "$out/rows.tsv"

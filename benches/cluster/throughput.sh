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
while [ $# -gt 0 ]; do
  case "$1" in
    --cluster) cluster=$2; shift 2 ;;
    --leader) leader=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --secs) secs=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --compare) compare=$2; shift 2 ;;
    --spread) spread=1; shift ;;
    --no-build) build=0; shift ;;
    --log-poll-ms) log_poll=$2; shift 2 ;;
    --workload) workload=$2; shift 2 ;;
    --max-inflight) inflight[0]=$2; shift 2 ;;
    --compare-max-inflight) inflight[1]=$2; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "throughput.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$cluster" in
  rust3) kinds=(rust rust rust) ;;
  mixed) kinds=(rust python python python java) ;;
  *) echo "throughput.sh: --cluster must be rust3 or mixed, not $cluster" >&2; exit 2 ;;
esac
case "$workload" in
  set|register) ;;
  *) echo "throughput.sh: --workload must be set or register, not $workload" >&2; exit 2 ;;
esac
lead_id=0
for i in "${!kinds[@]}"; do
  if [ "${kinds[$i]}" = "$leader" ]; then lead_id=$((i + 1)); break; fi
done
[ "$lead_id" -gt 0 ] || { echo "throughput.sh: no $leader node in the $cluster cluster" >&2; exit 2; }
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
# Build outside the namespace (registries are unreachable inside it).
if [ "$build" = 1 ]; then
  cargo build -q --release --bins
  python-node/setup.sh >/dev/null
  [ "$cluster" = rust3 ] || java-node/build.sh >/dev/null
fi
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
    for i in "${!kinds[@]}"; do
      echo '[[node]]'
      echo "id = $((i + 1))"
      echo "kind = \"${kinds[$i]}\""
      [ $((i + 1)) -ne "$lead_id" ] || echo 'election_timeout_ms = [1000, 1200]'
    done
    echo '[workload]'
    echo "type = \"$workload\""
    echo "clients = $clients"
    echo 'rate = 0'
    echo 'request_timeout_ms = 3000'
    [ "$spread" = 1 ] || echo "targets = [$lead_id]"
    echo '[[step]]'
    echo 'wait = "leader"'
    echo 'timeout_s = 30'
    echo '[[step]]'
    echo 'sleep_s = 1'
    echo '[[step]]'
    echo 'workload = "start"'
    echo '[[step]]'
    echo "sleep_s = $secs"
    echo '[[step]]'
    echo 'workload = "stop"'
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
    rc=0
    unshare -n sh -c 'ip link set lo up && exec "$@"' sh \
      target/release/raft-harness run "$s" --reports "$out/r$n" --seed "$r" >"$out/r$n.log" 2>&1 || rc=$?
    run_dir=$(ls -td "$out/r$n"/*/*/ 2>/dev/null | head -1)
    [ -n "$run_dir" ] && [ -f "$run_dir/report.json" ] || {
      echo "throughput.sh: run $n ($name) left no report (exit $rc, see $out/r$n.log)" >&2; exit 1; }
    python3 benches/cluster/throughput_row.py "$run_dir" "$name" "$r" "$lead_id" "$rc" | tee -a "$out/rows.tsv"
  done
done
python3 benches/cluster/throughput_row.py --medians "$out/rows.tsv"

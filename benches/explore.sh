#!/usr/bin/env bash
# The table of issue 13 §3: per planted bug of rust-node, whether `raft-harness explore` finds
# it, by which check, the median wall time to find over several seeds, and the shrunk size.
# Time to find is a measurement printed here, never a test assertion.
#
#   benches/explore.sh BUDGET [SEEDS] [BUG...]     e.g. benches/explore.sh 3m "1 2 3" volatile-log
#
# BUG `none` runs correct nodes: its row is the false-alarm count (must be 0/N found).
# Needs a release build (`cargo build --release --bins`). Each exploration runs in a private
# network namespace when `unshare -n` works (root), else on ports 31500-31599. SHRINK_RUNS=K
# (default 3; 0 skips shrinking) sets shrink's runs per candidate. NETWORK=rpc runs the nodes
# behind RPC-aware links and adds message faults (drop-request, drop-reply, delay, duplicate,
# reorder) to the fault mix (issue 12 §2); the default, NETWORK=tcp, uses the TCP link proxies.
# NETWORK=aimed: RPC-aware links, the composed faults (lag, deposed-leader,
# partial-replication, stale-appends) among the others, message faults aimed at AppendEntries
# (`methods`), and open-loop arrivals at 100/s (a leader cut off from its followers piles up
# hundreds of uncommitted entries, as Figure 8 needs with rust-node's 256-entry appends).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; }
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  -*) echo "explore.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
esac
if [ $# -eq 0 ]; then
  echo "explore.sh: give a BUDGET (the full table — 12 bugs x 3 seeds x 3m — takes about 2 hours):" >&2
  usage >&2; exit 2
fi
BUDGET=$1
[[ $BUDGET =~ ^[0-9]+(ms|s|m|h)?$ ]] || { echo "explore.sh: BUDGET must be like 90s or 3m, got '$BUDGET'" >&2; exit 2; }
SEEDS=${2:-"1 2 3"}
[[ $SEEDS =~ ^[0-9\ ]+$ ]] || { echo "explore.sh: SEEDS must be numbers like \"1 2 3\", got '$SEEDS'" >&2; exit 2; }
shift $(( $# > 2 ? 2 : $# )) || true
BUGS=("$@")
if [ ${#BUGS[@]} -eq 0 ]; then
  BUGS=(volatile-term volatile-log restart-term-zero ack-before-commit vote-twice
        no-up-to-date-check commit-old-term stale-reads no-prev-log-check truncate-matching
        no-step-down commit-no-min)
fi
SHRINK_RUNS=${SHRINK_RUNS:-3}
NETWORK=${NETWORK:-tcp}
METHODS=''
WORKLOAD='rate = 50\n'
case $NETWORK in
  tcp) LINKS='proxies = true'
       MIX='"kill", "stop", "pause", "crash-all", "isolate", "halves"'
       PER='[1, 4]' ;;
  rpc) LINKS='network = "rpc"'
       MIX='"kill", "pause", "crash-all", "isolate", "drop-request", "drop-reply", "delay", "delay", "duplicate", "duplicate", "reorder", "reorder"'
       PER='[2, 6]' ;;
  aimed) LINKS='network = "rpc"'
       MIX='"kill", "pause", "crash-all", "isolate", "lag", "lag", "deposed-leader", "deposed-leader", "partial-replication", "partial-replication", "stale-appends", "stale-appends", "delay", "duplicate", "reorder", "drop-request"'
       METHODS='methods = ["append-with-entries", "append-with-entries", "append-entries", "request-vote"]'
       PER='[1, 3]'
       WORKLOAD='mode = "open"\nrate = 100\nmax_clients = 300\n' ;;
  *) echo "NETWORK must be tcp, rpc or aimed, got $NETWORK" >&2; exit 2 ;;
esac
H=$ROOT/target/release/raft-harness
NODE=$ROOT/target/release/rust-node
WORK=$(mktemp -d /tmp/rh-bench-explore.XXXXXX)
export RAFT_HARNESS_STATE_DIR=$WORK/state
wrap() { if unshare -n true 2>/dev/null; then unshare -n sh -c 'ip link set lo up && exec "$@"' sh "$@"; else "$@"; fi; }

suite() { # BUG -> suite file
  local f=$WORK/$1.toml
  {
    echo "[kind.bug]"
    local bug=", \"--bug\", \"$1\""
    [ "$1" = none ] && bug=""   # `none`: correct nodes, for the false-alarm rate
    echo "command = [\"$NODE\", \"{id}\", \"{port}\", \"{peers}\", \"--host\", \"{host}\", \"--data-dir\", \"{data_dir}\", \"--journal\", \"{journal}\", \"--election-timeout-ms\", \"{election_timeout_ms}\", \"--heartbeat-ms\", \"{heartbeat_ms}\"$bug]"
    echo "ready_timeout_s = 30"
    printf '[cluster]\nbase_port = 31500\n%s\nelection_timeout_ms = [300, 600]\nheartbeat_ms = 60\n' "$LINKS"
    for i in 1 2 3 4 5; do printf '[[node]]\nid = %d\nkind = "bug"\n' "$i"; done
    printf "[workload]\ntype = \"register\"\nclients = 5\nkeys = 3\n$WORKLOAD"
    printf '[checks]\nrequired = ["election_safety", "log_matching", "leader_completeness", "state_machine_safety", "durability", "linearizable", "read_validity"]\n'
    printf '[explore]\nfaults = [%s]\nfaults_per_trial = %s\ngap_s = [0.3, 2.0]\nhold_s = [1.0, 5.0]\n%s\n' "$MIX" "$PER" "$METHODS"
  } > "$f"
  echo "$f"
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print a[(NR+1)/2]; else printf "%.1f\n", (a[NR/2]+a[NR/2+1])/2}'; }

echo "# trials: per seed, the trials run until found (Nx: N trials, nothing found)"
echo "network: $NETWORK; fault mix: $MIX; faults per trial: $PER; budget $BUDGET; seeds: $SEEDS"
printf '%-20s %-6s %-22s %-14s %-8s %s\n' bug found check "median_s(n)" trials shrunk
for bug in "${BUGS[@]}"; do
  s=$(suite "$bug"); times=(); checks=(); trials=(); found=0; first=""
  for seed in $SEEDS; do
    out=$WORK/$bug-$seed
    log=$(wrap "$H" explore "$s" --budget "$BUDGET" --seed "$seed" --out "$out" 2>&1 || true)
    grep -E '^(FOUND|no safety)' <<<"$log" | sed "s/^/  $bug seed $seed: /" >&2 || true
    line=$(grep -E '^(FOUND|no safety)' <<<"$log" || echo "error: $(tail -1 <<<"$log")")
    if [[ $line == FOUND* ]]; then
      found=$((found + 1))
      times+=("$(sed -E 's/.*faults, ([0-9.]+) s\).*/\1/' <<<"$line")")
      checks+=("$(sed -E 's/.*\): ([a-z_]+) failed.*/\1/' <<<"$line")")
      trials+=("$(sed -E 's/FOUND after ([0-9]+) trials.*/\1/' <<<"$line")")
      [ -z "$first" ] && first=$out/failing.toml
    elif [[ $line == no\ safety* ]]; then
      trials+=("$(sed -E 's/no safety failure in ([0-9]+) trials.*/\1/' <<<"$line")x")
    fi
  done
  shrunk=-
  if [ -n "$first" ] && [ "$SHRINK_RUNS" -gt 0 ]; then
    slog=$(wrap "$H" shrink "$first" --runs "$SHRINK_RUNS" --out "$WORK/$bug-shrink" 2>&1 || true)
    shrunk=$(grep -E '^shrunk' <<<"$slog" | sed -E 's/shrunk ([0-9]+) steps \(([0-9]+) faults\) to ([0-9]+) \(([0-9]+) faults\); reproduced in ([0-9]+ of [0-9]+) runs when kept, then in ([0-9]+ of [0-9]+).*/\1->\3 steps, \2->\4 faults (\5, then \6)/' || true)
    shrunk=${shrunk:-"not shrunk"}
  fi
  n=$(wc -w <<<"$SEEDS")
  med=$(printf '%s\n' "${times[@]:-}" | { grep -v '^$' || true; } | median)
  printf '%-20s %-6s %-22s %-14s %-8s %s\n' "$bug" "$found/$n" "$(printf '%s\n' "${checks[@]:-}" | sort | uniq -c | sort -rn | awk 'NR==1{print $2}')" "$med" "$(IFS=,; echo "${trials[*]:-}")" "$shrunk"
done
echo "(work files: $WORK)"

# Shared by benches/cluster/links.sh and throughput.sh (sourced, not run): the options both
# take, the cluster and leader choice, the build, the [[node]], [workload] and step tables of a
# generated suite, and one measured run. Sourced from the repository root. Variables it reads
# and sets: cluster, leader, clients, secs, rounds, build, kinds, lead_id, out; `prog` is the
# calling script's name, for its error messages.
prog=${0##*/}

# parse_args ARGS...: reads the command line: the options both benches take (common_arg), and
# the rest through the calling script's own_arg (same contract as common_arg); exit 2 on an
# unknown word.
parse_args() {
  while [ $# -gt 0 ]; do
    common_arg "$@"
    [ "$took" -gt 0 ] || own_arg "$@"
    [ "$took" -gt 0 ] || { echo "$prog: unknown argument $1" >&2; exit 2; }
    shift "$took"
  done
}

# common_arg ARGS...: takes the first word of ARGS when it is one of the options both benches
# share (--cluster --leader --clients --secs --rounds --no-build) and sets `took` to the number
# of words it used: 0 when it is not one of them.
common_arg() {
  took=2
  case "$1" in
    --cluster) cluster=$2 ;;
    --leader) leader=$2 ;;
    --clients) clients=$2 ;;
    --secs) secs=$2 ;;
    --rounds) rounds=$2 ;;
    --no-build) build=0; took=1 ;;
    *) took=0 ;;
  esac
}

# pick_cluster: sets kinds (the node kinds of $cluster, ids 1..N) and lead_id (the id of its
# first $leader node); exit 2 when the cluster is unknown or has no such node.
pick_cluster() {
  case "$cluster" in
    rust3) kinds=(rust rust rust) ;;
    mixed) kinds=(rust python python python java) ;;
    *) echo "$prog: --cluster must be rust3 or mixed, not $cluster" >&2; exit 2 ;;
  esac
  lead_id=0
  for i in "${!kinds[@]}"; do
    if [ "${kinds[$i]}" = "$leader" ]; then lead_id=$((i + 1)); break; fi
  done
  [ "$lead_id" -gt 0 ] || { echo "$prog: no $leader node in the $cluster cluster" >&2; exit 2; }
}

# build_nodes: builds the harness and the nodes the cluster uses unless --no-build; run it
# outside the namespace (registries are unreachable inside it).
build_nodes() {
  [ "$build" = 1 ] || return 0
  cargo build -q --release --bins
  python-node/setup.sh >/dev/null
  [ "$cluster" = rust3 ] || java-node/build.sh >/dev/null
}

# suite_tail TYPE SPREAD: what follows a generated suite's [cluster] table: the [[node]] tables
# (the chosen leader gets election timeouts of 1000-1200 ms, the others keep the cluster's, so
# it wins the first election), the [workload] table (TYPE, $clients closed-loop clients sending
# to the leader, or to every node when SPREAD is 1) and the steps: wait for the leader (30 s),
# 1 s to settle, then the workload for $secs seconds.
suite_tail() {
  for i in "${!kinds[@]}"; do
    echo '[[node]]'
    echo "id = $((i + 1))"
    echo "kind = \"${kinds[$i]}\""
    [ $((i + 1)) -ne "$lead_id" ] || echo 'election_timeout_ms = [1000, 1200]'
  done
  echo '[workload]'
  echo "type = \"$1\""
  echo "clients = $clients"
  echo 'rate = 0'
  echo 'request_timeout_ms = 3000'
  [ "$2" = 1 ] || echo "targets = [$lead_id]"
  printf '[[step]]\nwait = "leader"\ntimeout_s = 30\n[[step]]\nsleep_s = 1\n'
  printf '[[step]]\nworkload = "start"\n[[step]]\nsleep_s = %s\n[[step]]\nworkload = "stop"\n' "$secs"
}

# run_one N NAME ROUND SUITE: runs SUITE (seed ROUND) inside a private network namespace,
# reports in $out/rN, log in $out/rN.log; prints its row (throughput_row.py, labelled NAME) and
# appends it to $out/rows.tsv. Exit 1 when the run left no report.
run_one() {
  local n=$1 name=$2 r=$3 s=$4 rc=0 run_dir
  unshare -n sh -c 'ip link set lo up && exec "$@"' sh \
    target/release/raft-harness run "$s" --reports "$out/r$n" --seed "$r" >"$out/r$n.log" 2>&1 || rc=$?
  run_dir=$(ls -td "$out/r$n"/*/*/ 2>/dev/null | head -1)
  [ -n "$run_dir" ] && [ -f "$run_dir/report.json" ] || {
    echo "$prog: run $n ($name) left no report (exit $rc, see $out/r$n.log)" >&2; exit 1; }
  python3 benches/cluster/throughput_row.py "$run_dir" "$name" "$r" "$lead_id" "$rc" | tee -a "$out/rows.tsv"
}

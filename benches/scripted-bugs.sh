#!/usr/bin/env bash
# Which shipped scripted suites catch a planted bug (issue 13 §3)? Runs each SUITE with every
# node replaced by `rust-node --bug BUG` (the suite's `rust`, `python` and `java` kinds all
# start the buggy Rust node, so the bug is on whichever node leads) and prints, per bug and
# suite, the run's exit code (1: a check failed, the bug was caught) and the failed checks.
#
#   benches/scripted-bugs.sh "BUG..." [SUITE...]     e.g. benches/scripted-bugs.sh "commit-old-term" msg-figure8
#
# SUITE is a name under suites/ (default: the scenario suites below). Needs a release build;
# each run uses the suite's own ports, so run it inside a private network namespace:
#   unshare -n sh -c 'ip link set lo up && benches/scripted-bugs.sh "no-up-to-date-check"'
# A single run per pair: runs are not deterministic, so a miss here is one sample, not proof.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
case "${1:-}" in
  -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  ""|-*) echo 'usage: benches/scripted-bugs.sh "BUG..." [SUITE...]   (--help for more)' >&2; exit 2 ;;
esac
BUGS=$1
shift
SUITES=("$@")
if [ ${#SUITES[@]} -eq 0 ]; then
  SUITES=(msg-stale-append msg-duplicate-append msg-figure8 msg-figure8-exact partition-leader
          stale-leader-rejoin log-consistency)
fi
H=$ROOT/target/release/raft-harness
WORK=$(mktemp -d /tmp/rh-scripted-bugs.XXXXXX)
export RAFT_HARNESS_STATE_DIR=$WORK/state
printf '%-22s %-22s %-5s %s\n' bug suite exit failed
for bug in $BUGS; do
  d=$WORK/$bug
  mkdir -p "$d"
  for k in rust python java; do
    echo "[kind.$k]"
    echo "command = [\"$ROOT/target/release/rust-node\", \"{id}\", \"{port}\", \"{peers}\", \"--host\", \"{host}\", \"--data-dir\", \"{data_dir}\", \"--journal\", \"{journal}\", \"--election-timeout-ms\", \"{election_timeout_ms}\", \"--heartbeat-ms\", \"{heartbeat_ms}\", \"--bug\", \"$bug\"]"
    echo "ready_timeout_s = 30"
  done > "$d/kinds.toml"
  for s in "${SUITES[@]}"; do
    cp "$ROOT/suites/$s.toml" "$d/$s.toml"
    out=$("$H" run "$d/$s.toml" --reports "$d/reports" 2>&1)
    rc=$?
    failed=$(grep -E '^  [a-z_]+ +FAIL' <<<"$out" | awk '{print $1}' | paste -sd, -)
    printf '%-22s %-22s %-5s %s\n' "$bug" "$s" "$rc" "${failed:--}"
  done
done
echo "(work files: $WORK)"

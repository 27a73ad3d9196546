#!/bin/sh
# suites/msg-figure8-exact.toml with S1 = `rust-node --bug commit-old-term` must FAIL
# (commit_safety, leader_completeness, state_machine_safety): the exact Figure 8 sequence (Raft §5.4.2)
# catches a leader that commits an earlier term's entries by counting replicas. The copy is
# written under target/tmp/figure8-exact/ (never in suites/). Run from the repository root,
# after `cargo build --release --bins`, inside a private network namespace:
#   unshare -n sh -c 'ip link set lo up && benches/figure8-exact.sh'
# Exit 0 when the planted bug was caught and the correct nodes passed, 1 otherwise.
set -u
root=$(pwd)
dir="$root/target/tmp/figure8-exact"
rm -rf "$dir" && mkdir -p "$dir"
cat > "$dir/bug-kinds.toml" <<KINDS
[kind.rust-commit-old-term]
description = "rust-node with the planted bug commit-old-term (TEST ONLY, wrong on purpose)"
command = [
  "$root/target/release/rust-node", "{id}", "{port}", "{peers}",
  "--host", "{host}", "--data-dir", "{data_dir}", "--journal", "{journal}",
  "--election-timeout-ms", "{election_timeout_ms}", "--heartbeat-ms", "{heartbeat_ms}",
  "--bug", "commit-old-term",
]
KINDS
# Node 1 (S1) gets the bug; everything else is the shipped suite.
sed -e "s|^include = \[\"kinds.toml\"\]|include = [\"$root/suites/kinds.toml\", \"bug-kinds.toml\"]|" \
    -e '/^id = 1$/{n;s/^kind = "rust"$/kind = "rust-commit-old-term"/}' \
    "$root/suites/msg-figure8-exact.toml" > "$dir/figure8-bug.toml"
grep -q 'kind = "rust-commit-old-term"' "$dir/figure8-bug.toml" || { echo "copy failed"; exit 1; }
ok=0
"$root/target/release/raft-harness" run "$root/suites/msg-figure8-exact.toml" > "$dir/correct.out" 2>&1
c=$?
echo "correct nodes: exit $c (want 0)"; [ $c -eq 0 ] || ok=1
"$root/target/release/raft-harness" run "$dir/figure8-bug.toml" > "$dir/bug.out" 2>&1
b=$?
echo "S1 with --bug commit-old-term: exit $b (want 1)"; [ $b -eq 1 ] || ok=1
grep -E '^  (commit_safety|leader_completeness|durability|state_machine_safety) ' "$dir/bug.out"
grep -qE '^  commit_safety +FAIL' "$dir/bug.out" || { echo "commit_safety did not fail"; ok=1; }
exit $ok

#!/usr/bin/env bash
# Runs the java-node test suite (JUnit 5 via Surefire: unit tests of the Raft core, storage,
# state machine, command line and the shared scenario corpus (../scenarios), plus real-process
# cluster tests on ports 23101-23203), then
# prints one "N passed, N failed" line from the Surefire reports. Exit status is Maven's.
# Our sources (main and test) compile with -Xlint:all -Werror (pom.xml; generated protobuf/grpc
# classes excluded).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# (Maven 3.8 prints bare colour resets even in batch mode; strip them.)
mvn -B -q -Dstyle.color=never -f "$here/pom.xml" verify 2>&1 | sed 's/\x1b\[[0-9;]*m//g'
rc=${PIPESTATUS[0]}
reports=("$here"/target/surefire-reports/TEST-*.xml)
if [[ -f "${reports[0]}" ]]; then
    total=0 failed=0 skipped=0
    for f in "${reports[@]}"; do
        line="$(grep -m1 '<testsuite ' "$f")"
        get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$line"; }
        total=$((total + $(get tests)))
        failed=$((failed + $(get failures) + $(get errors)))
        skipped=$((skipped + $(get skipped)))
    done
    echo "java-node: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
fi
exit $rc

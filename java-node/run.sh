#!/usr/bin/env bash
# Starts the Java node with start-up friendly JVM flags:
#   java-node/run.sh <id> <port> <peer>... [options]   (same arguments as java -jar raft-node.jar)
# C1 only and the serial GC start fastest for a small server; the AppCDS archive written by
# build.sh (when present and newer than the jar) saves most class loading. JAVA_OPTS is appended.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jar="$here/target/raft-node.jar"
jsa="$here/target/raft-node.jsa"
if [[ ! -f "$jar" ]]; then
    echo "error: $jar is missing; run java-node/build.sh first" >&2
    exit 1
fi
flags=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData -Xss512k)
if [[ -f "$jsa" && "$jsa" -nt "$jar" ]]; then
    flags+=(-XX:SharedArchiveFile="$jsa" -Xlog:cds*=off)
fi
# shellcheck disable=SC2086
exec java "${flags[@]}" ${JAVA_OPTS:-} -jar "$jar" "$@"

#!/usr/bin/env bash
# Builds java-node/target/raft-node.jar (Maven, tests skipped) when pom.xml, src/ or
# ../proto/raft_service.proto changed since the last successful build, then records the classes
# a running node loads in an AppCDS archive (target/raft-node.jsa) that run.sh uses to start
# faster. Works from any directory. Exit status: 0 built or up to date, non-zero on failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
target="$here/target"
jar="$target/raft-node.jar"
jsa="$target/raft-node.jsa"
stamp="$target/build.stamp"

log() { echo "java-node/build.sh: $*" >&2; }

inputs_hash() {
    (
        cd "$here"
        find pom.xml src ../proto/raft_service.proto build.sh -type f -print0 \
            | LC_ALL=C sort -z | xargs -0 sha256sum
    ) | sha256sum | cut -d' ' -f1
}


# AppCDS training: two nodes elect a leader and replicate for a moment, so the archive holds the
# server, client, election and replication classes. Best effort: without it run.sh still works.
train_cds() {
    local dir port1 port2 p1 p2 i
    dir="$(mktemp -d)"
    port1=$((30000 + RANDOM % 20000))
    port2=$((port1 + 1))
    java -XX:ArchiveClassesAtExit="$jsa.tmp" -Xlog:cds*=off -XX:TieredStopAtLevel=1 \
        -XX:+UseSerialGC -jar "$jar" 1 "$port1" "2=127.0.0.1:$port2" --data-dir "$dir/d1" \
        --journal "$dir/j1.jsonl" --election-timeout-ms 100-200 --heartbeat-ms 20 \
        </dev/null >/dev/null 2>"$dir/err1" &
    p1=$!
    java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -jar "$jar" 2 "$port2" "1=127.0.0.1:$port1" \
        --election-timeout-ms 100-200 --heartbeat-ms 20 </dev/null >/dev/null 2>"$dir/err2" &
    p2=$!
    for i in $(seq 1 100); do
        grep -q "is Leader" "$dir/err1" "$dir/err2" 2>/dev/null && break
        kill -0 "$p1" 2>/dev/null || break
        sleep 0.1
    done
    sleep 0.5
    kill -TERM "$p1" "$p2" 2>/dev/null || true
    local rc=0
    wait "$p1" || rc=$?
    wait "$p2" || true
    if [[ $rc -eq 0 && -s "$jsa.tmp" ]]; then
        mv "$jsa.tmp" "$jsa"
        log "start-up archive $jsa written"
    else
        rm -f "$jsa.tmp"
        log "warning: no start-up archive (training run exited $rc); run.sh starts without it"
    fi
    rm -rf "$dir"
}
hash="$(inputs_hash)"
if [[ -f "$jar" && -f "$stamp" && "$(cat "$stamp")" == "$hash" ]]; then
    if [[ -f "$jsa" && "$jsa" -nt "$jar" ]]; then
        log "up to date ($jar)"
    else
        log "jar up to date; refreshing the start-up archive"
        train_cds
    fi
    exit 0
fi

log "building $jar (mvn package -DskipTests)"
rm -f "$stamp" "$jsa"
# (Maven 3.8 prints bare colour resets even in batch mode; strip them.)
mvn -B -q -Dstyle.color=never -f "$here/pom.xml" package -DskipTests 2>&1 \
    | sed 's/\x1b\[[0-9;]*m//g' >&2 || { log "error: maven build failed"; exit 1; }
[[ -f "$jar" ]] || { log "error: maven did not produce $jar"; exit 1; }
log "training the start-up archive"
train_cds
echo "$hash" >"$stamp"
log "built $jar"

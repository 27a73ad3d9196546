#!/usr/bin/env bash
# Builds java-node/target/raft-node.jar (Maven, tests skipped) when pom.xml, src/ or
# ../proto/raft_service.proto changed since the last successful build, then records the classes
# a running node loads in an AppCDS archive (target/raft-node.jsa) that run.sh uses to start
# faster; the training nodes run in a private network namespace and listen on no host port.
# Works from any directory. Exit status: 0 built or up to date, non-zero on failure.
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
# server, client, election and replication classes. They run in a private network namespace
# (`unshare -n` as root, else `unshare -rn` with an unprivileged user namespace), so they listen
# on no host port: builds run outside a netns, next to other work. Best effort: without a
# private namespace (or if training fails) there is no archive, and run.sh still works.
train_cds() {
    local ns=()
    if ! command -v unshare >/dev/null || ! command -v ip >/dev/null; then
        log "warning: no start-up archive (training needs unshare and ip for a private network namespace); run.sh starts without it"
        return 0
    elif unshare -n true 2>/dev/null; then
        ns=(unshare -n)
    elif unshare -rn true 2>/dev/null; then
        ns=(unshare -rn)
    else
        log "warning: no start-up archive (cannot create a private network namespace: not root and no user namespaces); run.sh starts without it"
        return 0
    fi
    local rc=0
    "${ns[@]}" bash "$here/build.sh" --train-cds-in-private-netns || rc=$?
    if [[ $rc -eq 0 && -s "$jsa.tmp" ]]; then
        mv "$jsa.tmp" "$jsa"
        log "start-up archive $jsa written"
    else
        rm -f "$jsa.tmp"
        log "warning: no start-up archive (training run exited $rc); run.sh starts without it"
    fi
}

# The training itself, run by train_cds inside the private network namespace: the ports are
# fixed, as nothing else listens there. Writes $jsa.tmp; exits with node 1's status.
train_cds_here() {
    local p1 p2 i
    ip link set lo up
    dir="$(mktemp -d)"
    trap 'rm -rf "$dir"' EXIT # (global: the trap runs after the function returned)
    java -XX:ArchiveClassesAtExit="$jsa.tmp" -Xlog:cds*=off -XX:TieredStopAtLevel=1 \
        -XX:+UseSerialGC -jar "$jar" 1 5001 "2=127.0.0.1:5002" --data-dir "$dir/d1" \
        --journal "$dir/j1.jsonl" --election-timeout-ms 100-200 --heartbeat-ms 20 \
        </dev/null >/dev/null 2>"$dir/err1" &
    p1=$!
    java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -jar "$jar" 2 5002 "1=127.0.0.1:5001" \
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
    return "$rc"
}

if [[ "${1:-}" == "--train-cds-in-private-netns" ]]; then
    train_cds_here
    exit $?
fi

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

#!/usr/bin/env bash
# Builds the three node images from the project's own build outputs:
#   raft-harness/rust-node, raft-harness/python-node, raft-harness/java-node  (tag :latest)
# Steps: the project builds (cargo release rust-node, python-node/setup.sh, java-node/build.sh),
# a small staged context per image (only the files the node runs), then `docker build`
# (the engine's layer cache makes an unchanged rebuild take a second or two).
#   docker/build.sh                    BASE=raft-harness/base:bookworm, made by docker/base.sh
#   BASE=debian:bookworm-slim docker/build.sh   for an engine that can pull
# DOCKER=... picks the client (default: docker on PATH). The classic builder is used
# (DOCKER_BUILDKIT=0): Debian's engine 20.10 has no buildx plugin.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
docker="${DOCKER:-docker}"
base="${BASE:-raft-harness/base:bookworm}"
export DOCKER_BUILDKIT=0
say() { echo "docker/build.sh: $*" >&2; }
if [[ "$base" == raft-harness/base:* ]]; then
    DOCKER="$docker" "$here/base.sh" "$base"
fi
if [[ -z "${SKIP_PROJECT_BUILD:-}" ]]; then
    say "project builds"
    (cd "$repo" && cargo build --release --bin rust-node >&2)
    "$repo/python-node/setup.sh"
    "$repo/java-node/build.sh"
fi
stage="$(mktemp -d /tmp/raft-harness-stage.XXXXXX)"
trap 'rm -rf "$stage"' EXIT
# rust
mkdir -p "$stage/rust/target/release"
cp "$repo/target/release/rust-node" "$stage/rust/target/release/"
# The release profile keeps debuginfo (48 MB); the image needs none.
strip "$stage/rust/target/release/rust-node" 2>/dev/null || true
# python: sources + runtime deps only (no pip, pytest, grpc_tools)
p="$stage/python/python-node"
mkdir -p "$p/deps"
cp -r "$repo/python-node/raft_server.py" "$repo/python-node/raft_client.py" \
    "$repo/python-node/raftnode" "$repo/python-node/raft_pb" "$p/"
site=$(echo "$repo"/python-node/.venv/lib/python3*/site-packages)
for d in grpc google typing_extensions.py grpcio-*.dist-info protobuf-*.dist-info \
    typing_extensions-*.dist-info; do
    cp -r "$site"/$d "$p/deps/"
done
find "$stage/python" -name __pycache__ -prune -exec rm -rf {} +
# java
mkdir -p "$stage/java/java-node/target"
cp "$repo/java-node/run.sh" "$stage/java/java-node/"
cp "$repo/java-node/target/raft-node.jar" "$stage/java/java-node/target/"
for k in rust python java; do
    t0=$(date +%s.%N)
    "$docker" build -q --build-arg "BASE=$base" -t "raft-harness/$k-node:latest" \
        -f "$here/$k.Dockerfile" "$stage/$k" >/dev/null
    say "raft-harness/$k-node:latest built in $(echo "$(date +%s.%N) - $t0" | bc) s (BASE=$base)"
done

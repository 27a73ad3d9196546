#!/usr/bin/env bash
# The container step of tests/run-all.sh (issue 17). What it does, in order:
#  1. installs Debian's docker.io (engine 20.10), docker-compose (1.29) and debootstrap with apt
#     where a command is missing (root only; nothing is installed when all are present);
#  2. runs `cargo test --release --test docker -- --ignored`, which starts dockerd if none
#     answers (and stops that one after), builds the base image once with debootstrap (cached as
#     raft-harness/base:bookworm; nothing is pulled) and the three node images, runs
#     suites/docker/{failover,partition-leader}.toml and the compose round trip.
# Runs in the host's network namespace: the harness reaches containers through ports
# published on 127.0.0.1 (30401-30425).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v iptables-restore >/dev/null || missing+=(iptables)
if ((${#missing[@]})); then
    echo "docker/test.sh: installing ${missing[*]} (apt-get)" >&2
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
fi
exec cargo test --release --test docker -- --ignored --nocapture

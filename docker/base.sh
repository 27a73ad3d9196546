#!/usr/bin/env bash
# Makes the local base image for the node images when it is missing, without any registry:
# a Debian bookworm rootfs from `debootstrap --variant=minbase` with what the three reference
# nodes need at run time (python3 for python-node, a headless JRE for java-node; rust-node
# needs only libc), then `docker import`. Cached: does nothing when the image exists
# (FORCE=1 rebuilds). Needs root, debootstrap and a Debian mirror (MIRROR=...).
#   docker/base.sh [IMAGE]      default IMAGE: raft-harness/base:bookworm
set -euo pipefail
image="${1:-raft-harness/base:bookworm}"
mirror="${MIRROR:-http://deb.debian.org/debian}"
docker="${DOCKER:-docker}"
say() { echo "docker/base.sh: $*" >&2; }
if [[ -z "${FORCE:-}" ]] && "$docker" image inspect "$image" >/dev/null 2>&1; then
    say "$image exists (cached; FORCE=1 to rebuild)"
    exit 0
fi
command -v debootstrap >/dev/null || { say "error: debootstrap missing (apt-get install debootstrap)"; exit 2; }
[[ "$(id -u)" == 0 ]] || { say "error: debootstrap needs root"; exit 2; }
root="$(mktemp -d /tmp/raft-harness-base.XXXXXX)"
trap 'rm -rf "$root"' EXIT
start=$(date +%s.%N)
say "debootstrap bookworm into $root (minbase + python3, openjdk-17-jre-headless)"
debootstrap --variant=minbase --include=python3,openjdk-17-jre-headless \
    bookworm "$root" "$mirror" >"$root.log" 2>&1 || { tail -20 "$root.log" >&2; exit 1; }
rm -f "$root.log"
# Smaller image: no apt lists, caches or docs (the nodes never install anything).
rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* \
    "$root"/usr/share/man/* "$root"/usr/share/locale/*
mid=$(date +%s.%N)
tar -C "$root" -c . | "$docker" import -c 'CMD ["/bin/bash"]' - "$image" >/dev/null
end=$(date +%s.%N)
say "$image: debootstrap $(echo "$mid - $start" | bc) s, import $(echo "$end - $mid" | bc) s"

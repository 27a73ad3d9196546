#!/usr/bin/env bash
# Build step of python-node: venv at python-node/.venv, pinned requirements, and gRPC stubs
# generated from ../proto/raft_service.proto into python-node/raft_pb/ (git-ignored).
# Idempotent and quick when nothing changed: each step is skipped when its stamp (a hash of
# its inputs) matches. Prints what it does to stderr; any failure exits non-zero.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
proto_dir="$(cd "$here/../proto" 2>/dev/null && pwd)" || {
    echo "setup.sh: error: proto directory $here/../proto not found" >&2
    exit 1
}
proto="$proto_dir/raft_service.proto"
venv="$here/.venv"
out="$here/raft_pb"
python="${PYTHON:-python3}"

say() { echo "setup.sh: $*" >&2; }
die() { echo "setup.sh: error: $*" >&2; exit 1; }

[ -f "$proto" ] || die "$proto not found"
[ -f "$here/requirements.txt" ] || die "$here/requirements.txt not found"

# Two builds started at once (the harness may build in parallel) must not race on the venv.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$here/.setup.lock"
    flock 9
fi

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# pip's words when it cannot reach the registry at all (no route, no DNS, refused, timed out).
offline_pattern='Failed to establish a new connection|Network is unreachable|name resolution|Name or service not known|No route to host|Connection refused|ConnectTimeoutError|ProxyError'

# `pip install -r requirements.txt` from the registry; its output goes to stderr. A failure
# says whether the registry was unreachable (e.g. inside `unshare -n`) and what to do then.
pip_install_online() {
    local piplog rc=0
    piplog="$(mktemp)"
    "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$here/requirements.txt" \
        >"$piplog" 2>&1 || rc=$?
    cat "$piplog" >&2
    if [ "$rc" -ne 0 ] && grep -qE "$offline_pattern" "$piplog"; then
        rm -f "$piplog"
        die "the python-node build needs the package registry, which is unreachable from here" \
            "(inside a network namespace such as \`unshare -n\`?): run python-node/setup.sh once" \
            "outside the network namespace (it installs $here/requirements.txt into $venv), then" \
            "build again; later builds work offline"
    fi
    rm -f "$piplog"
    [ "$rc" -eq 0 ] || die "pip install -r requirements.txt failed (exit $rc; pip's output is above)"
}

req_hash="$(hash_of "$here/requirements.txt")"
req_stamp="$venv/.requirements.sha256"
if [ -x "$venv/bin/python" ] && [ -f "$req_stamp" ] && [ "$(cat "$req_stamp")" = "$req_hash" ]; then
    say "venv up to date ($venv)"
else
    if [ ! -x "$venv/bin/python" ]; then
        command -v "$python" >/dev/null 2>&1 || die "$python not found (set PYTHON=...)"
        say "creating venv $venv with $("$python" --version 2>&1)"
        "$python" -m venv "$venv" || die "could not create the venv (on Debian: apt-get install python3-venv)"
    fi
    # Offline first: a venv that already holds every pinned requirement (or local wheels in
    # PIP_FIND_LINKS) needs no registry, so a build inside a network namespace still works.
    if "$venv/bin/python" -m pip install --disable-pip-version-check -q --no-index \
        -r "$here/requirements.txt" >/dev/null 2>&1; then
        say "venv has every pinned requirement (checked offline, no registry needed)"
    else
        say "installing requirements.txt into $venv (needs the package registry)"
        pip_install_online
    fi
    echo "$req_hash" >"$req_stamp"
fi

stub_hash="$(hash_of "$proto" "$here/requirements.txt")"
stub_stamp="$out/.proto.sha256"
if [ -f "$stub_stamp" ] && [ "$(cat "$stub_stamp")" = "$stub_hash" ] \
    && [ -f "$out/raft_service_pb2.py" ] && [ -f "$out/raft_service_pb2_grpc.py" ]; then
    say "stubs up to date ($out)"
else
    say "generating stubs from $proto into $out"
    tmp="$(mktemp -d "$here/.raft_pb.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    # Typed stubs (.pyi) for the messages and the service come from mypy-protobuf's plugins.
    # "-Iraft_pb=DIR" makes the generated modules import each other as raft_pb.*, so the
    # package works with only python-node/ on sys.path.
    "$venv/bin/python" -m grpc_tools.protoc "-Iraft_pb=$proto_dir" \
        --plugin=protoc-gen-mypy="$venv/bin/protoc-gen-mypy" \
        --plugin=protoc-gen-mypy_grpc="$venv/bin/protoc-gen-mypy_grpc" \
        --python_out="$tmp" --mypy_out="$tmp" --grpc_python_out="$tmp" --mypy_grpc_out="$tmp" \
        "$proto_dir/raft_service.proto" || die "protoc failed on $proto"
    touch "$tmp/raft_pb/__init__.py"
    echo "$stub_hash" >"$tmp/raft_pb/.proto.sha256"
    rm -rf "$out"
    mv "$tmp/raft_pb" "$out"
fi
say "ok"

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
    say "installing requirements.txt into $venv"
    "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$here/requirements.txt" >&2 \
        || die "pip install -r requirements.txt failed"
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

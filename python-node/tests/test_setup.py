"""setup.sh is the harness's build step: it must be idempotent and skip work when unchanged."""

import subprocess

from tests.procs import NODE_DIR


def test_setup_is_idempotent_and_quick_when_nothing_changed():
    proc = subprocess.run(
        ["bash", str(NODE_DIR / "setup.sh")], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    assert "venv up to date" in proc.stderr
    assert "stubs up to date" in proc.stderr
    assert (NODE_DIR / "raft_pb" / "raft_service_pb2_grpc.py").is_file()


def test_setup_fails_loudly_without_the_proto(tmp_path):
    copy = tmp_path / "python-node"
    copy.mkdir()
    (copy / "setup.sh").write_text((NODE_DIR / "setup.sh").read_text())
    (copy / "requirements.txt").write_text((NODE_DIR / "requirements.txt").read_text())
    proc = subprocess.run(
        ["bash", str(copy / "setup.sh")], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    assert "setup.sh: error: proto directory" in proc.stderr
    assert not (copy / ".venv").exists()

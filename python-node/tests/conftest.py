"""Shared fixtures: python-node/ on sys.path, node processes that never outlive a test."""

from __future__ import annotations

import itertools
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from tests.procs import NodeSet  # noqa: E402

# Our assigned range is 22000-22999; tests take blocks of 10 from 22100 so that a port left in
# TIME_WAIT by one test is never reused by the next one in the same run.
_port_blocks = itertools.count(22100, 10)


@pytest.fixture
def ports():
    base = next(_port_blocks)
    assert base + 10 <= 23000, "ran out of test ports"
    return list(range(base, base + 10))


@pytest.fixture
def nodes(tmp_path):
    """Starts node processes; kills every one (SIGKILL to its process group) at teardown."""
    ns = NodeSet(tmp_path)
    try:
        yield ns
    finally:
        ns.kill_all()

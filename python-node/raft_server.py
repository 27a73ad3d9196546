#!/usr/bin/env python3
"""python-node: a Raft node (docs/node-contract.md).

    python-node/.venv/bin/python python-node/raft_server.py <id> <port> <peer>... [options]

Finds its package (raftnode/) and the generated stubs (raft_pb/) next to this file, whatever
the current directory. Run python-node/setup.sh once to create the venv and the stubs.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from raftnode.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())

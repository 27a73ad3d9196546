"""python-node: a Raft node speaking proto/raft_service.proto (see docs/node-contract.md)."""

NAME = "python-node"
VERSION = "0.1.0"
IMPLEMENTATION = f"{NAME} {VERSION}"

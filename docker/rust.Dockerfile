# rust-node, the Rust reference node. Built by docker/build.sh from a staged context holding
# target/release/rust-node (the project's own release build). BASE: any Debian bookworm image
# (default debian:bookworm-slim for users with a registry; the tests pass the locally made
# raft-harness/base:bookworm, see docker/base.sh). Paths mirror the repository, so the kinds'
# command lines (suites/kinds.toml) run unchanged in WORKDIR.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
LABEL org.raft-harness.image="rust-node"
WORKDIR /opt/raft-harness
COPY target/release/rust-node target/release/rust-node
# Contract command line: rust-node <id> <port> <id=host:port>... --host 0.0.0.0 [options]
CMD ["target/release/rust-node", "--help"]

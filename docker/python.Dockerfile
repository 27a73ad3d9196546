# python-node, the Python reference node (grpc.aio). Built by docker/build.sh from a staged
# context: python-node/{raft_server.py,raft_client.py,raftnode,raft_pb} and deps/ (grpcio,
# protobuf, typing_extensions copied from python-node/.venv, made by python-node/setup.sh).
# python3 comes from BASE; a base without it gets Debian's python3 (needs a registry/mirror).
ARG BASE=debian:bookworm-slim
FROM ${BASE}
LABEL org.raft-harness.image="python-node"
RUN command -v python3 >/dev/null || { apt-get update \
    && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*; }
WORKDIR /opt/raft-harness
COPY python-node python-node
# The kinds' command names python-node/.venv/bin/python: here that is the image's python3,
# with the runtime deps on PYTHONPATH.
RUN mkdir -p python-node/.venv/bin && ln -s /usr/bin/python3 python-node/.venv/bin/python
ENV PYTHONPATH=/opt/raft-harness/python-node/deps PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
CMD ["python-node/.venv/bin/python", "python-node/raft_server.py", "--help"]

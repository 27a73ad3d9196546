# java-node (grpc-java), the Java reference node. Built by docker/build.sh from a staged
# context: java-node/run.sh and java-node/target/raft-node.jar (the shaded jar of
# java-node/build.sh; its AppCDS archive is host-specific and left out). A headless JRE 17
# comes from BASE; a base without java gets Debian's (needs a registry/mirror).
ARG BASE=debian:bookworm-slim
FROM ${BASE}
LABEL org.raft-harness.image="java-node"
RUN command -v java >/dev/null || { mkdir -p /usr/share/man/man1 && apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
    && rm -rf /var/lib/apt/lists/*; }
WORKDIR /opt/raft-harness
COPY java-node java-node
CMD ["java-node/run.sh", "--help"]

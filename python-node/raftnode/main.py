"""Entry point of the node: parse, recover, bind, serve until SIGTERM/SIGINT.

Exit codes: 0 clean stop, 1 start-up or runtime failure, 2 usage error. Every error is one
`error: ...` line on stderr, never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys

from . import IMPLEMENTATION
from .cli import EXIT_USAGE, CommandLineExit, missing_stubs, parse_command_line
from .config import USAGE, Config, parse_args

EXIT_OK = 0
EXIT_FAILURE = 1
__all__ = ["EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "main"]


class StartupError(Exception):
    pass


def _log_level() -> int:
    raw = os.environ.get("LOG_LEVEL") or os.environ.get("RUST_LOG") or "info"
    # RUST_LOG may look like "raft=debug,tonic=warn": take the first level word found.
    for part in raw.replace(",", " ").split():
        word = part.rpartition("=")[2].strip().upper()
        if word == "TRACE":
            word = "DEBUG"
        if word == "WARN":
            word = "WARNING"
        level = logging.getLevelName(word)
        if isinstance(level, int):
            return level
    return logging.INFO


def _bind_failure(host: str, port: int) -> str:
    """grpc only says that binding failed; find out why with a plain socket."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, _, _, _, addr = infos[0]
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(addr)
    except OSError as e:
        return e.strerror or str(e)
    return "bind failed"


async def serve(cfg: Config) -> int:
    # Imported here so that usage errors are reported without paying for the gRPC import.
    import grpc

    from raft_pb import raft_service_pb2_grpc as pb_grpc

    from .core import HardState
    from .journal import Journal, JournalError
    from .server import SERVER_OPTIONS, RaftNode
    from .storage import FileStorage, MemoryStorage, StorageError

    log = logging.getLogger("raftnode")
    try:
        storage = FileStorage(cfg.data_dir) if cfg.data_dir else MemoryStorage()
        term, voted_for, entries = storage.load()
        journal = Journal(cfg.journal, cfg.node_id)
    except (StorageError, JournalError) as e:
        raise StartupError(str(e)) from None
    node = RaftNode(cfg, storage, journal, HardState(term, voted_for), entries)
    server = grpc.aio.server(options=SERVER_OPTIONS)
    pb_grpc.add_RaftServiceServicer_to_server(node, server)
    try:
        bound = server.add_insecure_port(cfg.address)
    except RuntimeError:
        bound = 0
    if bound == 0:
        reason = _bind_failure(cfg.host, cfg.port)
        raise StartupError(f"<port> {cfg.port}: cannot listen on {cfg.address}: {reason}")

    if not cfg.data_dir:
        log.info("no --data-dir: state is in memory only")

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    exit_code = EXIT_OK

    def fatal(msg: str) -> None:
        nonlocal exit_code
        print(f"error: {msg}", file=sys.stderr, flush=True)
        exit_code = EXIT_FAILURE
        stop.set()

    node.on_fatal = fatal
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    journal.write(
        "start", implementation=IMPLEMENTATION, term=term, voted_for=voted_for, log_len=len(entries)
    )
    await server.start()
    node.start()  # journals the core's first role line
    log.info(
        "node %d (%s) serving on %s, term %d, log length %d, peers %s",
        cfg.node_id,
        IMPLEMENTATION,
        cfg.address,
        term,
        len(entries),
        ", ".join(f"{p.id}={p.address}" for p in cfg.peers) or "none",
    )

    await stop.wait()
    log.info("stopping")
    await node.stop()
    if isinstance(storage, FileStorage):
        log.info(
            "storage stats fsyncs=%d appends=%d entries=%d proposal_flushes=%d",
            storage.fsyncs,
            storage.appends,
            storage.entries_written,
            node.flushes,
        )
    if exit_code == EXIT_OK:
        journal.write("stop")
    await server.stop(0.5)
    journal.close()
    storage.close()
    return exit_code


def main(argv: list[str] | None = None) -> int:
    try:
        cfg = parse_command_line(argv, USAGE, parse_args)
    except CommandLineExit as e:
        return e.code
    logging.basicConfig(
        stream=sys.stderr,
        level=_log_level(),
        format=f"%(asctime)s %(levelname)s node{cfg.node_id}: %(message)s",
    )
    try:
        import raft_pb.raft_service_pb2  # noqa: F401
    except ImportError as e:
        missing_stubs(e)
        return EXIT_FAILURE
    # Until the event loop installs its handlers, SIGTERM ends the process quietly with 0.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(EXIT_OK))
    try:
        return asyncio.run(serve(cfg))
    except StartupError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_OK

"""Command line of the node (contract section 1). No gRPC import here: bad input fails fast.

    <id> <port> <peer>... [--host H] [--data-dir DIR] [--journal FILE]
                          [--election-timeout-ms MIN-MAX] [--heartbeat-ms N]

Options may come before, between or after the positionals, as `--opt VALUE` or `--opt=VALUE`
(argparse, through cli.py: every error is one UsageError line naming the value).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .cli import ArgParser, Once, UsageError, parse_int, parse_port, typed

__all__ = ["USAGE", "Config", "Peer", "UsageError", "parse_args", "parse_peer"]

USAGE = (
    "usage: raft_server.py <id> <port> <peer>... [--host H] [--data-dir DIR] [--journal FILE]"
    " [--election-timeout-ms MIN-MAX] [--heartbeat-ms N] [--max-inflight-appends N]\n"
    "  <peer> is ID=HOST:PORT, or HOST:PORT whose id is PORT-5000"
)


@dataclass
class Peer:
    id: int
    host: str
    port: int

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass
class Config:
    node_id: int
    port: int
    peers: list[Peer] = field(default_factory=list)
    host: str = "127.0.0.1"
    data_dir: str | None = None
    journal: str | None = None
    election_min_ms: int = 150
    election_max_ms: int = 300
    heartbeat_ms: int = 50
    # Pipelining (issue 15 §3): appends in flight per follower; 1 by default, as the Rust node
    # (a window of 4 lowered throughput on the 2-core bench machine, rust-node/server.rs).
    max_inflight_appends: int = 1

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def parse_peer(text: str) -> Peer:
    """`ID=HOST:PORT`, or `HOST:PORT` whose id is PORT-5000 (ids are >= 1)."""
    what = f"peer '{text}'"
    id_part, eq, addr = text.partition("=")
    if not eq:
        id_part, addr = "", text
    host, sep, port_text = addr.rpartition(":")
    if not sep or not host or not port_text or any(c.isspace() for c in host):
        raise UsageError(f"{what}: expected ID=HOST:PORT or HOST:PORT")
    port = parse_port(port_text, f"{what}: port")
    peer_id = parse_int(id_part, f"{what}: id") if eq else port - 5000
    if peer_id < 1:
        raise UsageError(f"{what}: id {peer_id} must be >= 1 (a HOST:PORT peer's id is PORT-5000)")
    return Peer(peer_id, host, port)


def _node_id(text: str) -> int:
    node_id = parse_int(text, "<id>")
    if node_id < 1:
        raise UsageError(f"<id> '{text}': must be >= 1")
    return node_id


def _nonempty(what: str, check_host: bool = False) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if not text:
            raise UsageError(f"option {what}: empty value")
        if check_host and any(c.isspace() for c in text):
            raise UsageError(f"option {what} '{text}': bad host")
        return text

    return parse


def _election(text: str) -> tuple[int, int]:
    what = f"option --election-timeout-ms '{text}'"
    lo, sep, hi = text.partition("-")
    if not sep:
        raise UsageError(f"{what}: expected MIN-MAX")
    low = parse_int(lo, "option --election-timeout-ms MIN")
    high = parse_int(hi, "option --election-timeout-ms MAX")
    if low < 1:
        raise UsageError(f"{what}: MIN must be >= 1")
    if low >= high:
        raise UsageError(f"{what}: MIN must be < MAX")
    return low, high


def _heartbeat(text: str) -> int:
    ms = parse_int(text, "option --heartbeat-ms")
    if ms < 1:
        raise UsageError(f"option --heartbeat-ms '{text}': must be >= 1")
    return ms


def _max_inflight(text: str) -> int:
    n = parse_int(text, "option --max-inflight-appends")
    if not 1 <= n <= 1024:
        raise UsageError(f"option --max-inflight-appends '{text}': must be 1..1024")
    return n


def _parser() -> ArgParser:
    p = ArgParser("raft_server.py")
    p.add_argument("node_id", metavar="<id>", nargs="?", type=_node_id)
    p.add_argument("port", metavar="<port>", nargs="?", type=typed(parse_port, "<port>"))
    p.add_argument("peers", metavar="<peer>", nargs="*", type=parse_peer)
    p.add_argument("--host", action=Once, type=_nonempty("--host", check_host=True))
    p.add_argument("--data-dir", action=Once, type=_nonempty("--data-dir"))
    p.add_argument("--journal", action=Once, type=_nonempty("--journal"))
    p.add_argument("--election-timeout-ms", action=Once, type=_election)
    p.add_argument("--heartbeat-ms", action=Once, type=_heartbeat)
    p.add_argument("--max-inflight-appends", action=Once, type=_max_inflight)
    return p


def parse_args(argv: list[str]) -> Config:
    """Parse argv (without the program name). Raises UsageError."""
    ns = _parser().parse_intermixed_args(argv)
    if ns.port is None:
        raise UsageError("missing <id> and <port>" if ns.node_id is None else "missing <port>")
    peers: list[Peer] = ns.peers
    seen: set[int] = set()
    for peer in peers:
        if peer.id == ns.node_id:
            raise UsageError(
                f"peer '{peer.id}={peer.address}': has this node's own id {ns.node_id}"
            )
        if peer.id in seen:
            raise UsageError(f"peer '{peer.id}={peer.address}': id {peer.id} given twice")
        seen.add(peer.id)
    cfg = Config(node_id=ns.node_id, port=ns.port, peers=peers)
    if ns.host is not None:
        cfg.host = ns.host
    cfg.data_dir, cfg.journal = ns.data_dir, ns.journal
    if ns.election_timeout_ms is not None:
        cfg.election_min_ms, cfg.election_max_ms = ns.election_timeout_ms
    if ns.heartbeat_ms is not None:
        cfg.heartbeat_ms = ns.heartbeat_ms
    if ns.max_inflight_appends is not None:
        cfg.max_inflight_appends = ns.max_inflight_appends
    if cfg.heartbeat_ms >= cfg.election_min_ms:
        raise UsageError(
            f"option --heartbeat-ms {cfg.heartbeat_ms}: must be less than the minimum election"
            f" timeout {cfg.election_min_ms}"
        )
    return cfg

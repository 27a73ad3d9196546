"""Command line of the node (contract section 1). No gRPC import here: bad input fails fast.

    <id> <port> <peer>... [--host H] [--data-dir DIR] [--journal FILE]
                          [--election-timeout-ms MIN-MAX] [--heartbeat-ms N]

Options may come before or after the positionals, as `--opt VALUE` or `--opt=VALUE`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

USAGE = (
    "usage: raft_server.py <id> <port> <peer>... [--host H] [--data-dir DIR] [--journal FILE]"
    " [--election-timeout-ms MIN-MAX] [--heartbeat-ms N]\n"
    "  <peer> is ID=HOST:PORT, or HOST:PORT whose id is PORT-5000"
)

OPTIONS = ("--host", "--data-dir", "--journal", "--election-timeout-ms", "--heartbeat-ms")


class UsageError(Exception):
    """Bad command line; the message names the argument and the problem."""


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

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def _int(text: str, what: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise UsageError(f"{what} '{text}': not an integer") from None


def _port(text: str, what: str) -> int:
    port = _int(text, what)
    if not 1 <= port <= 65535:
        raise UsageError(f"{what} '{text}': must be between 1 and 65535")
    return port


def parse_peer(text: str) -> Peer:
    what = f"peer '{text}'"
    id_part: str | None = None
    addr = text
    if "=" in text:
        id_part, addr = text.split("=", 1)
    host, sep, port_text = addr.rpartition(":")
    if not sep or not host or not port_text:
        raise UsageError(f"{what}: expected ID=HOST:PORT or HOST:PORT")
    if any(c.isspace() for c in host):
        raise UsageError(f"{what}: bad host '{host}'")
    try:
        port = int(port_text, 10)
    except ValueError:
        raise UsageError(f"{what}: port '{port_text}' is not an integer") from None
    if not 1 <= port <= 65535:
        raise UsageError(f"{what}: port {port} must be between 1 and 65535")
    if id_part is not None:
        try:
            peer_id = int(id_part, 10)
        except ValueError:
            raise UsageError(f"{what}: id '{id_part}' is not an integer") from None
    else:
        peer_id = port - 5000
    if peer_id < 1:
        raise UsageError(f"{what}: id {peer_id} must be >= 1 (a HOST:PORT peer's id is PORT-5000)")
    return Peer(peer_id, host, port)


def parse_args(argv: list[str]) -> Config:
    """Parse argv (without the program name). Raises UsageError."""
    opts: dict[str, str] = {}
    positionals: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            positionals.extend(argv[i + 1 :])
            break
        if arg.startswith("--"):
            name, eq, value = arg.partition("=")
            if name not in OPTIONS:
                raise UsageError(f"unknown option '{name}'")
            if not eq:
                if i + 1 >= len(argv):
                    raise UsageError(f"option {name}: missing value")
                i += 1
                value = argv[i]
            if name in opts:
                raise UsageError(f"option {name}: given twice")
            opts[name] = value
        elif arg.startswith("-") and len(arg) > 1 and not arg[1].isdigit():
            raise UsageError(f"unknown option '{arg}'")
        else:
            positionals.append(arg)
        i += 1

    if len(positionals) < 2:
        raise UsageError("missing <id> and <port>" if not positionals else "missing <port>")
    node_id = _int(positionals[0], "<id>")
    if node_id < 1:
        raise UsageError(f"<id> '{positionals[0]}': must be >= 1")
    port = _port(positionals[1], "<port>")
    peers = [parse_peer(p) for p in positionals[2:]]
    seen: set[int] = set()
    for p in peers:
        if p.id == node_id:
            raise UsageError(f"peer '{p.id}={p.address}': has this node's own id {node_id}")
        if p.id in seen:
            raise UsageError(f"peer '{p.id}={p.address}': id {p.id} given twice")
        seen.add(p.id)

    cfg = Config(node_id=node_id, port=port, peers=peers)
    if "--host" in opts:
        if not opts["--host"] or any(c.isspace() for c in opts["--host"]):
            raise UsageError(f"option --host '{opts['--host']}': bad host")
        cfg.host = opts["--host"]
    if "--data-dir" in opts:
        if not opts["--data-dir"]:
            raise UsageError("option --data-dir: empty path")
        cfg.data_dir = opts["--data-dir"]
    if "--journal" in opts:
        if not opts["--journal"]:
            raise UsageError("option --journal: empty path")
        cfg.journal = opts["--journal"]
    if "--election-timeout-ms" in opts:
        text = opts["--election-timeout-ms"]
        lo, sep, hi = text.partition("-")
        if not sep:
            raise UsageError(f"option --election-timeout-ms '{text}': expected MIN-MAX")
        cfg.election_min_ms = _int(lo, "option --election-timeout-ms MIN")
        cfg.election_max_ms = _int(hi, "option --election-timeout-ms MAX")
        if cfg.election_min_ms < 1:
            raise UsageError(f"option --election-timeout-ms '{text}': MIN must be >= 1")
        if cfg.election_min_ms >= cfg.election_max_ms:
            raise UsageError(f"option --election-timeout-ms '{text}': MIN must be < MAX")
    if "--heartbeat-ms" in opts:
        cfg.heartbeat_ms = _int(opts["--heartbeat-ms"], "option --heartbeat-ms")
        if cfg.heartbeat_ms < 1:
            raise UsageError(f"option --heartbeat-ms '{cfg.heartbeat_ms}': must be >= 1")
    if cfg.heartbeat_ms >= cfg.election_min_ms:
        raise UsageError(
            f"option --heartbeat-ms {cfg.heartbeat_ms}: must be less than the minimum election"
            f" timeout {cfg.election_min_ms}"
        )
    return cfg

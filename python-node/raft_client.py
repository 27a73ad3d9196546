#!/usr/bin/env python3
"""Client of a raft-harness cluster (replaces the original one-shot script).

    raft_client.py [--node HOST:PORT | --cluster HOST:PORT,HOST:PORT,...] [--timeout S] [COMMAND...]

With a COMMAND (e.g. `SET x 1`, `GET x`, `CAS x 1 2`, `DEL x`) sends it once and prints
`OUTCOME text`; without one, reads commands from stdin, one per line. Addresses are tried in
turn; a rejection that names the leader (leader_address) is followed, and "No leader
available" is retried until --timeout. A command is never re-sent once it may have been
received (that answer is UNKNOWN), so a write is applied at most once.

Exit codes: 0 applied, 1 rejected or no node reachable, 2 usage error, 3 unknown outcome.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

if TYPE_CHECKING:
    import grpc

from raftnode.cli import (  # noqa: E402
    ArgParser,
    CommandLineExit,
    Once,
    UsageError,
    missing_stubs,
    parse_command_line,
    split_address,
    typed,
)

EXIT_APPLIED, EXIT_REJECTED, EXIT_UNKNOWN = 0, 1, 3
USAGE = (
    "usage: raft_client.py [--node HOST:PORT | --cluster HOST:PORT,...] [--timeout SECONDS]"
    " [COMMAND...]"
)


@dataclass
class Args:
    addresses: list[str]
    timeout: float
    command: str | None


def _address(text: str, what: str) -> str:
    split_address(text, what)
    return text


def _timeout(text: str) -> float:
    try:
        timeout = float(text)
    except ValueError:
        raise UsageError(f"option --timeout '{text}': not a number") from None
    if not timeout > 0:
        raise UsageError(f"option --timeout '{text}': must be > 0")
    return timeout


def _cluster(text: str) -> list[str]:
    parts = [p for p in text.split(",") if p]
    if not parts:
        raise UsageError("option --cluster: empty address list")
    return [_address(p, "option --cluster address") for p in parts]


def parse_args(argv: list[str]) -> Args:
    """Options first, then the command words (the first word ends the options). Raises
    UsageError naming the bad value."""
    p = ArgParser("raft_client.py")
    p.add_argument("--node", action="append", default=[], type=typed(_address, "option --node"))
    p.add_argument("--cluster", action="append", default=[], type=_cluster)
    p.add_argument("--timeout", action=Once, type=_timeout)
    p.add_argument("words", nargs=argparse.REMAINDER)
    ns = p.parse_args(argv)
    addresses: list[str] = list(ns.node)
    for group in ns.cluster:
        addresses.extend(group)
    words: list[str] = ns.words[1:] if ns.words[:1] == ["--"] else ns.words
    command = " ".join(" ".join(words).split()) if words else None
    return Args(addresses or ["127.0.0.1:5001"], ns.timeout or 10.0, command)


class Client:
    def __init__(self, addresses: list[str], timeout: float) -> None:
        import grpc

        from raft_pb import raft_service_pb2 as pb
        from raft_pb import raft_service_pb2_grpc as pb_grpc

        self.grpc, self.pb, self.pb_grpc = grpc, pb, pb_grpc
        self.addresses = addresses
        self.timeout = timeout
        self._channels: dict[str, grpc.aio.Channel] = {}

    def _channel(self, address: str) -> grpc.aio.Channel:
        ch = self._channels.get(address)
        if ch is None:
            ch = self.grpc.aio.insecure_channel(
                address,
                options=[
                    ("grpc.enable_http_proxy", 0),
                    ("grpc.initial_reconnect_backoff_ms", 100),
                    ("grpc.max_reconnect_backoff_ms", 1000),
                ],
            )
            self._channels[address] = ch
        return ch

    async def close(self) -> None:
        for ch in self._channels.values():
            await ch.close()

    async def send(self, command: str) -> tuple[str, str, int]:
        """Returns (outcome, text, exit code)."""
        grpc, pb = self.grpc, self.pb
        deadline = time.monotonic() + self.timeout
        order = list(self.addresses)
        pos = 0
        address = order[0]
        last = "no node reachable"
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "REJECTED", last, EXIT_REJECTED
            channel = self._channel(address)
            try:
                await asyncio.wait_for(channel.channel_ready(), min(1.0, remaining))
            except TimeoutError:
                # Never connected, so nothing was sent: safe to try the next node.
                last = f"{address}: unreachable"
                pos = (pos + 1) % len(order)
                address = order[pos]
                continue
            try:
                resp = await self.pb_grpc.RaftServiceStub(channel).ClientRequest(
                    pb.ClientRequestMessage(command=command), timeout=max(0.1, remaining)
                )
            except grpc.RpcError as e:
                return "UNKNOWN", f"{address}: {e.code().name}: {e.details()}", EXIT_UNKNOWN
            result = resp.result if resp.HasField("result") else None
            if resp.outcome == pb.APPLIED or (
                resp.outcome == pb.OUTCOME_UNSPECIFIED and resp.success
            ):
                if result is not None:
                    text = result
                elif command.startswith("GET "):
                    text = "(absent)"
                else:
                    text = resp.message or "(no result)"
                return "APPLIED", text, EXIT_APPLIED
            if resp.outcome == pb.UNKNOWN:
                return "UNKNOWN", resp.message, EXIT_UNKNOWN
            last = f"{address}: {resp.message}"
            if resp.outcome == pb.OUTCOME_UNSPECIFIED and resp.message != "No leader available":
                # An original server failed for another reason: it may have been applied.
                return "UNKNOWN", resp.message, EXIT_UNKNOWN
            if resp.leader_address and resp.leader_address != address:
                address = resp.leader_address  # follow the hint
                continue
            if resp.message == "No leader available":
                await asyncio.sleep(min(0.3, max(0.0, deadline - time.monotonic())))
            pos = (pos + 1) % len(order)
            address = order[pos]


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_command_line(argv, USAGE, parse_args)
    except CommandLineExit as e:
        return e.code
    try:
        client = Client(args.addresses, args.timeout)
    except ImportError as e:
        missing_stubs(e)
        return EXIT_REJECTED
    try:
        return asyncio.run(_run(client, args))
    except KeyboardInterrupt:
        return EXIT_REJECTED


async def _run(client: Client, args: Args) -> int:
    try:
        if args.command is not None:
            outcome, text, code = await client.send(args.command)
            print(f"{outcome} {text}")
            return code
        worst = EXIT_APPLIED
        interactive = sys.stdin.isatty()
        while True:
            if interactive:
                print("> ", end="", file=sys.stderr, flush=True)
            line = sys.stdin.readline()  # blocking is fine: nothing else runs meanwhile
            if not line:
                break
            command = " ".join(line.split())
            if not command:
                continue
            if command in ("quit", "exit"):
                break
            outcome, text, code = await client.send(command)
            print(f"{outcome} {text}", flush=True)
            worst = max(worst, code)
        return worst
    finally:
        await client.close()


if __name__ == "__main__":
    sys.exit(main())

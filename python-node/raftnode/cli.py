"""Command-line pieces shared by the node (config.py, main.py) and raft_client.py: an argparse
parser whose errors are one-line `UsageError`s naming the bad value (exit code 2 at the caller,
never argparse's own exit), options that may be given once, HOST:PORT addresses, and the
`error: ...` printing of a usage failure."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

EXIT_USAGE = 2

T = TypeVar("T")


class UsageError(Exception):
    """Bad command line; the message names the argument and the problem (one line)."""


class ArgParser(argparse.ArgumentParser):
    """argparse without its own exits: an error raises UsageError; -h is the caller's."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog=prog, add_help=False, allow_abbrev=False)

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


class Once(argparse.Action):
    """An option that may be given at most once (`option --x: given twice` otherwise)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        if getattr(namespace, self.dest) is not None:
            raise UsageError(f"option {option_string}: given twice")
        setattr(namespace, self.dest, values)


def parse_int(text: str, what: str) -> int:
    """A decimal integer; UsageError `WHAT 'TEXT': not an integer` otherwise."""
    try:
        return int(text, 10)
    except ValueError:
        raise UsageError(f"{what} '{text}': not an integer") from None


def parse_port(text: str, what: str) -> int:
    port = parse_int(text, what)
    if not 1 <= port <= 65535:
        raise UsageError(f"{what} '{text}': must be between 1 and 65535")
    return port


def split_address(text: str, what: str) -> tuple[str, int]:
    """`HOST:PORT` into (host, port); the host may not be empty or contain spaces."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not host or not port_text or any(c.isspace() for c in host):
        raise UsageError(f"{what} '{text}': expected HOST:PORT")
    return host, parse_port(port_text, f"{what} '{text}': port")


def typed(parse: Callable[[str, str], T], what: str) -> Callable[[str], T]:
    """An argparse `type=` that reports errors as UsageError (argparse passes them through)."""
    return lambda text: parse(text, what)


class CommandLineExit(Exception):
    """The program must end with `code` before doing anything: help was printed (0), or the
    command line was bad and its one `error: ...` line was printed (EXIT_USAGE)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def parse_command_line(argv: list[str] | None, usage: str, parse: Callable[[list[str]], T]) -> T:
    """`parse(argv or sys.argv[1:])`; `-h`/`--help` anywhere prints `usage`. Also keeps grpc's
    C-core logging from adding lines to one-line errors. Raises CommandLineExit."""
    args = sys.argv[1:] if argv is None else argv
    if any(a in ("-h", "--help") for a in args):
        print(usage)
        raise CommandLineExit(0)
    try:
        parsed = parse(args)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        raise CommandLineExit(EXIT_USAGE) from None
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    return parsed


def missing_stubs(e: ImportError) -> None:
    """The one error line for a node or client started before python-node/setup.sh ran."""
    print(f"error: gRPC stubs or packages missing ({e}); run python-node/setup.sh", file=sys.stderr)

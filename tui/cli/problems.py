"""What the command line says when it cannot start: one sentence, and what to do.

A facilitator who typed ``--port 99999`` or whose port is taken reads a
sentence and a way out ("choose another with --port 8766, or --port 0 for
any free port"), not a Python traceback or "[Errno 98]". Kinds of failure
are told apart by their error numbers, never by their English.
"""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from typing import NoReturn

from circle_room.protocol.text import clean_line

MAX_PORT = 65535


class Parser(argparse.ArgumentParser):
    """``argparse`` that answers a wrong option with its sentence and where help is,
    not a screenful of usage: ``circle host: argument --port: 99999 is not a port
    number; ...``. Choosing a command still shows the commands to choose from."""

    def error(self, message: str) -> NoReturn:
        usage = self.format_usage() if self._subparsers is not None else ""
        hint = f"Run `{self.prog} --help` for the options."
        self.exit(2, f"{usage}{self.prog}: {message}.\n{hint}\n")


def port_number(text: str) -> int:
    """An ``argparse`` type: a TCP port, 0 to 65535 (0: the system picks a free one)."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= MAX_PORT:
        raise argparse.ArgumentTypeError(
            f"{clean_line(text)} is not a port number; use one from 1 to {MAX_PORT}, "
            "or 0 for any free port"
        )
    return port


def cannot_listen(flag: str, host: str, port: int, exc: OSError) -> str:
    """Why listening on ``host:port`` failed, and what to give ``flag`` (``--port``) instead."""
    if exc.errno == errno.EADDRINUSE:
        other = port + 1 if 0 < port < MAX_PORT else 8766
        return (
            f"Port {port} is already in use (another circle, or another program); "
            f"choose another with {flag} {other}, or {flag} 0 for any free port."
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (
            f"Port {port} is reserved for the system administrator here; "
            f"choose one above 1023 with {flag}, or {flag} 0 for any free port."
        )
    if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        return (
            f"{clean_line(host)} is not an address of this machine, so circle cannot listen "
            "on it; give one of its addresses with --host, or leave --host out."
        )
    detail = clean_line(exc.strerror or str(exc)) or type(exc).__name__
    return f"Circle cannot listen on {clean_line(host)}:{port} ({detail}); try {flag} 0."


def say(sentence: str) -> None:
    """Print one problem for the person at the terminal, the way every command does."""
    end = "" if sentence.endswith((".", "?", "!")) else "."
    print(f"circle: {sentence}{end}", file=sys.stderr)

"""Why a room could not be reached, in one sentence that says what to do.

A member who typed an address wrong, or whose circle is not open yet, reads
this instead of "[Errno 111] Connect call failed": the command line prints
it and exits, plain mode says it, the full screen shows it. Kinds of failure
are told apart by their types and error numbers, never by their English.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from urllib.parse import unquote, urlsplit

from websockets.exceptions import ConnectionClosed, InvalidHandshake

from circle_room.protocol.close_codes import CloseCode
from circle_room.protocol.errors import CircleError, JoinRefused, RemoteProtocolError
from circle_room.protocol.text import clean_line

NO_ROUTE = frozenset({errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT, errno.EHOSTDOWN})


def where(url: str) -> tuple[str, str]:
    """``host:port`` and the room name of a normalised ``ws://`` or ``wss://`` URL."""
    parts = urlsplit(url)
    return clean_line(parts.netloc), clean_line(unquote(parts.path.strip("/")))


def port_problem(given: str) -> str:
    """Why the port of the address ``given`` (as typed) cannot be used, or ""."""
    try:
        port = urlsplit(given if "://" in given else f"ws://{given}").port
    except ValueError:
        port = -1
    if port is None or port > 0:
        return ""
    return (
        f"The port in {clean_line(given)!r} is not a number from 1 to 65535; "
        "an address looks like 192.168.1.20:8765/circle."
    )


def why_unreachable(url: str, exc: BaseException) -> str:
    """What went wrong reaching ``url`` (normalised), and what the member can do."""
    address, room = where(url)
    host = address.rpartition(":")[0] or address
    if isinstance(exc, JoinRefused):
        if exc.close is CloseCode.NO_ROOM:
            return (
                f"There is no room called {room!r} at {address}; "
                "check the room name you were given."
            )
        return clean_line(exc.message)
    if isinstance(exc, (RemoteProtocolError, InvalidHandshake, ConnectionClosed)):
        return f"{address} is not a Circle relay; check the address and port you were given."
    if isinstance(exc, socket.gaierror):
        return (
            f"This computer cannot find a machine called {host!r}; "
            "check the address you were given."
        )
    if isinstance(exc, ConnectionRefusedError):
        return (
            f"Nothing is listening at {address}; check the address and port you were given, "
            "and that the circle has been opened."
        )
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)) or (
        isinstance(exc, OSError) and exc.errno in NO_ROUTE
    ):
        return (
            f"{address} does not answer from here; check the address, your network, "
            "and that no firewall is in the way."
        )
    if isinstance(exc, CircleError):
        return clean_line(str(exc))  # Ours say what happened, and what to do, already.
    detail = clean_line(str(exc)) or type(exc).__name__
    return (
        f"{address} did not answer as a Circle relay ({detail}); "
        "check the address and port you were given."
    )

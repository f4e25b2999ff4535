"""Reaching a relay: the checked websocket, the handshake's first frames, a look at the greeting."""

from __future__ import annotations

import asyncio
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from circle_room.protocol.close_codes import CloseCode
from circle_room.protocol.errors import JoinRefused
from circle_room.protocol.messages import Greeting
from circle_room.tui.client import handshake, trust

HANDSHAKE_TIMEOUT = 10.0


async def dial(url: str, **options: Any) -> ClientConnection:
    """Open a websocket to the relay, its certificate checked first (``tui.client.trust``)."""
    try:
        return await trust.dial(url, **options)
    except trust.UntrustedRelay as untrusted:
        raise JoinRefused(untrusted.code, untrusted.message) from None


async def receive(ws: ClientConnection) -> object:
    """The next message from the relay during the handshake; 4004 means no such room."""
    try:
        data = await ws.recv()
    except ConnectionClosed as closed:
        if closed.rcvd is not None and closed.rcvd.code == CloseCode.NO_ROOM:
            message = "There is no room by that name here."
            raise JoinRefused("", message, close=CloseCode.NO_ROOM) from None
        raise
    return handshake.frame(data)


async def fetch_greeting(url: str) -> Greeting:
    """Read the room's greeting (agreements, whether a passcode is needed) and hang up
    before saying hello, so a join screen can show it first.

    Raises ``JoinRefused`` (no such room), ``RemoteProtocolError`` (not a relay)
    or ``OSError``.
    """
    try:
        # Only a look: the join that follows is the first use, if it is one.
        ws = await dial(url, remember=False, open_timeout=HANDSHAKE_TIMEOUT, max_size=2**20)
        async with ws:
            first = await asyncio.wait_for(receive(ws), HANDSHAKE_TIMEOUT)
    except ConnectionClosed as closed:
        raise OSError(f"The relay closed the connection ({closed}).") from None
    except (InvalidHandshake, InvalidURI, asyncio.TimeoutError) as exc:
        raise OSError(str(exc) or type(exc).__name__) from None
    return handshake.greeting(first)

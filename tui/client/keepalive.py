"""The client's keepalive: ping the relay only when it has been quiet.

websockets' own keepalive pings every 20 s whatever the traffic. Here the
library's pings are off and ``keep_alive`` runs beside each connection, using
``protocol.keepalive.check``: after ``CLIENT.idle`` seconds without hearing
anything (events, or the relay's own pings) it pings once; after ``idle +
timeout`` it drops the connection, and ``CircleClient`` reconnects and
resumes as after any lost connection. On an idle link the relay pings first,
so this side normally sends nothing but its automatic pongs.

``HeardClientConnection`` is what ``connect(create_connection=...)`` builds: a
``ClientConnection`` that notes when the relay last sent anything at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from circle_room.protocol.keepalive import Action, QuietLink, check


class HeardClientConnection(ClientConnection):
    """A client connection that remembers when the relay last sent any bytes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.heard = self.loop.time()
        """Event-loop time of the last bytes from the relay (or of the connection)."""
        self.pinged_for: float | None = None
        """The ``heard`` of the silence this side last pinged into."""

    def data_received(self, data: bytes) -> None:
        self.heard = self.loop.time()
        super().data_received(data)


async def keep_alive(ws: HeardClientConnection, link: QuietLink) -> None:
    """Watch ``ws`` until it closes: ping it when quiet, drop it when silent too long."""
    loop = asyncio.get_running_loop()
    closed = loop.create_task(ws.wait_closed())
    try:
        while True:
            verdict = check(link, ws.heard, ws.pinged_for, loop.time())
            if verdict.action is Action.GIVE_UP:
                # Nobody answers, so no closing handshake: the reader sees 1006.
                ws.transport.abort()
                return
            if verdict.action is Action.PING:
                ws.pinged_for = ws.heard
                with contextlib.suppress(ConnectionClosed):
                    await ws.ping()  # The pong, when it comes, is something heard.
            delay = verdict.again - loop.time()
            done, _ = await asyncio.wait(
                {closed}, timeout=None if math.isinf(delay) else max(0.0, delay)
            )
            if done:
                return
    finally:
        closed.cancel()

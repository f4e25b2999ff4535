"""The relay's keepalive: one timer for all connections, pinging only quiet links.

websockets' own keepalive pings every connection on a fixed interval, from
both ends, whatever the traffic: about 1,230 TCP segments per idle member-hour
at 20 s. Here the library's pings are off (``ping_interval=None``) and a single
task looks at every open connection when the earliest of them is due, using
``protocol.keepalive.check``: a link the relay has heard nothing from for
``idle`` seconds gets one ping; one silent for ``idle + timeout`` is dropped,
which ends its handler as any lost connection does (the member is away and may
resume within the grace period).

``HeardConnection`` is what ``serve(create_connection=...)`` builds: a
``ServerConnection`` that notes when its peer last sent anything at all, data,
ping or pong, even part of a frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from websockets.asyncio.server import Server, ServerConnection
from websockets.exceptions import ConnectionClosed

from circle_room.protocol.keepalive import Action, QuietLink, check

log = logging.getLogger(__name__)

RESOLUTION = 1.0
"""The timer wakes at most once a second: the longest a due ping or a dead
link waits beyond its time. Shorter times (tests, a scaled-down benchmark)
get a proportionally finer timer, so their pings are as punctual."""


class HeardConnection(ServerConnection):
    """A server connection that remembers when its peer last sent any bytes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.heard = self.loop.time()
        """Event-loop time of the last bytes from the peer (or of the connection)."""
        self.pinged_for: float | None = None
        """The ``heard`` of the silence the relay last pinged into."""

    def data_received(self, data: bytes) -> None:
        self.heard = self.loop.time()
        super().data_received(data)


class Keepalive:
    """Ping a server's quiet connections and drop the dead ones.

    ``start(server)`` after ``serve`` (built with ``HeardConnection`` and the
    library's pings off); ``stop()`` before closing the server.
    """

    def __init__(self, link: QuietLink) -> None:
        self.link = link
        self.resolution = min(RESOLUTION, link.idle / 100, link.timeout / 10)
        self._task: asyncio.Task[None] | None = None
        self._pings: set[asyncio.Task[None]] = set()

    def start(self, server: Server) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(server))

    def stop(self) -> None:
        for task in (self._task, *self._pings):
            if task is not None:
                task.cancel()
        self._task = None

    async def _run(self, server: Server) -> None:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            soonest = now + self.link.idle
            for ws in server.connections:
                if isinstance(ws, HeardConnection):
                    soonest = min(soonest, self._look(ws, now))
            await asyncio.sleep(max(self.resolution, soonest - loop.time()))

    def _look(self, ws: HeardConnection, now: float) -> float:
        """Act on one connection; return when it next needs a look."""
        verdict = check(self.link, ws.heard, ws.pinged_for, now)
        if verdict.action is Action.GIVE_UP:
            log.info("nothing from %s for %.0f s: dropping it", ws.remote_address, now - ws.heard)
            ws.transport.abort()
        elif verdict.action is Action.PING:
            ws.pinged_for = ws.heard
            task = asyncio.get_running_loop().create_task(_ping(ws))
            self._pings.add(task)
            task.add_done_callback(self._pings.discard)
        return verdict.again


async def _ping(ws: ServerConnection) -> None:
    # The pong needs no waiting for: when it comes, it is something heard.
    with contextlib.suppress(ConnectionClosed):
        await ws.ping()

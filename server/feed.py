"""What the relay has for one member's connection: in order, within a budget, never awaited.

``websockets.broadcast`` never waits for a slow reader (see websockets'
``docs/topics/broadcast.rst``): what a reader does not take piles up in its
connection's write buffer, in the relay's memory. A ``Feed`` bounds that
per seat, the two ways it can grow:

- **live events**: before each frame, ``deliver`` looks at what is still
  waiting for that connection (``transport.get_write_buffer_size()``); past
  ``RelayConfig.seat_buffer`` the frame is not written and the feed is
  reported *behind*. The room closes it with ``CloseCode.BEHIND`` (4012)
  and keeps the seat for the grace period: the member resumes from what
  they did read.
- **a resume's replay** (up to the whole log, 10,000 frames of up to
  16 KiB): written by a task that awaits each frame's way out (``send``
  waits while the buffer is over websockets' write limit), so one replay
  holds a few frames in memory, not the log a second time. Live events
  meanwhile queue behind it, counted against the same budget. A replay that
  cannot get one frame out in ``RelayConfig.ping_timeout`` is behind too.

``close_within`` ends a connection in bounded time: websockets' ``close``
waits for the write buffer to drain before its close timeout even starts,
so a peer that reads nothing would otherwise keep it, and its buffer, forever.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Sequence

from websockets.asyncio.connection import Connection
from websockets.asyncio.server import broadcast
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State


class Feed:
    """The frames on their way to one connection, ``ws``."""

    def __init__(
        self,
        ws: Connection,
        limit: int,
        stall: float,
        behind: Callable[[Feed], None],
        *,
        batches: bool = False,
    ) -> None:
        """``behind(feed)`` is called when a replay stalls for ``stall`` seconds."""
        self.ws = ws
        self.batches = batches
        """Its connection reads a ``Batch`` (protocol version 3 on): ``server.holding``."""
        self.limit = limit
        self._stall = stall
        self._behind = behind
        self._queue: deque[bytes] | None = None
        """Live frames waiting behind a replay; None once caught up."""
        self._queued = 0
        self._replaying: asyncio.Task[None] | None = None
        self.closing = False

    @property
    def writable(self) -> bool:
        """Still worth writing to: open, and not being closed by either side."""
        ws = self.ws
        return (
            not self.closing and ws.protocol.state is State.OPEN and not ws.transport.is_closing()
        )

    def backlog(self) -> int:
        """Bytes waiting to reach this connection: its write buffer and the queue."""
        return self.ws.transport.get_write_buffer_size() + self._queued

    def over(self, size: int) -> bool:
        """Whether ``size`` more bytes would take a non-empty backlog past the limit."""
        backlog = self.backlog()
        return backlog > 0 and backlog + size > self.limit

    @property
    def catching_up(self) -> bool:
        """A replay is being written: new frames wait behind it (``enqueue``)."""
        return self._queue is not None

    def enqueue(self, data: bytes) -> None:
        assert self._queue is not None, "only while catching up"
        self._queue.append(data)
        self._queued += len(data)

    def replay(self, frames: Sequence[bytes]) -> None:
        """Write ``frames`` with backpressure, before anything delivered from now on."""
        if frames:
            self._queue = deque()
            task = asyncio.get_running_loop().create_task(self._catch_up(frames))
            self._replaying = task

    def close(self, code: int, reason: str, within: float) -> None:
        """Stop writing, and close the connection with ``code``, for good within ``within`` s."""
        self.stop()
        close_within(self.ws, code, reason, within)

    def stop(self) -> None:
        """Write nothing more; drop what is queued."""
        self.closing = True
        self._queue, self._queued = None, 0
        if self._replaying is not None:
            self._replaying.cancel()

    async def _catch_up(self, frames: Sequence[bytes]) -> None:
        try:
            for data in frames:
                await self._send(data)
            while self._queue:
                data = self._queue.popleft()
                self._queued -= len(data)
                await self._send(data)
            self._queue = None  # Caught up: ``deliver`` writes directly again.
        except ConnectionClosed:
            pass  # The room hears of it from the connection's handler.
        except asyncio.TimeoutError:
            self._behind(self)

    async def _send(self, data: bytes) -> None:
        await asyncio.wait_for(self.ws.send(data), self._stall)


def deliver(feeds: Iterable[Feed], data: bytes) -> list[Feed]:
    """Send ``data`` to each feed that can take it; return the feeds that are behind.

    Nothing is written to a feed that is behind (its backlog plus ``data``
    would pass its limit) or no longer writable. One frame always fits in an
    empty backlog, whatever its size.
    """
    # ``writable`` and ``over`` spelled out inline: this loop runs once per
    # member per event, and attribute and call overhead is most of its cost.
    size = len(data)
    direct: list[Connection] = []
    behind: list[Feed] = []
    for feed in feeds:
        ws = feed.ws
        transport = ws.transport
        if feed.closing or ws.protocol.state is not State.OPEN or transport.is_closing():
            continue
        backlog = transport.get_write_buffer_size() + feed._queued
        if backlog and backlog + size > feed.limit:
            behind.append(feed)
        elif feed._queue is not None:
            feed.enqueue(data)
        else:
            direct.append(ws)
    broadcast(direct, data)
    return behind


def close_within(ws: Connection, code: int, reason: str, within: float) -> None:
    """Close ``ws`` with ``code``; abort it if the close has not gone through in ``within`` s."""

    async def close() -> None:
        try:
            await asyncio.wait_for(ws.close(code, reason), within)
        except asyncio.TimeoutError:
            ws.transport.abort()

    task = asyncio.get_running_loop().create_task(close())
    _closing.add(task)
    task.add_done_callback(_closing.discard)


_closing: set[asyncio.Task[None]] = set()
"""Closes under way, kept referenced until they end (the loop keeps only weak ones)."""

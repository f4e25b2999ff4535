"""Commands that wait for the link: what a member does while reconnecting goes out after.

A hand raised or a "me too" sent during a reconnection is kept rather than
lost; the relay refuses whatever no longer makes sense once it arrives (with
an ``Error``), so keeping is safe. At most ``MAX_PENDING`` commands wait, so a
long outage cannot grow the queue without bound: the oldest are dropped.
"""

from __future__ import annotations

from typing import Protocol

from websockets.exceptions import ConnectionClosed

MAX_PENDING = 200
"""Commands kept while reconnecting; beyond this the oldest are dropped."""


class Sender(Protocol):
    async def send(self, data: bytes) -> None: ...


class Outbox:
    """Encoded commands, in the order they were sent, until a link takes them."""

    def __init__(self, limit: int = MAX_PENDING) -> None:
        self.frames: list[bytes] = []
        self._limit = limit

    def keep(self, data: bytes) -> None:
        self.frames.append(data)
        del self.frames[: -self._limit]

    async def flush(self, link: Sender) -> bool:
        """Send what waited, in order; False if the link dropped again meanwhile.

        What did not go out stays kept, in order, for the next attempt.
        """
        pending, self.frames = self.frames, []
        for index, data in enumerate(pending):
            try:
                await link.send(data)
            except ConnectionClosed:
                self.frames = pending[index:] + self.frames
                return False
        return True

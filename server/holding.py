"""A live room's outbox on the event loop: its timer, and who takes a ``Batch``.

``server.outbox`` decides what each connection is owed; this module writes
it, with ``server.feed.deliver``, when the room says so or when
``RelayConfig.presence_delay`` has passed since the first frame was held.
The room must call ``flush`` before anything else it sends (that is what
keeps every connection's frames in order) and ``stop`` when it closes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection

from circle_room.protocol.codec import batch
from circle_room.server.config import RelayConfig
from circle_room.server.feed import Feed, deliver
from circle_room.server.outbox import Outbox, may_hold


class Holding:
    """Presence events held for a moment in a room of more than ``presence_batch_above``."""

    def __init__(
        self,
        config: RelayConfig,
        linked: Callable[[], Collection[Feed]],
        behind: Callable[[list[Feed]], None],
    ) -> None:
        """``linked()`` gives the feeds linked now; ``behind(feeds)`` is told who fell
        behind when the timer flushes (a ``flush`` the room calls returns them)."""
        self._above = config.presence_batch_above
        self._delay = config.presence_delay
        self._linked = linked
        self._behind = behind
        self._outbox: Outbox[Feed] = Outbox()
        self._timer: asyncio.TimerHandle | None = None

    def hold(self, data: bytes, feeds: list[Feed], connections: int) -> bool:
        """Hold ``data`` for ``feeds`` if it may wait; False: send it now, after a ``flush``."""
        if connections <= self._above or not may_hold(data, bool(self._outbox)):
            return False
        self._outbox.hold(data, feeds)
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self._delay, self._when_due)
        return True

    def flush(self) -> list[Feed]:
        """Send what is held to the readers still linked; return the feeds that are behind."""
        self.stop()
        if not self._outbox:
            return []
        linked = set(self._linked())
        behind: list[Feed] = []
        for parcel in self._outbox.take():
            feeds = [feed for feed in parcel.readers if feed in linked]
            batching = [feed for feed in feeds if feed.batches]
            one_by_one = [feed for feed in feeds if not feed.batches]
            frames = parcel.frames
            if batching:
                # One bytes object for the group: shared deflate compresses it once.
                behind += deliver(batching, batch(frames) if len(frames) > 1 else frames[0])
            for data in frames:
                behind += deliver(one_by_one, data)
        return behind

    def stop(self) -> None:
        """No flush comes by itself any more (until something else is held)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _when_due(self) -> None:
        self._timer = None
        behind = self.flush()
        if behind:
            self._behind(behind)

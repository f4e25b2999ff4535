"""The owner of a room on a node: it stops when told, even if its Redis client will not."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from fakeredis import FakeAsyncRedis

from circle_room.server.config import RelayConfig
from circle_room.server.redis_log import Outcome, RoomLog
from circle_room.server.room_core import RoomCore
from circle_room.server.room_owner import RoomOwner
from circle_room.server.store import Store
from tests.server.support import ROOM


class SwallowingLog(RoomLog):
    """A log whose blocking read swallows a cancel, as redis-py's now and then does."""

    def __init__(self, redis: FakeAsyncRedis) -> None:
        super().__init__(redis, ROOM, 100)
        self.reading = asyncio.Event()
        self.swallowed = 0

    async def commands(self, after: str, block_ms: int) -> list[tuple[str, bytes]]:
        self.reading.set()
        try:
            await asyncio.sleep(block_ms / 1000)
        except asyncio.CancelledError:
            self.swallowed += 1
        return []


async def test_a_stopped_owner_stops_reading_even_when_its_cancel_is_swallowed(
    tmp_path: Path,
) -> None:
    redis = FakeAsyncRedis()
    rlog = SwallowingLog(redis)
    lease = await rlog.take_lease("node-a")
    assert lease is not None
    store = Store(tmp_path)
    store.add_room(ROOM)
    record = store.room(ROOM)
    assert record is not None
    core = RoomCore(ROOM, record.settings, RelayConfig(), "e1")
    stops: list[Outcome] = []
    owner = RoomOwner(rlog, lease, core, "0-0", store, 60.0, time.time, stops.append)
    try:
        owner.start((), new_epoch=False)
        await rlog.reading.wait()
        owner.stop()
        # A loop that went on reading would keep a stopping node's process alive.
        await asyncio.wait_for(owner.finished(), 5)
        assert rlog.swallowed == 1
        assert stops == [Outcome.FENCED]
    finally:
        store.close()
        await redis.aclose()

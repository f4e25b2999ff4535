"""The owner of a room on a node: it stops when told, even if its Redis client will not,
and it keeps the grace its predecessor gave."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

from fakeredis import FakeAsyncRedis

from circle_room.protocol.codec import decode
from circle_room.protocol.messages import EventFrame, MemberLeft
from circle_room.protocol.model import LeaveReason, Role
from circle_room.server.config import RelayConfig
from circle_room.server.decide import Disconnect
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


async def test_a_new_owner_releases_a_member_away_on_the_old_one_when_their_grace_ends(
    tmp_path: Path,
) -> None:
    now = [1000.0]
    redis = FakeAsyncRedis()
    rlog = RoomLog(redis, ROOM, 100)
    store = Store(tmp_path)
    store.add_room(ROOM)
    record = store.room(ROOM)
    assert record is not None
    # The room as the old owner left it: Bea went away at 1000 with 120 s of grace.
    core = RoomCore(ROOM, record.settings, RelayConfig(grace_period=120.0), "e1")
    core.join("Host", Role.FACILITATOR, True, "host-hash", now[0])
    core.join("Bea", Role.MEMBER, True, "bea-hash", now[0])
    bea = core.places.find("bea-hash")
    assert bea is not None
    core.observe(bea.member_id, Disconnect(), now[0])
    assert core.places.get(bea.member_id) == replace(bea, grace_ends=1120.0)
    lease = await rlog.take_lease("node-b")
    assert lease is not None
    tip = core.seq
    stops: list[Outcome] = []
    owner = RoomOwner(rlog, lease, core, "0-0", store, 120.0, lambda: now[0], stops.append)
    try:
        assert await rlog.reset(lease, "e1", tip, owner.snapshot(), "0-0") is Outcome.OK
        snap = await rlog.snap()
        assert snap is not None and snap.grace_ends == {bea.member_id: 1120.0}
        now[0] = 1119.9  # 119.9 s later the old owner died; this node takes over.
        owner.start((), new_epoch=False)
        # A whole new grace would keep her place for two more minutes.
        entries = await asyncio.wait_for(rlog.after(tip, block_ms=5000), 10)
        events = [decode(e.data) for e in entries]
        assert [f.event for f in events if isinstance(f, EventFrame)] == [
            MemberLeft(bea.member_id, LeaveReason.TIMED_OUT)
        ]
    finally:
        owner.stop()
        await owner.finished()
        store.close()
        await redis.aclose()

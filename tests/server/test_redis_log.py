"""The fenced append script on fakeredis (Lua through lupa): each outcome, nothing half-done."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgpack
import pytest
from fakeredis import FakeAsyncRedis
from hypothesis import given, settings
from hypothesis import strategies as st

from circle_room.protocol.model import RoomState
from circle_room.server.redis_log import Entry, Outcome, RoomLog, next_id, pack_snap
from circle_room.server.snapshot import CircleSnapshot


@pytest.fixture
async def rlog() -> AsyncIterator[RoomLog]:
    redis = FakeAsyncRedis()
    yield RoomLog(redis, "tuesday", 100)
    await redis.aclose()


async def _owned(rlog: RoomLog) -> str:
    lease = await rlog.take_lease("a")
    assert lease is not None
    assert await rlog.reset(lease, "e1", 0, b"", "0-0") is Outcome.OK
    return lease


async def test_an_append_by_the_lease_holder_lands_with_stream_ids_equal_to_seqs(
    rlog: RoomLog,
) -> None:
    lease = await _owned(rlog)
    entries = [Entry(1, b"one", "hash"), Entry(2, b"two")]
    assert await rlog.append(lease, "e1", 0, entries, "5-0") is Outcome.OK
    assert await rlog.after(0) == entries
    meta = await rlog.meta()
    assert meta is not None
    assert (meta.epoch, meta.seq, meta.cmd) == ("e1", 2, "5-0")


async def test_a_zombie_is_fenced_and_adds_nothing(rlog: RoomLog) -> None:
    old = await _owned(rlog)
    await rlog.redis.delete(rlog.lease)  # Its lease lapsed while it was paused.
    new = await rlog.take_lease("b")
    assert new is not None and new != old
    assert await rlog.append(old, "e1", 0, [Entry(1, b"late")]) is Outcome.FENCED
    assert await rlog.after(0) == []
    assert await rlog.append(new, "e1", 0, [Entry(1, b"ok")]) is Outcome.OK


async def test_a_writer_behind_the_log_diverges_and_a_wiped_log_is_lost(rlog: RoomLog) -> None:
    lease = await _owned(rlog)
    assert await rlog.append(lease, "e1", 0, [Entry(1, b"one")]) is Outcome.OK
    assert await rlog.append(lease, "e1", 0, [Entry(1, b"again")]) is Outcome.DIVERGED
    assert await rlog.after(0) == [Entry(1, b"one")]
    await rlog.redis.delete(rlog.meta_key, rlog.stream)
    assert await rlog.append(lease, "e1", 1, [Entry(2, b"two")]) is Outcome.LOST
    assert await rlog.after(0) == []


async def test_the_end_of_a_meeting_empties_the_log_and_the_inbox(rlog: RoomLog) -> None:
    lease = await _owned(rlog)
    await rlog.redis.xadd(rlog.cmd, {"c": b"share text"})
    assert await rlog.append(lease, "e1", 0, [Entry(1, b"share text")]) is Outcome.OK
    assert await rlog.end(lease) is Outcome.OK
    assert await rlog.after(0) == []
    assert await rlog.redis.xlen(rlog.cmd) == 0


@given(st.integers(0, 2**40), st.integers(0, 2**20))
@settings(max_examples=50)
def test_next_id_is_the_smallest_id_after(ms: int, n: int) -> None:
    after = next_id(f"{ms}-{n}")
    assert after == f"{ms}-{n + 1}"


async def test_a_snapshot_carries_each_away_members_grace_end(rlog: RoomLog) -> None:
    circle = CircleSnapshot(RoomState(), {})
    lease = await rlog.take_lease("a")
    assert lease is not None
    packed = pack_snap(7, "e1", circle, {1: 3}, {1: 1060.5})
    assert await rlog.reset(lease, "e1", 7, packed, "0-0") is Outcome.OK
    snap = await rlog.snap()
    assert snap is not None
    assert (snap.seq, snap.since, snap.grace_ends) == (7, {1: 3}, {1: 1060.5})


async def test_a_snapshot_from_before_grace_ends_were_kept_reads_with_none(
    rlog: RoomLog,
) -> None:
    old = msgpack.packb([7, "e1", CircleSnapshot(RoomState(), {}).pack(), [[1, 3]]])
    await rlog.redis.set(rlog.snap_key, old)
    snap = await rlog.snap()
    assert snap is not None and snap.since == {1: 3} and snap.grace_ends == {}

"""The shell around the room core, over real sockets: what it does when the disk fails.

A change that cannot be saved is refused and nothing changes; a fact about a
connection is told to everyone anyway. Either way every member stays in
step with the relay.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest

from circle_room.protocol.errors import JoinRefused
from circle_room.protocol.messages import LowerHand, MemberAway
from circle_room.protocol.model import Presence, Settings
from circle_room.protocol.refusals import RefusalCode
from circle_room.server.data_dir import DataDirError, Problem
from circle_room.server.store import Store
from circle_room.tui.client.connection import Status
from tests.server.support import (
    ROOM,
    JoinFn,
    Peer,
    RunningRelay,
    all_see,
    assert_same_room,
    settle,
)

SQLITE_FULL = 13


def disk_full() -> sqlite3.OperationalError:
    exc = sqlite3.OperationalError("database or disk is full")
    exc.sqlite_errorcode = SQLITE_FULL  # As Python 3.11 sets it.
    return exc


class FailingWrites:
    """Makes ``store.save_meeting`` fail from its ``nth`` call on (1-based), until ``heal``."""

    def __init__(self, store: Store, monkeypatch: pytest.MonkeyPatch, nth: int = 1) -> None:
        self.calls = 0
        self.failed = 0
        self._nth = nth
        self._real = store.save_meeting
        monkeypatch.setattr(store, "save_meeting", self)

    def __call__(self, *args: object) -> None:
        self.calls += 1
        if self._nth and self.calls >= self._nth:
            self.failed += 1
            raise disk_full()
        self._real(*args)  # type: ignore[arg-type]

    def heal(self) -> None:
        self._nth = 0


def snapshot_of(relay: RunningRelay) -> tuple[object, ...]:
    room = relay.room
    return (room.state, room.seq, list(room.log), list(room.core.places))


async def test_a_change_that_cannot_be_saved_is_refused_and_nothing_changed(
    relay: RunningRelay, join: JoinFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The facilitator hears the disk is full; the room, its seq and its log stay as they were.

    This used to be logged and sent anyway: the members were told of a change
    that a restarted relay would not have had.
    """
    store = relay.relay.store
    fran = await join(relay.url, "Fran", key=relay.key)
    ana = await join(relay.url, "Ana")
    await settle(relay.room, [fran, ana])
    before = snapshot_of(relay)
    seen = ana.client.seq
    disk = FailingWrites(store, monkeypatch)
    wanted: Settings = replace(fran.state.settings, share_limit=300)
    for ref in (await fran.client.change_settings(wanted), await fran.client.lock()):
        error = await fran.error(ref)
        assert error.code == RefusalCode.NOT_SAVED
        assert error.message == "The host's disk is full; nothing changed."
    assert disk.failed == 2
    assert snapshot_of(relay) == before
    assert fran.client.status is Status.CONNECTED and ana.client.status is Status.CONNECTED
    disk.heal()
    await fran.client.lock()
    await all_see([fran, ana], lambda p: p.state.locked, "the room locked")
    # Ana's next event is the very next seq: nothing was numbered meanwhile.
    assert [u.seq for u in ana.received()][-1] == seen + 1
    assert ana.state.settings.share_limit == 0
    await settle(relay.room, [fran, ana])
    for peer in (fran, ana):
        assert_same_room(peer, relay.room)
    record = store.room(ROOM)
    assert record is not None and record.settings.share_limit == 0, "nothing half-saved"


async def test_a_join_that_cannot_be_saved_is_refused(
    relay: RunningRelay, join: JoinFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    fran = await join(relay.url, "Fran", key=relay.key)
    await settle(relay.room, [fran])
    before = snapshot_of(relay)
    FailingWrites(relay.relay.store, monkeypatch)
    with pytest.raises(JoinRefused) as refused:
        await join(relay.url, "Ana")
    assert refused.value.refusal is RefusalCode.NOT_SAVED
    assert snapshot_of(relay) == before
    assert list(fran.state.members) == [fran.id]


async def test_a_fact_that_cannot_be_saved_still_reaches_everyone(
    relay: RunningRelay, join: JoinFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ana's connection drops while the disk is full: she is away for everyone all the same."""
    store = relay.relay.store
    fran = await join(relay.url, "Fran", key=relay.key)
    ana = await join(relay.url, "Ana")
    disk = FailingWrites(store, monkeypatch)
    await ana.client.close()  # Without leaving: her seat is kept.
    await fran.wait(lambda: bool(fran.events(MemberAway)), "Ana away")
    assert disk.failed == 1
    assert not fran.errors()
    circle = store.load_circle(ROOM)
    assert circle is not None and circle.state.members[ana.id].presence is Presence.PRESENT
    # The next save that works holds the whole circle, the drop included.
    disk.heal()
    await fran.client.raise_hand()
    await fran.wait(lambda: fran.client.seq == relay.room.seq > 3, "Fran's hand")
    circle = store.load_circle(ROOM)
    assert circle is not None and circle.state == relay.room.state
    assert circle.state.members[ana.id].presence is Presence.AWAY


async def meeting(fran: Peer, ana: Peer, ben: Peer) -> None:
    """A few minutes of a meeting, every step a change that must be saved."""
    await ana.client.raise_hand()
    await ben.client.raise_hand()
    await fran.client.take_stick()
    await fran.client.share("Welcome, everyone.")
    await fran.client.yield_stick()
    await fran.client.change_settings(replace(fran.state.settings, share_limit=120))
    await fran.client.pause("Let's take a breath")
    await fran.client.resume()
    await ben.client.send(LowerHand())
    await fran.client.lock()
    await fran.client.lock(False)


@pytest.mark.parametrize("nth", range(1, 12))
async def test_a_store_failing_on_the_nth_write_leaves_nobody_out_of_step(
    relay: RunningRelay, join: JoinFn, monkeypatch: pytest.MonkeyPatch, nth: int
) -> None:
    """Whichever save fails first (and every one after it), the members and the relay agree."""
    fran = await join(relay.url, "Fran", key=relay.key)
    ana = await join(relay.url, "Ana")
    ben = await join(relay.url, "Ben")
    await settle(relay.room, [fran, ana, ben])
    disk = FailingWrites(relay.relay.store, monkeypatch, nth)
    await meeting(fran, ana, ben)
    await fran.client.take_stick()  # A change after the meeting, to wait for.
    peers = [fran, ana, ben]
    await all_see(peers, lambda p: p.client.seq == relay.room.seq, "the relay's last seq")
    await settle(relay.room, peers)
    for peer in peers:
        assert_same_room(peer, relay.room)
    # No connection came or went: every failed save was a command, refused.
    refused = [e for p in peers for e in p.errors() if e.code == RefusalCode.NOT_SAVED]
    assert len(refused) == disk.failed > 0
    assert len({tuple(p.shares()) for p in peers}) == 1, "a share heard by some only"
    # The refused changes are what the stored circle lacks: once the disk is
    # back, the next save holds the room exactly as the members have it.
    disk.heal()
    await fran.client.raise_hand()
    await all_see(peers, lambda p: p.client.seq == relay.room.seq, "Fran's hand")
    circle = relay.relay.store.load_circle(ROOM)
    assert circle is not None and circle.state == relay.room.state


async def test_ending_a_meeting_on_a_full_disk_ends_it_all_the_same(
    relay: RunningRelay, join: JoinFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    fran = await join(relay.url, "Fran", key=relay.key)
    store = relay.relay.store

    def full(room: str) -> None:
        raise DataDirError(store.path.parent, Problem.FULL, "database or disk is full")

    monkeypatch.setattr(store, "clear_circle", full)
    await relay.relay.end_meeting()
    await fran.wait(lambda: fran.client.status is Status.CLOSED, "the meeting over")

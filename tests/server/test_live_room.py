"""The shell around the room core, over real sockets: what it does when the disk fails."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest

from circle_room.protocol.model import Settings
from circle_room.tui.client.connection import Status
from tests.server.support import ROOM, JoinFn, RunningRelay, all_see, assert_same_room, settle


async def test_a_failing_save_costs_nobody_their_connection(
    relay: RunningRelay, join: JoinFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New settings that cannot be saved still reach everyone, and the meeting goes on.

    Saving settings used to happen outside the guarded save, after the
    room's state had changed: an error there closed the facilitator's
    connection and the members never heard of the change.
    """
    store = relay.relay.store
    fran = await join(relay.url, "Fran", key=relay.key)
    ana = await join(relay.url, "Ana")

    def broken(*args: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store, "save_settings", broken)
    monkeypatch.setattr(store, "save_circle", broken)
    wanted: Settings = replace(fran.state.settings, share_limit=300)
    await fran.client.change_settings(wanted)
    await all_see([fran, ana], lambda p: p.state.settings == wanted, "the new settings")
    await fran.client.lock()
    await all_see([fran, ana], lambda p: p.state.locked, "the room locked")
    assert fran.client.status is Status.CONNECTED
    assert not fran.errors()
    await settle(relay.room, [fran, ana])
    assert_same_room(ana, relay.room)
    monkeypatch.undo()
    record = store.room(ROOM)
    assert record is not None and record.settings.share_limit == 0, "nothing half-saved"

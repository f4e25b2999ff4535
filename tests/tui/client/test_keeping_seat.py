"""A client that keeps its seat on disk takes it back after being killed (real relay, port 0)."""

from __future__ import annotations

from pathlib import Path

import pytest

from circle_room.protocol.errors import JoinRefused
from circle_room.protocol.model import Presence, Settings
from circle_room.protocol.refusals import RefusalCode
from circle_room.server.config import RelayConfig
from circle_room.server.relay import Relay
from circle_room.server.store import Store
from circle_room.tui.client.resumable import keeping_seat
from circle_room.tui.client.saved_seat import SavedSeat, SeatShelf
from tests.server.support import ROOM, JoinFn, Peer, RunningRelay


async def test_a_killed_client_is_started_again_and_has_its_seat_hand_and_stick(
    relay: RunningRelay, join: JoinFn, tmp_path: Path
) -> None:
    sam = await join(relay.url, "Sam", key=relay.key)
    held = SeatShelf(tmp_path).take(relay.url)
    first = keeping_seat(held, relay.url, name="Ana")
    await first.connect()
    assert held.saved is not None and held.saved.member_id == first.member_id
    await first.raise_hand()  # The stick is free: it comes to her.
    ben = await join(relay.url, "Ben")
    await ben.client.raise_hand()
    await sam.wait(lambda: sam.state.holder == first.member_id, "Ana to hold the stick")
    await sam.wait(lambda: sam.state.queue == (ben.id,), "Ben's hand")

    token = held.saved.token
    # Killed: the connection dies with no goodbye (and this client must not come back).
    first.abort()
    await first.close()
    held.release()
    await sam.wait(lambda: sam.state.members[first.member_id].presence is Presence.AWAY, "away")

    again = SeatShelf(tmp_path).take(relay.url)
    assert again.saved is not None and again.saved.name == "Ana"
    second = keeping_seat(again, relay.url)  # No name given: the kept one is used.
    peer = Peer(second, await second.connect())
    try:
        assert second.member_id == first.member_id
        await sam.wait(
            lambda: sam.state.members[second.member_id].presence is Presence.PRESENT, "back"
        )
        assert second.state.holder == second.member_id  # The stick waited for her.
        assert second.state.queue == (ben.id,)
        assert [m.name for m in sam.state.members.values()] == ["Sam", "Ana", "Ben"]
        assert again.saved is not None and again.saved.token == token
    finally:
        await peer.stop()
        again.release()


async def test_a_seat_that_is_gone_is_not_replaced_by_an_unseen_newcomer(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "relay")
    store.add_room(ROOM, "", Settings())  # The default agreements.
    relay = Relay(store, RelayConfig(ping_interval=None))
    await relay.start("127.0.0.1", 0)
    url = f"ws://127.0.0.1:{relay.port}/{ROOM}"
    try:
        held = SeatShelf(tmp_path / "state").take(url)
        gone = SavedSeat(url, ROOM, "Ana", 9, "a-token-from-a-meeting-long-over", "x", 5, 0.0)
        held.save(gone)
        client = keeping_seat(held, url, agreed=False)
        with pytest.raises(JoinRefused) as refused:
            await client.connect()
        # Asked to accept the agreements first: the join screen shows them next.
        assert refused.value.refusal is RefusalCode.AGREEMENTS
        assert relay.room(ROOM) is not None and not relay.rooms[ROOM].state.members
        held.forget()
    finally:
        await relay.close()
        store.close()

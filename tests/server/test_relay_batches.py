"""A large room holds its presence events for a moment and sends them together.

Over real sockets, with ``presence_batch_above`` set low: members join, drop
and resume while joins, aways and backs are held; every client, version 1
(one frame each) and version 3 (``Batch``) alike, ends with the relay's room.
"""

from __future__ import annotations

import pytest

from circle_room.protocol import PROTOCOL_VERSIONS
from circle_room.protocol.messages import (
    EventFrame,
    MemberJoined,
)
from circle_room.protocol.model import Presence
from circle_room.server.config import RelayConfig
from circle_room.tui.client.connection import Status
from tests.server.raw_listener import RawListener
from tests.server.support import (
    JoinFn,
    MakeRelay,
    Peer,
    RunningRelay,
    all_see,
    assert_same_room,
    settle,
)
from tests.server.test_relay import hold_reconnect

NEWEST = PROTOCOL_VERSIONS[-1]
HELD_LONG = RelayConfig(presence_batch_above=2, presence_delay=60.0)
"""Held until something else is sent: the test decides when a batch goes out."""


def same_members(listener: RawListener, relay: RunningRelay) -> None:
    assert listener.state.members == relay.room.state.members
    assert list(listener.state.members) == list(relay.room.state.members)


async def flush_by_a_hand(fran: Peer, everyone: list[Peer]) -> None:
    """Send something that is never held: what was held goes out first."""
    await fran.client.raise_hand()
    await all_see(everyone, lambda p: p.state.holder == fran.id, "fran's hand")
    await fran.client.yield_stick()
    await all_see(everyone, lambda p: p.state.holder is None, "fran yields")


async def test_held_joins_aways_and_backs_reach_every_version_in_order(
    make_relay: MakeRelay, join: JoinFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay = await make_relay(HELD_LONG)
    room = relay.room
    fran = await join(relay.url, "Fran", key=relay.key)
    old = await RawListener.join(relay.url, "Old", 1)
    new = await RawListener.join(relay.url, "New", NEWEST)
    # Three connections now: from here on, joins are held for everyone already in.
    members = [await join(relay.url, f"m{i}") for i in range(4)]
    everyone = [fran, *members]
    await flush_by_a_hand(fran, everyone)
    # A drop (MemberAway, held), a join, and a resume (its Close flushes; MemberBack held).
    dropped = members[1]
    gate = hold_reconnect(dropped, monkeypatch)
    dropped.client.abort()
    await dropped.wait(lambda: dropped.client.status is Status.RECONNECTING, "reconnecting")
    members.append(await join(relay.url, "late"))
    everyone.append(members[-1])
    gate.set()
    await dropped.wait(lambda: dropped.client.status is Status.CONNECTED, "resumed")
    await flush_by_a_hand(fran, everyone)
    await all_see(
        everyone,
        lambda p: all(m.presence is Presence.PRESENT for m in p.state.members.values()),
        "everyone present",
    )
    await settle(room, everyone)
    for peer in everyone:
        assert_same_room(peer, room)
    for listener in (old, new):
        await listener.read_up_to(room.seq)
        same_members(listener, relay)
    # Version 1 got each frame alone; version 3 got the held joins as one frame.
    assert old.batches() == []
    first = new.batches()[0]
    joined = [f.event for f in first.frames if isinstance(f, EventFrame)]
    names = [e.member.name for e in joined if isinstance(e, MemberJoined)]
    assert names == ["m0", "m1", "m2", "m3"] and len(joined) == 4


async def test_what_is_held_goes_out_by_itself_after_the_delay(
    make_relay: MakeRelay, join: JoinFn
) -> None:
    relay = await make_relay(RelayConfig(presence_batch_above=2, presence_delay=0.02))
    fran = await join(relay.url, "Fran", key=relay.key)
    a = await join(relay.url, "a")
    b = await join(relay.url, "b")
    c = await join(relay.url, "c")
    await all_see([fran, a, b, c], lambda p: c.id in p.state.members, "c's join")
    await settle(relay.room, [fran, a, b, c])
    for peer in (fran, a, b, c):
        assert_same_room(peer, relay.room)


async def test_a_closing_relay_sends_what_it_holds_first(make_relay: MakeRelay) -> None:
    relay = await make_relay(HELD_LONG)
    listeners = [await RawListener.join(relay.url, name, NEWEST) for name in ("a", "b", "c")]
    late = await RawListener.join(relay.url, "d", NEWEST)
    await relay.relay.close()
    for listener in listeners:
        await listener.read_up_to(late.seq)
        assert late.state.members == listener.state.members

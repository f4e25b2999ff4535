"""A client that misses an event catches up instead of carrying on, against a real relay.

The relay here is made to lose a frame on its way to one member, or to skip
a seq altogether; the member must notice the gap, resume, and end with the
relay's room. In an honest meeting full of private events (signals, me-too)
nobody may mistake a ``Hidden`` seq for a loss.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest
from websockets.asyncio.connection import Connection

from circle_room.protocol.codec import decode
from circle_room.protocol.messages import EventFrame, LockChanged, MemberAway, SignalSent
from circle_room.protocol.model import SignalKind
from circle_room.server import feed
from circle_room.tui.client.connection import Resynced, Status, StatusChanged
from tests.server.support import JoinFn, Peer, RunningRelay, all_see, assert_same_room, settle


def reconnects(peer: Peer) -> int:
    return sum(
        1 for u in peer.updates if isinstance(u, StatusChanged) and u.status is Status.RECONNECTING
    )


def lose_one_frame_for(
    victim: Callable[[], Connection | None],
    lost: Callable[[object], bool],
    monkeypatch: pytest.MonkeyPatch,
) -> list[int]:
    """Make the relay drop the first frame ``lost(frame)`` picks on its way to ``victim()``."""
    real = feed.broadcast
    dropped: list[int] = []

    def broadcast(connections: Iterable[Connection], data: bytes) -> None:
        targets = list(connections)
        ws = victim()
        if not dropped and ws in targets:
            frame = decode(data)
            if isinstance(frame, EventFrame) and lost(frame.event):
                targets.remove(ws)
                dropped.append(frame.seq)
        real(targets, data)

    monkeypatch.setattr(feed, "broadcast", broadcast)
    return dropped


async def test_a_member_who_misses_an_event_resumes_and_gets_it(
    relay: RunningRelay, join: JoinFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    fran = await join(relay.url, "Fran", key=relay.key)
    ana = await join(relay.url, "Ana")
    room = relay.room
    dropped = lose_one_frame_for(
        lambda: room.connection(ana.id), lambda e: isinstance(e, LockChanged), monkeypatch
    )
    await fran.client.lock()
    await fran.client.raise_hand()
    await fran.wait(lambda: fran.state.turn is not None, "Fran given the stick for her hand")
    await all_see([fran, ana], lambda p: p.client.seq == room.seq, "the relay's last seq")
    assert dropped, "the relay lost nothing: the test proves nothing"
    assert ana.state.locked, "Ana carried on without the lock"
    assert [u.seq for u in ana.received() if isinstance(u.event, LockChanged)] == dropped
    await settle(room, [fran, ana])
    for peer in (fran, ana):
        assert_same_room(peer, room)
    # Caught up quietly: the relay replaced her connection, nobody saw her away.
    assert not fran.events(MemberAway)
    assert ana.client.status is Status.CONNECTED
    assert reconnects(ana) == 1


async def test_a_relay_that_skips_a_seq_ends_with_everyone_given_the_room_anew(
    relay: RunningRelay, join: JoinFn
) -> None:
    """A hole in the relay's own log: resuming cannot fill it, so the room comes anew."""
    fran = await join(relay.url, "Fran", key=relay.key)
    ana = await join(relay.url, "Ana")
    room = relay.room
    await settle(room, [fran, ana])
    room.core.seq += 1  # A relay bug: this seq is never used.
    await fran.client.lock()
    await all_see([fran, ana], lambda p: p.state.locked, "the lock")
    await all_see([fran, ana], lambda p: p.client.seq == room.seq, "the relay's last seq")
    for peer in (fran, ana):
        assert_same_room(peer, room)
        assert peer.client.status is Status.CONNECTED
        # Resumed from its seq (the replay had the same hole), then anew.
        assert reconnects(peer) == 2
        assert [u.gap for u in peer.updates if isinstance(u, Resynced)] == [True]


async def test_private_events_are_never_taken_for_a_loss(relay: RunningRelay, join: JoinFn) -> None:
    """Signals and me-too go to a few; everyone else gets a ``Hidden`` and carries on."""
    fran = await join(relay.url, "Fran", key=relay.key)
    ana = await join(relay.url, "Ana")
    ben = await join(relay.url, "Ben")
    peers = [fran, ana, ben]
    await fran.client.take_stick()
    await fran.client.share("Welcome, both of you.")
    await fran.wait(lambda: fran.state.turn is not None and fran.state.turn.shares == 1, "share")
    for _ in range(3):
        await ana.client.me_too(True)
        await ben.client.signal(SignalKind.CHECK_IN)
        await ana.client.me_too(False)
    await ana.client.signal(SignalKind.OK)
    await fran.wait(lambda: len(fran.events(SignalSent)) == 4, "every signal")
    # Last, something for everyone: each member's seq must then be the relay's.
    await fran.client.yield_stick()
    await all_see(peers, lambda p: p.state.turn is None, "the stick yielded")
    for peer in peers:
        assert peer.client.seq == relay.room.seq, peer
        assert reconnects(peer) == 0, peer
        assert_same_room(peer, relay.room)

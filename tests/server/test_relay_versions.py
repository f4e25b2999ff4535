"""The relay speaks version 1 to a version-1 client and version 3 to a version-3 one.

Version 3 (docs/protocol.md, "Version history") sends a hand-over as one
compact ``HandOver`` frame, a share as ``Said``, and ``MeTooCount`` only to
the speaker and the facilitators; version 1 is unchanged, and version 2 is
refused. Both kinds of client, reading the same meeting, fold to the same
room and hear the same shares.
"""

from __future__ import annotations

import math
from dataclasses import replace

from circle_room.protocol.close_codes import CloseCode
from circle_room.protocol.codec import decode, encode
from circle_room.protocol.messages import (
    Error,
    EventFrame,
    HandOver,
    Hello,
    Hidden,
    HiddenRun,
    MeTooCount,
    Said,
    Shared,
    StickGiven,
    StickReleased,
)
from circle_room.protocol.model import RoomState
from tests.server.raw_listener import RawListener
from tests.server.support import (
    JoinFn,
    RunningRelay,
    all_see,
    is_event,
    raw_connect,
    raw_greeting,
    read_until_closed,
    settle,
)


def without_count(state: RoomState) -> RoomState:
    """``state`` but for the me-too count, and with its turn's times in whole seconds.

    A hand-over reaches version 3 with its time rounded down to the second.
    """
    if state.turn is None:
        return state
    turn = state.turn
    running = None if turn.running_since is None else float(math.floor(turn.running_since))
    turn = replace(
        turn,
        metoo_count=0,
        metoo=frozenset(),
        started_at=float(math.floor(turn.started_at)),
        running_since=running,
    )
    return replace(state, turn=turn)


def whole(events: list[object]) -> list[object]:
    """Stick events with their times in whole seconds, as version 3 has them."""
    return [replace(e, at=float(math.floor(e.at))) for e in events]  # type: ignore[attr-defined]


async def test_version_2_is_retired_and_refused(relay: RunningRelay) -> None:
    ws = await raw_connect(relay.url)
    greeting = await raw_greeting(ws)
    assert greeting.versions == (1, 3)
    await ws.send(encode(Hello(2, "Old", agreed=True)))
    code, frames = await read_until_closed(ws)
    assert code == CloseCode.VERSION
    assert [f.code for f in frames if isinstance(f, Error)] == ["version"]


async def test_each_version_gets_its_own_form_of_the_same_meeting(
    relay: RunningRelay, join: JoinFn
) -> None:
    fran = await join(relay.url, "Fran", key=relay.key)
    ana = await join(relay.url, "Ana")
    ben = await join(relay.url, "Ben")
    old = await RawListener.join(relay.url, "Old", 1, gapless=False)
    new = await RawListener.join(relay.url, "New", 3, gapless=False)
    every = await RawListener.join(relay.url, "Every", 3, gapless=True)
    listeners = (old, new, every)
    await ana.client.raise_hand()
    await all_see([fran, ana], lambda p: p.state.holder == ana.id, "Ana holds the stick")
    await ben.client.raise_hand()
    await ana.client.share("Thank you for being here.")
    await ana.client.share("It helps to say it out loud.")
    await ben.client.me_too()
    await ana.wait(lambda: ana.state.turn.metoo_count == 1, "the count")  # type: ignore[union-attr]
    await ana.client.yield_stick()
    await all_see([fran, ana, ben], lambda p: p.state.holder == ben.id, "Ben holds the stick")
    await ben.client.share("Me too, and thank you.")
    await all_see([fran, ana, ben], lambda p: p.state.turn.shares == 1, "Ben's share")  # type: ignore[union-attr]
    await settle(relay.room, [fran, ana, ben])
    for listener in listeners:
        await listener.read_up_to(relay.room.seq)

    # Version 1, as before: every event in its own frame, the count included.
    assert not any(isinstance(f, (HandOver, Hidden, Said)) for f in old.frames)
    assert [e.count for e in old.events(MeTooCount)] == [1]  # type: ignore[attr-defined]
    # Version 3: the yield in one frame, each share as a Said, and no count for a listener.
    for listener in (new, every):
        hand_overs = [f for f in listener.frames if isinstance(f, HandOver)]
        assert len(hand_overs) == 1 and hand_overs[0].member_id == ben.id
        assert len([f for f in listener.frames if isinstance(f, Said)]) == 3
        assert not any(is_event(f, Shared) for f in listener.frames)
        assert listener.events(MeTooCount) == []
    # Who asked for every seq hears that the count's seq is taken.
    logged = [decode(e.data) for e in relay.room.log]
    count_seq = next(
        f.seq for f in logged if isinstance(f, EventFrame) and isinstance(f.event, MeTooCount)
    )
    # (With the "me too" before it, in one frame for both seqs.)
    assert HiddenRun(count_seq, 2) in every.frames
    assert not any(isinstance(f, (Hidden, HiddenRun)) for f in new.frames)
    # The same events either way (a hand-over's time in whole seconds), the same shares,
    # and the same room.
    texts = ["Thank you for being here.", "It helps to say it out loud.", "Me too, and thank you."]
    for listener in listeners:
        assert listener.events(Shared) == old.events(Shared)
        assert [e.text for e in listener.events(Shared)] == texts  # type: ignore[attr-defined]
        released = listener.events(StickReleased)
        given = listener.events(StickGiven)
        assert whole(released) == whole(old.events(StickReleased)) and len(released) == 1
        assert whole(given) == whole(old.events(StickGiven)) and len(given) == 2
        assert without_count(listener.state) == without_count(old.state)
        assert listener.seq == old.seq
    assert old.state.turn is not None and old.state.turn.metoo_count == 0  # Ben's new turn.
    for listener in listeners:
        await listener.ws.close()

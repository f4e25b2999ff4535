"""The relay speaks version 1 to a version-1 client and version 2 to a version-2 one.

Version 2 (docs/protocol.md, "Version history") sends a hand-over as one
``HandOver`` frame and ``MeTooCount`` only to the speaker and the
facilitators; version 1 is unchanged. Both kinds of client, reading the same
meeting, fold to the same room.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace

from websockets.asyncio.client import ClientConnection

from circle_room.protocol import PROTOCOL_VERSIONS
from circle_room.protocol.codec import decode, encode
from circle_room.protocol.handover import split
from circle_room.protocol.messages import (
    EventFrame,
    Frame,
    HandOver,
    Hello,
    Hidden,
    HiddenRun,
    MeTooCount,
    StickGiven,
    StickReleased,
    Welcome,
)
from circle_room.protocol.model import RoomState
from circle_room.protocol.room import apply
from tests.server.support import (
    TIMEOUT,
    JoinFn,
    RunningRelay,
    all_see,
    raw_connect,
    raw_greeting,
    settle,
)

NEWEST = PROTOCOL_VERSIONS[-1]
"""The version that takes a hand-over as one frame (2 until it was retired)."""


@dataclass
class RawListener:
    """A listener on a bare websocket that keeps every frame and folds every event."""

    ws: ClientConnection
    state: RoomState
    seq: int
    frames: list[Frame] = field(default_factory=list)

    @classmethod
    async def join(cls, url: str, name: str, version: int, gapless: bool) -> RawListener:
        ws = await raw_connect(url)
        await raw_greeting(ws)
        await ws.send(encode(Hello(version, name, agreed=True, gapless=gapless)))
        welcome = decode(await asyncio.wait_for(ws.recv(), TIMEOUT))  # type: ignore[arg-type]
        assert isinstance(welcome, Welcome) and welcome.version == version, welcome
        assert welcome.state is not None
        return cls(ws, welcome.state, welcome.seq)

    async def read_up_to(self, seq: int) -> None:
        async def read() -> None:
            while self.seq < seq:
                frame = decode(await self.ws.recv())  # type: ignore[arg-type]
                self.frames.append(frame)
                parts = split(frame) if isinstance(frame, HandOver) else (frame,)
                for part in parts:
                    if isinstance(part, EventFrame):
                        assert part.seq > self.seq
                        self.state, self.seq = apply(self.state, part.event), part.seq
                    elif isinstance(part, (Hidden, HiddenRun)):
                        self.seq = part.seq

        await asyncio.wait_for(read(), TIMEOUT)

    def events(self, kind: type) -> list[object]:
        found = []
        for frame in self.frames:
            parts = split(frame) if isinstance(frame, HandOver) else (frame,)
            found += [p.event for p in parts if isinstance(p, EventFrame)]
        return [e for e in found if isinstance(e, kind)]


def without_count(state: RoomState) -> RoomState:
    if state.turn is None:
        return state
    return replace(state, turn=replace(state.turn, metoo_count=0, metoo=frozenset()))


async def test_each_version_gets_its_own_form_of_the_same_meeting(
    relay: RunningRelay, join: JoinFn
) -> None:
    fran = await join(relay.url, "Fran", key=relay.key)
    ana = await join(relay.url, "Ana")
    ben = await join(relay.url, "Ben")
    old = await RawListener.join(relay.url, "Old", 1, gapless=False)
    new = await RawListener.join(relay.url, "New", NEWEST, gapless=False)
    every = await RawListener.join(relay.url, "Every", NEWEST, gapless=True)
    listeners = (old, new, every)
    await ana.client.raise_hand()
    await all_see([fran, ana], lambda p: p.state.holder == ana.id, "Ana holds the stick")
    await ben.client.raise_hand()
    await ana.client.share("Thank you for being here.")
    await ben.client.me_too()
    await ana.wait(lambda: ana.state.turn.metoo_count == 1, "the count")  # type: ignore[union-attr]
    await ana.client.yield_stick()
    await all_see([fran, ana, ben], lambda p: p.state.holder == ben.id, "Ben holds the stick")
    await settle(relay.room, [fran, ana, ben])
    for listener in listeners:
        await listener.read_up_to(relay.room.seq)

    # Version 1, as before: every event in its own frame, the count included.
    assert not any(isinstance(f, (HandOver, Hidden)) for f in old.frames)
    assert [e.count for e in old.events(MeTooCount)] == [1]  # type: ignore[attr-defined]
    # Version 2: the yield in one frame, and no count for a listener.
    for listener in (new, every):
        hand_overs = [f for f in listener.frames if isinstance(f, HandOver)]
        assert len(hand_overs) == 1 and hand_overs[0].member_id == ben.id
        assert listener.events(MeTooCount) == []
    # Who asked for every seq hears that the count's seq is taken.
    logged = [decode(e.data) for e in relay.room.log]
    count_seq = next(
        f.seq for f in logged if isinstance(f, EventFrame) and isinstance(f.event, MeTooCount)
    )
    # (With the "me too" before it, in one frame for both seqs.)
    assert HiddenRun(count_seq, 2) in every.frames
    assert not any(isinstance(f, (Hidden, HiddenRun)) for f in new.frames)
    # The same two events either way, and the same room.
    for listener in listeners:
        released = listener.events(StickReleased)
        given = listener.events(StickGiven)
        assert released == old.events(StickReleased) and len(released) == 1
        assert given == old.events(StickGiven) and len(given) == 2
        assert without_count(listener.state) == without_count(old.state)
    assert old.state.turn is not None and old.state.turn.metoo_count == 0  # Ben's new turn.
    for listener in listeners:
        await listener.ws.close()

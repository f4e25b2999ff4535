"""A listener on a bare websocket, written from docs/protocol.md: keeps every frame, folds events.

It reads what a version asks for: a ``Batch`` as its frames in order, a
compact ``HandOver`` or ``Said`` as the events it stands for in the room it
holds at that point, and ``Hidden``/``HiddenRun`` as seqs taken. The relay's
tests check what each version was sent (``frames``) and what it made of it
(``state``, ``events``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection

from circle_room.protocol.codec import decode, encode
from circle_room.protocol.handover import standing_for
from circle_room.protocol.messages import (
    Batch,
    EventFrame,
    Frame,
    Hello,
    Hidden,
    HiddenRun,
    Welcome,
)
from circle_room.protocol.model import RoomState
from circle_room.protocol.room import apply
from tests.server.support import TIMEOUT, raw_connect, raw_greeting


@dataclass
class RawListener:
    ws: ClientConnection
    state: RoomState
    seq: int
    gapless: bool
    frames: list[Frame] = field(default_factory=list)
    events_read: list[object] = field(default_factory=list)

    @classmethod
    async def join(cls, url: str, name: str, version: int, gapless: bool = True) -> RawListener:
        ws = await raw_connect(url)
        await raw_greeting(ws)
        await ws.send(encode(Hello(version, name, agreed=True, gapless=gapless)))
        welcome = decode(await asyncio.wait_for(ws.recv(), TIMEOUT))  # type: ignore[arg-type]
        assert isinstance(welcome, Welcome) and welcome.version == version, welcome
        assert welcome.state is not None
        return cls(ws, welcome.state, welcome.seq, gapless)

    async def read_up_to(self, seq: int) -> None:
        """Read until the listener has ``seq``; a gap (when it asked for every seq) fails."""

        async def read() -> None:
            while self.seq < seq:
                frame = decode(await self.ws.recv())  # type: ignore[arg-type]
                self.frames.append(frame)
                parts = standing_for(frame, self.state)
                self.events_read += [p.event for p in parts if isinstance(p, EventFrame)]
                for part in parts:
                    self._take(part)

        await asyncio.wait_for(read(), TIMEOUT)

    def _take(self, part: Frame) -> None:
        if isinstance(part, EventFrame):
            if self.gapless:
                assert part.seq == self.seq + 1, "a gap or a repeat"
            else:
                assert part.seq > self.seq, "a repeat"
            self.state, self.seq = apply(self.state, part.event), part.seq
        else:
            assert isinstance(part, (Hidden, HiddenRun)), part
            self.seq = part.seq

    def events(self, kind: type) -> list[object]:
        return [e for e in self.events_read if isinstance(e, kind)]

    def batches(self) -> list[Batch]:
        return [frame for frame in self.frames if isinstance(frame, Batch)]

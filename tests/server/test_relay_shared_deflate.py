"""A room that grows past ``shared_deflate_above`` and shrinks again, over real sockets.

Members with websockets' permessage-deflate as ``CircleClient`` offers it,
one that forbids the relay a window over 10 bits and keeps no context of
its own, and one without compression read every frame of a meeting whose
room turns large (each event deflated once for all), loses a connection
that resumes while it is large, and turns small again (each connection's
own context, started afresh).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

from circle_room.protocol import PROTOCOL_VERSIONS
from circle_room.protocol.codec import decode, encode
from circle_room.protocol.messages import (
    CommandFrame,
    Error,
    EventFrame,
    Frame,
    Greeting,
    HandOver,
    Hello,
    Resume,
    Said,
    Share,
    Shared,
    Welcome,
)
from circle_room.server.config import Rate, RelayConfig
from circle_room.server.shared_deflate import SharedDeflate
from tests.server.support import TIMEOUT, JoinFn, MakeRelay, Peer, RunningRelay, all_see, until


class RawMember:
    """A member on a bare websocket with its own deflate offer, recording every frame."""

    def __init__(self, ws: ClientConnection, welcome: Welcome) -> None:
        self.ws = ws
        self.welcome = welcome
        self.frames: list[Frame] = []
        self._changed = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def join(
        cls,
        url: str,
        name: str,
        offer: ClientPerMessageDeflateFactory | None,
        resume: Resume | None = None,
    ) -> RawMember:
        ws = await connect(
            url, compression=None, extensions=[offer] if offer else None, open_timeout=TIMEOUT
        )
        greeting = decode(await asyncio.wait_for(ws.recv(), TIMEOUT))  # type: ignore[arg-type]
        assert isinstance(greeting, Greeting)
        await ws.send(encode(Hello(PROTOCOL_VERSIONS[-1], name, agreed=True, resume=resume)))
        welcome = decode(await asyncio.wait_for(ws.recv(), TIMEOUT))  # type: ignore[arg-type]
        assert isinstance(welcome, Welcome), welcome
        return cls(ws, welcome)

    async def _read(self) -> None:
        async for data in self.ws:
            assert isinstance(data, bytes)
            self.frames.append(decode(data))
            self._changed.set()

    def shares(self) -> list[str]:
        """The share texts read: a ``Said`` (version 3) is a share's text alone."""
        texts = []
        for f in self.frames:
            if isinstance(f, Said):
                texts.append(f.text)
            elif isinstance(f, EventFrame) and isinstance(f.event, Shared):
                texts.append(f.event.text)
        return texts

    @property
    def seq(self) -> int:
        seqs = [f.seq for f in self.frames if isinstance(f, (EventFrame, Said, HandOver))]
        return max(seqs, default=self.welcome.seq)

    async def wait(self, predicate: Callable[[], bool], what: str) -> None:
        try:
            await until(self._changed, predicate, TIMEOUT)
        except asyncio.TimeoutError:
            raise AssertionError(f"{self.welcome.member_id} waited for {what}") from None

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.wait_for(self._task, TIMEOUT)


def sharing_of(relay: RunningRelay, member_id: int) -> SharedDeflate:
    ws = relay.room.connection(member_id)
    assert ws is not None
    (extension,) = ws.protocol.extensions
    assert isinstance(extension, SharedDeflate)
    return extension


def large(relay: RunningRelay, member_id: int) -> bool:
    """Whether ``member_id``'s connection shares its room's compression now."""
    sharing = sharing_of(relay, member_id).sharing
    assert sharing is not None, "a seated connection follows its room"
    return sharing.large


async def test_every_member_reads_every_frame_as_the_room_grows_and_shrinks(
    make_relay: MakeRelay, join: JoinFn
) -> None:
    # Large at four connections, small again at two.
    config = RelayConfig(shared_deflate_above=3, share_rate=Rate(100, 100))
    relay = await make_relay(config, tls=False)
    fran = await join(relay.url, "Fran", key=relay.key)
    alice = await join(relay.url, "alice")
    said: list[str] = []

    async def share(text: str, everyone: list[Peer | RawMember]) -> None:
        said.append(text)
        await fran.client.share(text)
        for each in everyone:
            if isinstance(each, Peer):
                await each.wait(lambda p=each: p.shares()[-1:] == [text], text)
            else:
                await each.wait(lambda r=each: r.shares()[-1:] == [text], text)

    await fran.client.take_stick()
    await all_see([fran, alice], lambda p: p.state.turn is not None, "the stick held")
    cache = sharing_of(relay, fran.id).cache
    await share("the first words, in a small room", [fran, alice])
    await share("the first words, in a small room", [fran, alice])
    assert cache.deflates == 0

    small_window = ClientPerMessageDeflateFactory(
        client_no_context_takeover=True, server_max_window_bits=10
    )
    carol = await RawMember.join(relay.url, "carol", small_window)
    dave = await RawMember.join(relay.url, "dave", ClientPerMessageDeflateFactory())
    erin = await RawMember.join(relay.url, "erin", None)
    everyone: list[Peer | RawMember] = [fran, alice, carol, dave, erin]
    assert relay.room.connection(erin.welcome.member_id) is not None
    assert large(relay, fran.id) and large(relay, carol.welcome.member_id)

    before = cache.deflates
    await share("now the room is large, and me too", everyone)
    # Once per window size (13 bits, and carol's 10), however many read it.
    assert cache.deflates - before == 2
    await alice.client.me_too()  # A private frame between shared ones.
    await carol.ws.send(encode(CommandFrame(7, Share("not holding the stick"))))
    await carol.wait(lambda: any(isinstance(f, Error) for f in carol.frames), "an error")
    await share("now the room is large, and me too", everyone)

    # dave drops, misses a share and resumes while the room is large.
    resume = Resume(dave.welcome.token, dave.welcome.epoch, dave.seq)
    seen = dave.shares()
    await dave.close()
    everyone.remove(dave)
    await share("said while dave was away", everyone)
    dave = await RawMember.join(relay.url, "dave", ClientPerMessageDeflateFactory(), resume)
    assert dave.welcome.resumed
    everyone.append(dave)
    await share("dave is back", everyone)
    assert seen + dave.shares() == said[2:]

    # Three leave: small again, each connection in its own context, started afresh.
    for raw in (carol, dave, erin):
        await raw.close()
    await fran.wait(lambda: relay.room.connection(erin.welcome.member_id) is None, "erin gone")
    assert not large(relay, fran.id)
    before = cache.deflates
    await share("the last words, in a small room again", [fran, alice])
    await share("the last words, in a small room again", [fran, alice])
    assert cache.deflates == before
    assert fran.shares() == alice.shares() == said
    assert carol.shares() == erin.shares() == said[2:6]

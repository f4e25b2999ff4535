"""Members who read slowly, or not at all: bounded by the relay, never a cost to the others.

Each slow member here is a bare websocket whose socket has a tiny receive
buffer and which stops reading, so that what the relay sends it piles up in
the relay's own write buffer, where the limits apply.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from circle_room.protocol import PROTOCOL_VERSIONS
from circle_room.protocol.close_codes import CloseCode
from circle_room.protocol.codec import decode, encode
from circle_room.protocol.messages import (
    EventFrame,
    Greeting,
    Hello,
    MemberAway,
    Resume,
    Shared,
    Welcome,
)
from circle_room.protocol.model import Presence
from circle_room.server.config import Rate, RelayConfig
from circle_room.server.relay import Relay
from tests.server.support import TIMEOUT, JoinFn, MakeRelay, Peer, RunningRelay, frames_in

FAST = Rate(burst=10_000, per_second=10_000)
LIMIT = 64 * 1024
CONFIG = RelayConfig(
    share_rate=FAST, frame_rate=FAST, seat_buffer=LIMIT, close_timeout=2.0, replay_stall=1.0
)
TEXT = " ".join(["I have been carrying this for a long time."] * 90)  # About 4 KB a share.


@dataclass
class Slow:
    """A member on a bare websocket that can stop reading."""

    ws: ClientConnection
    welcome: Welcome

    def stop_reading(self) -> None:
        self.ws.transport.pause_reading()

    async def read(
        self, until: Callable[[list[EventFrame]], bool] = lambda _: False
    ) -> tuple[int | None, list[EventFrame]]:
        """Read again, until ``until(events)`` or the relay closes: its close code, the events."""
        self.ws.transport.resume_reading()
        events: list[EventFrame] = []

        async def read() -> None:
            with contextlib.suppress(ConnectionClosed):
                while not until(events):
                    # A share said live comes as a ``Said`` (version 3): its ``Shared`` here.
                    for frame in frames_in(await self.ws.recv(), self.ws):  # type: ignore[arg-type]
                        if isinstance(frame, EventFrame):
                            events.append(frame)

        await asyncio.wait_for(read(), TIMEOUT)
        rcvd = self.ws.protocol.close_rcvd
        return (rcvd.code if rcvd is not None else None), events


async def slow_member(url: str, name: str, resume: Resume | None = None) -> Slow:
    """Join (or resume) over a socket that takes in very little at a time."""
    parts = urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((parts.hostname, parts.port))
    sock.setblocking(False)
    ws = await connect(url, sock=sock, compression=None, max_size=2**22, max_queue=4)
    greeting = decode(await ws.recv())  # type: ignore[arg-type]
    assert isinstance(greeting, Greeting)
    await ws.send(encode(Hello(PROTOCOL_VERSIONS[-1], name, "", "", True, resume)))
    while True:
        frame = decode(await ws.recv())  # type: ignore[arg-type]
        if isinstance(frame, Welcome):
            return Slow(ws, frame)


@pytest.fixture
async def plain(make_relay: MakeRelay, monkeypatch: pytest.MonkeyPatch) -> RunningRelay:
    """A relay with small seat limits, its sockets' kernel buffers small too.

    Else the kernel takes in megabytes before the relay's own buffer, where
    the limits apply, holds anything. Plain ``ws://``, so the members' sockets
    can be shaped as well.
    """
    handle = Relay._handle

    async def small_buffers(self: Relay, ws: ServerConnection) -> None:
        ws.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        await handle(self, ws)

    monkeypatch.setattr(Relay, "_handle", small_buffers)
    return await make_relay(CONFIG, tls=False)


async def share_until(fran: Peer, done: object, most: int = 2000) -> int:
    """Fran shares until ``done()`` holds (checked after each of her shares comes back)."""
    assert callable(done)
    for n in range(most):
        await fran.client.share(f"{n}: {TEXT}")
        await fran.wait(lambda n=n: f"{n}: {TEXT}" in fran.shares(), f"share {n} back")
        if done():
            return n + 1
    raise AssertionError(f"still not done after {most} shares")


async def test_a_member_who_stops_reading_is_closed_with_4012_and_resumes(
    plain: RunningRelay, join: JoinFn
) -> None:
    fran = await join(plain.url, "Fran", key=plain.key)
    bob = await join(plain.url, "Bob")
    slow = await slow_member(plain.url, "Sal")
    sal = slow.welcome.member_id
    slow.stop_reading()
    await fran.client.take_stick()
    await fran.wait(lambda: fran.state.holder == fran.id, "the stick")

    def away() -> bool:
        return fran.state.members[sal].presence is Presence.AWAY

    shares = await share_until(fran, away)
    assert fran.events(MemberAway) == [MemberAway(sal)]
    # Nobody else waited for Sal: Bob heard every share.
    await bob.wait(lambda: len(bob.shares()) == shares, "every share")
    # The relay holds no more than the limit (and a frame) for Sal, and let go of it.
    assert plain.room.connection(sal) is None
    code, events = await slow.read()
    assert code == CloseCode.BEHIND
    seen = events[-1].seq if events else slow.welcome.seq
    assert sum(1 for e in events if isinstance(e.event, Shared)) < shares
    # Sal's seat was kept: resuming from what Sal read brings the rest, in order.
    back = await slow_member(plain.url, "Sal", Resume(slow.welcome.token, slow.welcome.epoch, seen))
    assert back.welcome.member_id == sal and back.welcome.resumed
    last = plain.room.seq
    _, missed = await back.read(lambda got: bool(got) and got[-1].seq == last)
    seqs = [e.seq for e in events + missed]
    assert seqs == list(range(slow.welcome.seq + 1, last + 1)), "nothing lost, twice or late"
    assert sum(1 for e in events + missed if isinstance(e.event, Shared)) == shares
    await back.ws.close()


async def test_a_replay_goes_out_as_fast_as_it_is_read_not_all_at_once(
    plain: RunningRelay, join: JoinFn
) -> None:
    """Before, a resume pushed every missed frame into the socket at once."""
    fran = await join(plain.url, "Fran", key=plain.key)
    bob = await join(plain.url, "Bob")
    slow = await slow_member(plain.url, "Sal")
    sal = slow.welcome.member_id
    await slow.ws.close()
    await fran.wait(lambda: fran.state.members[sal].presence is Presence.AWAY, "Sal away")
    await fran.client.take_stick()
    for n in range(300):  # About 1.2 MB that Sal misses.
        await fran.client.share(f"{n}: {TEXT}")
    await fran.wait(lambda: len(fran.shares()) == 300, "all shared")
    resume = Resume(slow.welcome.token, slow.welcome.epoch, slow.welcome.seq)
    back = await slow_member(plain.url, "Sal", resume)
    back.stop_reading()
    # Plenty of turns of the event loop for the replay to push all it would.
    for n in range(20):
        await fran.client.share(f"meanwhile {n}")
        await bob.wait(lambda n=n: f"meanwhile {n}" in bob.shares(), f"meanwhile {n}")
    server_side = plain.room.connection(sal)
    assert server_side is not None, "still connected: a replay that waits is not behind"
    assert server_side.transport.get_write_buffer_size() < LIMIT
    # Reading again, Sal gets all of it, in order.
    last = plain.room.seq
    code, events = await back.read(lambda got: bool(got) and got[-1].seq == last)
    assert code is None
    assert sum(1 for e in events if isinstance(e.event, Shared)) == 320
    seqs = [e.seq for e in events]
    assert seqs == list(range(slow.welcome.seq + 1, plain.room.seq + 1))


async def test_a_replay_that_never_moves_is_closed_with_4012(
    plain: RunningRelay, join: JoinFn
) -> None:
    fran = await join(plain.url, "Fran", key=plain.key)
    slow = await slow_member(plain.url, "Sal")
    sal = slow.welcome.member_id
    await slow.ws.close()
    await fran.client.take_stick()
    for n in range(100):
        await fran.client.share(f"{n}: {TEXT}")
    await fran.wait(lambda: len(fran.shares()) == 100, "all shared")
    resume = Resume(slow.welcome.token, slow.welcome.epoch, slow.welcome.seq)
    back = await slow_member(plain.url, "Sal", resume)
    back.stop_reading()
    back_again = lambda: fran.state.members[sal].presence is Presence.PRESENT  # noqa: E731
    await fran.wait(back_again, "Sal back")
    # ``replay_stall`` (1 s) later, with not one more frame taken, Sal is away.
    await fran.wait(lambda: not back_again(), "Sal away again", timeout=CONFIG.replay_stall + 4)
    code, _ = await back.read()
    assert code == CloseCode.BEHIND

"""Floods, fuzzed frames and members that never read, with an honest member's share timed.

The relay runs in a process of its own (``tests/fault/relay_process.py``,
production limits except that the honest speaker may share often) and the
attackers in another (``tests/fault/attacker.py``), so neither's work lands
on the event loop that does the timing. Members that never read are plain
sockets here: they cost this process nothing but a file descriptor.

Figures are printed, never asserted on: a round trip is the time from alice
sending a share to bob, a listener, having it. What is asserted is that
every share arrived, in order, and nobody honest was disconnected.

Issue 11, points 7 and 9 each have a test here: a member who never reads is
cut off past a byte limit, a resume that never reads once its replay stalls.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from circle_room.protocol import PROTOCOL_VERSIONS
from circle_room.protocol.codec import decode, encode
from circle_room.protocol.messages import (
    EventFrame,
    Greeting,
    Hello,
    MemberAway,
    MemberBack,
    Resume,
    Shared,
    Welcome,
)
from circle_room.protocol.model import Presence
from circle_room.tui.client.connection import Status
from tests.fault.support import Spawned, Spawner, Timings, add_room, key_of, report
from tests.server.support import TIMEOUT, JoinFn, Peer, all_see

pytestmark = [pytest.mark.fault, pytest.mark.slow]

SAMPLES = 30
BIG = "\U0001f331" * 4000
"""The longest share: 16,000 bytes of UTF-8."""
PUSHED = 1000
"""Big shares pushed at members who never read: 16 MB each."""
PATIENCE = 60.0
"""Seconds one share may take under attack: long, because a flood can stall the relay."""


@dataclass
class Meeting:
    relay: Spawned
    fran: Peer
    alice: Peer
    bob: Peer

    @property
    def url(self) -> str:
        return self.relay.url

    async def timed(self, what: str, samples: int = SAMPLES) -> Timings:
        """Alice shares ``samples`` times; each until bob has it. All must arrive."""
        timings = Timings(what)
        for n in range(samples):
            text = f"{what} {n}"
            start = time.perf_counter()
            await self.alice.client.share(text)
            await self.bob.wait(lambda t=text: t in self.bob.shares(), repr(text), PATIENCE)
            timings.samples.append(time.perf_counter() - start)
        said = [s for s in self.bob.shares() if s.startswith(f"{what} ")]
        assert said == [f"{what} {n}" for n in range(samples)]
        for peer in (self.fran, self.alice, self.bob):
            assert peer.client.status is Status.CONNECTED, peer
        return timings

    async def push(self, count: int = PUSHED) -> None:
        """Alice shares ``count`` big shares; bob has them all when this returns."""
        before = len(self.bob.shares())
        for _ in range(count):
            await self.alice.client.share(BIG)
        await self.bob.wait(lambda: len(self.bob.shares()) >= before + count, "the push", 120)

    def memory(self) -> str:
        return f"relay RSS {self.relay.rss() / 2**20:.0f} MiB"


async def start_meeting(spawner: Spawner, join: JoinFn, data: Path, **config: object) -> Meeting:
    relay = await spawner.relay_process(data, **config)
    fran = await join(relay.url, "Fran", key=key_of(relay))
    alice = await join(relay.url, "alice")
    bob = await join(relay.url, "bob")
    await alice.client.raise_hand()
    await all_see([fran, alice, bob], lambda p: p.state.holder == alice.id, "alice's stick")
    return Meeting(relay, fran, alice, bob)


# ``join`` before ``spawner``: at the end the relay is killed first, so members who
# leave never wait on a relay that an attack left stuck.


@pytest.fixture
async def meeting(join: JoinFn, spawner: Spawner, tmp_path: Path) -> Meeting:
    """Production limits, but alice may share as often as the timing needs."""
    return await start_meeting(spawner, join, tmp_path / "data", share_rate=[1000, 1000])


@pytest.fixture
async def pushing(join: JoinFn, spawner: Spawner, tmp_path: Path) -> Meeting:
    """Alice may also send frames as fast as she likes, to push big shares at readers."""
    return await start_meeting(
        spawner, join, tmp_path / "data", share_rate=[10**6, 10**6], frame_rate=[10**6, 10**6]
    )


async def attacker(spawner: Spawner, kind: str, url: str) -> Spawned:
    attack = await spawner.start([sys.executable, "-m", "tests.fault.attacker", kind, url])
    await attack.wait_for("^ready$")
    return attack


async def stop(attack: Spawned) -> str:
    await attack.signal(15)
    await attack.finish()
    return next((line for line in attack.lines if line.startswith("attacked:")), attack.output)


# --- members who never read ------------------------------------------------------------------


async def raw(url: str, hello: Hello) -> tuple[ClientConnection, Welcome]:
    """A member on a bare websocket, with no keepalive of its own (it would hang up first)."""
    ws = await connect(
        url, compression=None, max_size=2**22, open_timeout=TIMEOUT, ping_interval=None
    )
    assert isinstance(decode(await asyncio.wait_for(ws.recv(), TIMEOUT)), Greeting)
    await ws.send(encode(hello))
    welcome = decode(await asyncio.wait_for(ws.recv(), TIMEOUT))
    assert isinstance(welcome, Welcome), welcome
    return ws, welcome


def stop_reading(ws: ClientConnection) -> None:
    """From now on nothing is read from the socket: the relay's writes pile up."""
    ws.transport.pause_reading()


async def never_reads(url: str, name: str) -> ClientConnection:
    ws, _ = await raw(url, Hello(PROTOCOL_VERSIONS[-1], name, "", "", True))
    stop_reading(ws)
    return ws


async def read_the_rest(ws: ClientConnection, last: str) -> tuple[int, bool]:
    """Read until the share ``last`` or the close: (shares read, whether it was closed)."""
    ws.transport.resume_reading()
    shares = 0
    try:
        while True:
            frame = decode(await asyncio.wait_for(ws.recv(), TIMEOUT * 4))
            if isinstance(frame, EventFrame) and isinstance(frame.event, Shared):
                shares += 1
                if frame.event.text == last:
                    return shares, False
    except ConnectionClosed:
        return shares, True


def drop(sockets: list[ClientConnection]) -> None:
    for ws in sockets:
        ws.transport.abort()


# --- the round trips under attack --------------------------------------------------------------


async def test_round_trip_with_nobody_attacking(meeting: Meeting) -> None:
    timings = await meeting.timed("quiet")
    report(f"round trip, {timings.summary()}; {meeting.memory()}")


@pytest.mark.timeout(600)
@pytest.mark.parametrize("kind", ["flood", "fuzz", "abort"])
async def test_round_trip_under_attack(meeting: Meeting, spawner: Spawner, kind: str) -> None:
    attack = await attacker(spawner, kind, meeting.url)
    try:
        timings = await meeting.timed(kind)
        memory = meeting.memory()
    finally:
        summary = await stop(attack)
    # What the relay still has to work through once the attacker is gone.
    after = await meeting.timed(f"after {kind}", samples=1)
    report(
        f"round trip, {timings.summary()}; {memory}; {summary}; "
        f"first share after the attack {after.samples[0] * 1000:.0f} ms"
    )


async def test_round_trip_with_30_members_who_never_read(pushing: Meeting) -> None:
    meeting = pushing
    before = meeting.relay.rss()
    stuck = [await never_reads(meeting.url, f"stuck {n}") for n in range(30)]
    try:
        await meeting.push()
        held = meeting.relay.rss() - before
        timings = await meeting.timed("stuck")
    finally:
        drop(stuck)
    report(
        f"round trip, {timings.summary()}; 30 members who never read, {PUSHED} big shares "
        f"pushed: relay memory grew {held / 2**20:.0f} MiB ({meeting.memory()})"
    )


# --- point 7: nothing bounds what the relay holds for a member who does not read ----------------


async def test_a_member_who_never_reads_is_cut_off_past_a_limit(pushing: Meeting) -> None:
    meeting = pushing
    stuck = await never_reads(meeting.url, "stuck")
    await meeting.push()
    await meeting.alice.client.share("the last one")
    await meeting.bob.wait(lambda: "the last one" in meeting.bob.shares(), "the last share")
    shares, closed = await read_the_rest(stuck, "the last one")
    assert closed and shares < PUSHED, f"the relay held all {shares} shares for it"


async def seat(url: str, name: str) -> Resume:
    """Join, then drop the connection: the seat is kept for the grace period."""
    ws, welcome = await raw(url, Hello(PROTOCOL_VERSIONS[-1], name, "", "", True))
    ws.transport.abort()
    return Resume(welcome.token, welcome.epoch, welcome.seq)


async def resume_without_reading(url: str, name: str, seat: Resume) -> ClientConnection:
    ws, welcome = await raw(url, Hello(PROTOCOL_VERSIONS[-1], name, "", "", True, seat))
    stop_reading(ws)
    assert welcome.resumed, "the seat was not kept"
    return ws


async def all_back(meeting: Meeting, count: int) -> None:
    fran = meeting.fran
    await fran.wait(lambda: len(fran.events(MemberBack)) >= count, f"{count} back", 60)


@pytest.fixture
async def stalling(join: JoinFn, spawner: Spawner, tmp_path: Path) -> Meeting:
    """As ``pushing``, but a replay that cannot get a frame out for 2 s is given up."""
    return await start_meeting(
        spawner,
        join,
        tmp_path / "data",
        share_rate=[10**6, 10**6],
        frame_rate=[10**6, 10**6],
        replay_stall=2.0,
    )


async def test_a_resume_that_never_reads_is_cut_off_when_its_replay_stalls(
    stalling: Meeting,
) -> None:
    meeting = stalling
    kept = await seat(meeting.url, "sleeper")
    await meeting.push()
    await meeting.alice.client.share("the last one")
    await meeting.bob.wait(lambda: "the last one" in meeting.bob.shares(), "the last share")
    sleeper = await resume_without_reading(meeting.url, "sleeper", kept)
    await all_back(meeting, 1)
    # Given up, the sleeper is away again (the first time was the dropped seat): the
    # relay stopped writing and closed; the seat is kept for a later resume.
    fran = meeting.fran
    await fran.wait(lambda: len(fran.events(MemberAway)) >= 2, "the sleeper cut off", 60)
    shares, closed = await read_the_rest(sleeper, "the last one")
    assert closed and shares < PUSHED, f"the relay replayed all {shares} shares to it"
    assert fran.state.members[sleeper_id(fran)].presence is Presence.AWAY


def sleeper_id(peer: Peer) -> int:
    return next(m.id for m in peer.state.members.values() if m.name == "sleeper")


@pytest.mark.timeout(240)
async def test_relay_memory_stays_flat_with_30_resumers_that_never_read(pushing: Meeting) -> None:
    meeting = pushing
    kept = [await seat(meeting.url, f"sleeper {n}") for n in range(30)]
    await meeting.push()
    before = meeting.relay.rss()
    sleepers = [
        await resume_without_reading(meeting.url, f"sleeper {n}", s) for n, s in enumerate(kept)
    ]
    try:
        await all_back(meeting, 30)
        timings = await meeting.timed("sleepers", samples=10)
        grew = meeting.relay.rss() - before
    finally:
        drop(sleepers)
    report(
        f"30 resumers that never read, {PUSHED} big shares to replay each: relay memory grew "
        f"{grew / 2**20:.0f} MiB; round trip meanwhile, {timings.summary()}"
    )
    assert grew < 64 * 2**20


# --- point 9: expected disconnects logged as errors --------------------------------------------


@pytest.mark.timeout(120)
async def test_connections_reset_under_a_flood_do_not_fill_the_relays_log(
    spawner: Spawner, join: JoinFn, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    add_room(data)
    relay = await spawner.serve(data)
    alice = await join(relay.url, "alice")
    bob = await join(relay.url, "bob")
    await alice.client.raise_hand()
    await bob.wait(lambda: bob.state.holder == alice.id, "alice's stick")
    attack = await attacker(spawner, "abort", relay.url)
    try:
        # Bob watches the bots crash: each crash is a member away.
        await bob.wait(lambda: len(bob.events(MemberAway)) >= 30, "30 crashes", 60)
        await bob.client.raise_hand()
        await bob.wait(lambda: bob.id in bob.state.queue, "his hand")
    finally:
        summary = await stop(attack)
    assert await relay.signal(15) == 0
    await relay.finish()
    noise = [line for line in relay.lines if "socket.send() raised exception" in line]
    report(f"relay log after an aborting flood ({summary}): {len(noise)} socket.send() lines")
    assert noise == []

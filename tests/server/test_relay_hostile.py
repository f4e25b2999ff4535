"""Hostile and broken peers, on bare websockets, while a real meeting goes on.

Each test runs a two-member meeting (alice holds the stick, bob listens) and
attacks from another connection; after every attack alice shares again and
bob must still hear her.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import msgpack
import pytest
from websockets.asyncio.client import ClientConnection

from circle_room.protocol.codec import encode
from circle_room.protocol.messages import (
    Admit,
    ChangeSettings,
    Command,
    CommandFrame,
    Error,
    GiveStick,
    Hello,
    Lock,
    LowerAllHands,
    LowerHand,
    MemberJoined,
    MoveHand,
    PauseCircle,
    Promote,
    Remove,
    ResumeCircle,
    StartRound,
    TakeStick,
    Welcome,
    Yield,
)
from circle_room.protocol.model import Presence, Settings
from circle_room.server import passcode_cache
from circle_room.server.config import Rate, RelayConfig
from circle_room.tui.client.connection import Status
from tests.server.support import (
    JoinFn,
    MakeRelay,
    Peer,
    RunningRelay,
    all_see,
    next_control,
    next_error,
    raw_connect,
    raw_greeting,
    raw_join,
    read_until_closed,
)

PASSCODE = "open sesame"
CONFIG = RelayConfig(handshake_timeout=0.5, share_rate=Rate(burst=100, per_second=100))
"""Shares are not what is being attacked, so alice may share after every attack."""


@dataclass
class Meeting:
    relay: RunningRelay
    alice: Peer
    bob: Peer
    attackers: list[ClientConnection]
    _said: itertools.count[int]

    async def still_going(self) -> None:
        """Alice shares; bob hears it; neither was disturbed."""
        text = f"still here, {next(self._said)}"
        await self.alice.client.share(text)
        await self.bob.wait(lambda: text in self.bob.shares(), repr(text))
        for peer in (self.alice, self.bob):
            assert peer.client.status is Status.CONNECTED
            assert peer.errors() == []

    async def attacker(self, name: str) -> tuple[ClientConnection, int]:
        ws, welcome = await raw_join(self.relay.url, name, passcode=PASSCODE)
        self.attackers.append(ws)
        return ws, welcome.member_id

    async def connection(self) -> ClientConnection:
        ws = await raw_connect(self.relay.url)
        self.attackers.append(ws)
        return ws


async def start_meeting(make_relay: MakeRelay, join: JoinFn, config: RelayConfig) -> Meeting:
    relay = await make_relay(config, passcode=PASSCODE)
    alice = await join(relay.url, "alice", passcode=PASSCODE)
    bob = await join(relay.url, "bob", passcode=PASSCODE)
    await alice.client.raise_hand()
    await all_see([alice, bob], lambda p: p.state.holder == alice.id, "alice holds the stick")
    meeting = Meeting(relay, alice, bob, [], itertools.count(1))
    await meeting.still_going()
    return meeting


@pytest.fixture
async def meeting(make_relay: MakeRelay, join: JoinFn) -> AsyncIterator[Meeting]:
    started = await start_meeting(make_relay, join, CONFIG)
    yield started
    for ws in started.attackers:
        await ws.close()


def command(ref: int, cmd: Command) -> bytes:
    return encode(CommandFrame(ref, cmd))


# --- after the welcome ---------------------------------------------------------------


async def test_garbage_bytes_get_an_error_and_the_connection_stays(meeting: Meeting) -> None:
    ws, _ = await meeting.attacker("mallory")
    for garbage in (b"\xc1\xff\x00garbage", msgpack.packb({"tag": 10}), msgpack.packb([999, 1])):
        await ws.send(garbage)
        error = await next_error(ws)
        assert (error.ref, error.code) == (0, "bad_frame")
        await meeting.still_going()
    # Still open and still served: a real command gets a real answer.
    await ws.send(command(7, Yield()))
    reply = await next_error(ws)
    assert (reply.ref, reply.code) == (7, "not_holder")


async def test_text_and_non_command_frames_are_bad_frames(meeting: Meeting) -> None:
    ws, _ = await meeting.attacker("mallory")
    await ws.send("a text frame")
    assert (await next_error(ws)).code == "bad_frame"
    await ws.send(encode(Hello(1, "again")))
    assert (await next_error(ws)).code == "bad_frame"
    await meeting.still_going()


async def test_a_frame_of_exactly_16_kib_is_read_one_byte_more_closes_1009(
    meeting: Meeting,
) -> None:
    ws, _ = await meeting.attacker("mallory")
    await ws.send(b"\x00" * (16 * 1024))
    assert (await next_error(ws)).code == "bad_frame"
    await ws.send(b"\x00" * (16 * 1024 + 1))
    code, _ = await read_until_closed(ws)
    assert code == 1009
    await meeting.still_going()


async def test_a_flood_is_rate_limited_then_cut_off(meeting: Meeting) -> None:
    ws, mallory = await meeting.attacker("mallory")
    for ref in range(1, 501):
        await ws.send(command(ref, Yield()))
    code, frames = await read_until_closed(ws)
    assert code == 1008
    errors = [f for f in frames if isinstance(f, Error)]
    limited = [e for e in errors if e.code == "rate_limited"]
    assert limited, "no rate limiting"
    assert all(e.retry_after is not None and e.retry_after > 0 for e in limited)
    assert {e.code for e in errors} == {"rate_limited", "not_holder"}
    # The relay hung up once more than max_strikes frames in a row were refused.
    assert len(limited) > CONFIG.max_strikes
    await meeting.still_going()
    await meeting.bob.wait(
        lambda: meeting.bob.state.members[mallory].presence is Presence.AWAY, "mallory away"
    )


async def test_every_frame_counts_against_the_frame_rate(meeting: Meeting) -> None:
    ws, _ = await meeting.attacker("mallory")
    burst = int(CONFIG.frame_rate.burst)
    for _ in range(burst + 20):
        await ws.send(b"\xc1")
    errors = [await next_error(ws) for _ in range(burst + 20)]
    assert [e.code for e in errors[:burst]] == ["bad_frame"] * burst
    limited = [e for e in errors if e.code == "rate_limited"]
    assert len(limited) >= 10, "garbage was not rate limited"
    assert all(e.retry_after is not None and e.retry_after > 0 for e in limited)
    await meeting.still_going()


async def test_retry_after_is_never_zero(make_relay: MakeRelay) -> None:
    now = 1000.0
    config = RelayConfig(frame_rate=Rate(burst=1, per_second=1))
    relay = await make_relay(config, passcode=PASSCODE, clock=lambda: now)
    ws, _ = await raw_join(relay.url, "mallory", passcode=PASSCODE)
    try:
        await ws.send(command(1, Yield()))  # spends the only token
        assert (await next_error(ws)).code == "not_holder"
        now += 0.999  # all but a sliver of a token is back
        await ws.send(command(2, Yield()))
        error = await next_error(ws)
        assert error.code == "rate_limited"
        assert error.retry_after is not None and error.retry_after > 0, error
    finally:
        await ws.close()


async def test_garbage_beyond_max_strikes_closes_1008(make_relay: MakeRelay, join: JoinFn) -> None:
    # A frame budget so large that every refusal below is for garbage, not for haste.
    config = RelayConfig(handshake_timeout=0.5, frame_rate=Rate(burst=10_000, per_second=10_000))
    meeting = await start_meeting(make_relay, join, config)
    ws, _ = await meeting.attacker("mallory")
    try:
        for _ in range(config.max_strikes):
            await ws.send(b"\xc1")
        for _ in range(config.max_strikes):
            assert (await next_error(ws)).code == "bad_frame"
        # Right at the limit the connection is still served ...
        await ws.send(command(1, Yield()))
        assert (await next_error(ws)).code == "not_holder"
        # ... and one more piece of garbage is one too many.
        await ws.send(b"\xc1")
        code, frames = await read_until_closed(ws)
        assert code == 1008
        assert [f.code for f in frames if isinstance(f, Error)] == ["bad_frame"]
        await meeting.still_going()
    finally:
        await ws.close()


async def test_members_cannot_use_facilitator_commands(meeting: Meeting) -> None:
    ws, mallory = await meeting.attacker("mallory")
    await meeting.bob.wait(lambda: mallory in meeting.bob.state.members, "mallory seated")
    room = meeting.relay.room
    before, seq = room.state, room.seq
    alice, bob = meeting.alice.id, meeting.bob.id
    commands: list[Command] = [
        PauseCircle("gotcha"),
        ResumeCircle(),
        Remove(alice),
        Lock(),
        GiveStick(mallory),
        TakeStick(),
        LowerHand(bob),
        LowerAllHands(),
        MoveHand(bob, 0),
        StartRound(),
        Admit(bob),
        ChangeSettings(Settings(waiting_room=True)),
        Promote(mallory),
    ]
    for ref, cmd in enumerate(commands, start=1):
        await ws.send(command(ref, cmd))
    for ref in range(1, len(commands) + 1):
        error = await next_error(ws)
        assert (error.ref, error.code) == (ref, "not_facilitator"), commands[ref - 1]
    assert (room.state, room.seq) == (before, seq), "a refused command changed the room"
    await meeting.still_going()
    assert meeting.alice.state.holder == alice


# --- the handshake --------------------------------------------------------------------


async def test_a_garbage_hello_closes_4000(meeting: Meeting) -> None:
    ws = await meeting.connection()
    await raw_greeting(ws)
    await ws.send(b"\x93\xc1garbage")
    code, frames = await read_until_closed(ws)
    assert code == 4000
    assert [f.code for f in frames if isinstance(f, Error)] == ["bad_hello"]
    await meeting.still_going()


async def test_a_command_instead_of_a_hello_closes_4000(meeting: Meeting) -> None:
    ws = await meeting.connection()
    await raw_greeting(ws)
    await ws.send(command(1, PauseCircle()))
    code, _ = await read_until_closed(ws)
    assert code == 4000
    await meeting.still_going()


async def test_an_unknown_protocol_version_closes_4001(meeting: Meeting) -> None:
    ws = await meeting.connection()
    greeting = await raw_greeting(ws)
    await ws.send(encode(Hello(max(greeting.versions) + 1, "future", PASSCODE, "", True)))
    code, frames = await read_until_closed(ws)
    assert code == 4001
    assert [f.code for f in frames if isinstance(f, Error)] == ["version"]
    await meeting.still_going()


async def test_an_unknown_room_closes_4004(meeting: Meeting) -> None:
    ws = await raw_connect(meeting.relay.url.replace("/tuesday", "/nowhere"))
    meeting.attackers.append(ws)
    code, frames = await read_until_closed(ws)
    assert (code, frames) == (4004, [])
    await meeting.still_going()


async def test_no_hello_in_time_closes_4008(meeting: Meeting) -> None:
    ws = await meeting.connection()
    await raw_greeting(ws)
    code, _ = await read_until_closed(ws, timeout=CONFIG.handshake_timeout + 5)
    assert code == 4008
    await meeting.still_going()


async def test_wrong_passcodes_are_refused_then_throttled(meeting: Meeting) -> None:
    async def attempt(passcode: str) -> tuple[int | None, list[Error]]:
        ws = await meeting.connection()
        await raw_greeting(ws)
        await ws.send(encode(Hello(1, "guesser", passcode, "", True)))
        code, frames = await read_until_closed(ws)
        return code, [f for f in frames if isinstance(f, Error)]

    for guess in range(5):
        code, errors = await attempt(f"guess {guess}")
        assert code == 4003
        assert [e.code for e in errors] == ["wrong_passcode"]
    code, errors = await attempt("guess 5")
    assert code == 4003
    [error] = errors
    assert error.code == "too_many_attempts"
    assert error.retry_after is not None and error.retry_after > 0
    # From this address even the right passcode waits now; the meeting does not.
    code, errors = await attempt(PASSCODE)
    assert [e.code for e in errors] == ["too_many_attempts"]
    await meeting.still_going()


async def test_missing_agreement_and_wrong_key_are_refused(meeting: Meeting) -> None:
    for hello, expected in (
        (Hello(1, "skipper", PASSCODE, "", False), "agreements"),
        (Hello(1, "faker", "", "not-the-key", True), "wrong_key"),
    ):
        ws = await meeting.connection()
        await raw_greeting(ws)
        await ws.send(encode(hello))
        code, frames = await read_until_closed(ws)
        assert code == 4003
        assert [f.code for f in frames if isinstance(f, Error)] == [expected]
    await meeting.still_going()


# --- names ------------------------------------------------------------------------------


async def test_names_cannot_carry_escape_sequences(meeting: Meeting) -> None:
    _, eve = await meeting.attacker("\x1b[31mEve\x1b[0m\u202e\x07")
    await meeting.bob.wait(lambda: eve in meeting.bob.state.members, "eve seated")
    name = meeting.bob.state.members[eve].name
    assert name == "[31mEve[0m"
    joined = [e for e in meeting.bob.events(MemberJoined) if e.member.id == eve]
    assert [e.member.name for e in joined] == [name]
    await meeting.still_going()


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("x" * 33, "bad_name"),
        ("\x1b\x07\u202e", "bad_name"),
        ("   ", "bad_name"),
        ("ALICE", "name_taken"),
        ("Bob", "name_taken"),
    ],
)
async def test_bad_names_are_refused(meeting: Meeting, name: str, code: str) -> None:
    ws = await meeting.connection()
    await raw_greeting(ws)
    await ws.send(encode(Hello(1, name, PASSCODE, "", True)))
    closed, frames = await read_until_closed(ws)
    assert closed == 4003
    assert [f.code for f in frames if isinstance(f, Error)] == [code]
    await meeting.still_going()


async def test_a_name_of_32_characters_is_fine(meeting: Meeting) -> None:
    _, member = await meeting.attacker("x" * 32)
    await meeting.bob.wait(lambda: member in meeting.bob.state.members, "the long name")
    assert meeting.bob.state.members[member].name == "x" * 32
    await meeting.still_going()


async def test_a_full_room_refuses_newcomers(make_relay: MakeRelay, join: JoinFn) -> None:
    relay = await make_relay(RelayConfig(max_members=2))
    await join(relay.url, "alice")
    await join(relay.url, "bob")
    ws = await raw_connect(relay.url)
    try:
        await raw_greeting(ws)
        await ws.send(encode(Hello(1, "carol", "", "", True)))
        code, frames = await read_until_closed(ws)
        assert code == 4003
        assert [f.code for f in frames if isinstance(f, Error)] == ["room_full"]
    finally:
        await ws.close()


async def test_the_longest_share_fits_in_a_frame_and_one_more_is_refused(
    meeting: Meeting,
) -> None:
    longest = "\U0001f331" * 4000  # four bytes each in UTF-8: close to the frame limit
    await meeting.alice.client.share(longest)
    await meeting.bob.wait(lambda: longest in meeting.bob.shares(), "the longest share")
    ref = await meeting.alice.client.share(longest + "!")
    assert (await meeting.alice.error(ref)).code == "share_too_long"
    meeting.alice.updates.clear()  # the refusal above was expected
    await meeting.still_going()
    assert meeting.alice.client.status is Status.CONNECTED


async def test_parallel_wrong_passcodes_are_counted_before_they_are_checked(
    meeting: Meeting, monkeypatch: pytest.MonkeyPatch
) -> None:

    checked: list[str] = []
    real = passcode_cache.check_passcode

    def counting(passcode: str, stored: str) -> bool:
        checked.append(passcode)
        return real(passcode, stored)

    monkeypatch.setattr(passcode_cache, "check_passcode", counting)

    async def attempt(passcode: str) -> list[str]:
        ws = await meeting.connection()
        await raw_greeting(ws)
        await ws.send(encode(Hello(1, "guesser", passcode, "", True)))
        _, frames = await read_until_closed(ws)
        return [f.code for f in frames if isinstance(f, Error)]

    # Twenty guesses at once: the bucket holds five, so at most five are ever hashed.
    codes = await asyncio.gather(*(attempt(f"guess {n}") for n in range(20)))
    assert len(checked) <= 5
    assert sum(c == ["wrong_passcode"] for c in codes) == len(checked)
    assert all(c in (["wrong_passcode"], ["too_many_attempts"]) for c in codes)
    await meeting.still_going()


async def test_a_ticket_stands_in_for_the_passcode_once_for_its_name(meeting: Meeting) -> None:
    tickets = meeting.relay.relay.tickets
    ticket = tickets.mint("tuesday", "Robin", time.time(), 60)

    async def hello(name: str) -> ClientConnection:
        ws = await meeting.connection()
        await raw_greeting(ws)
        await ws.send(encode(Hello(1, name, agreed=True, ticket=ticket)))
        return ws

    async def refusal(name: str) -> list[str]:
        _, frames = await read_until_closed(await hello(name))
        return [f.code for f in frames if isinstance(f, Error)]

    # Another name cannot use it: without a passcode, that is a wrong passcode.
    assert await refusal("Mallory") == ["wrong_passcode"]
    # Nor does it work as a passcode: a ticket rides in its own field.
    ws = await meeting.connection()
    await raw_greeting(ws)
    await ws.send(encode(Hello(1, "Robin", ticket, "", True)))
    _, frames = await read_until_closed(ws)
    assert [f.code for f in frames if isinstance(f, Error)] == ["wrong_passcode"]
    assert isinstance(await next_control(await hello("robin")), Welcome)
    assert len(tickets) == 0, "spent by the welcome"
    assert await refusal("Robin") == ["wrong_passcode"]
    await meeting.still_going()

"""Care in plain line mode, against a real relay: transcripts compared line by line.

A facilitator answers signals with ``/seen``, hears of quiet exits privately
and frees an away seat with ``/release``; a member hears their signal was
seen and nothing of anyone's quiet exit.
"""

from __future__ import annotations

import asyncio

import pytest

from circle_room.protocol.model import SignalKind
from circle_room.protocol.refusals import RefusalCode
from circle_room.tui.plain.session import PlainSession
from tests.server.support import TIMEOUT, JoinFn, MakeRelay
from tests.server.test_relay import drop
from tests.tui.plain.test_session import Script


def after_welcome(lines: list[str]) -> list[str]:
    """The transcript after the welcome and the room at a glance (worded elsewhere)."""
    return lines[lines.index("No hands are raised.") + 1 :]


async def test_a_facilitator_answers_signals_hears_quiet_exits_and_releases_seats(
    make_relay: MakeRelay, join: JoinFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = await make_relay()
    url = running.url
    lee = await join(url, "Lee")
    kim = await join(url, "Kim")
    script = Script()
    session = PlainSession(url, script, script.write, name="Sam", key=running.key)
    task = asyncio.get_running_loop().create_task(session.run())
    await script.expect("No hands are raised.")

    script.type("/seen")
    await script.expect("No signal is waiting for an answer.")
    await kim.client.signal(SignalKind.CHECK_IN)
    await script.expect(
        "Private signal from Kim: I need a check-in.", "/seen Kim tells them you saw it."
    )
    script.type("/seen")
    await script.expect("You let Kim know you saw their signal.")
    await kim.wait(lambda: kim.state.signals == (), "the answer")
    script.type("/seen kim")
    await script.expect("No signal from Kim is waiting for an answer.")

    script.type("/release Kim")
    await script.expect("Kim is here; only the seat of someone away can be released.")
    await drop(kim, [lee], monkeypatch)
    await script.expect("Kim lost their connection; their place is kept.")
    script.type("/release Kim")
    await script.expect("You released Kim's seat; the name is free again.")
    await lee.wait(lambda: kim.id not in lee.state.members, "Kim's seat released")
    again = await join(url, "Kim")
    await script.expect("Kim joined.")

    await lee.client.leave(quiet=True)
    await script.expect("Lee left quietly.")
    script.type("/quit")
    await script.expect("You left the circle. Take care.")
    assert await asyncio.wait_for(task, TIMEOUT) == 0
    await again.wait(lambda: len(again.state.members) == 1, "Sam to leave")

    assert after_welcome(script.lines) == [
        "No signal is waiting for an answer.",
        "Private signal from Kim: I need a check-in.",
        "/seen Kim tells them you saw it.",
        "You let Kim know you saw their signal.",
        "No signal from Kim is waiting for an answer.",
        "Kim is here; only the seat of someone away can be released.",
        "Kim lost their connection; their place is kept.",
        "You released Kim's seat; the name is free again.",
        "Kim joined.",
        "Lee left quietly.",
        "You left the circle. Take care.",
    ]


async def test_a_member_hears_their_signal_was_seen_and_nothing_of_a_quiet_exit(
    make_relay: MakeRelay, join: JoinFn
) -> None:
    running = await make_relay()
    url = running.url
    sam = await join(url, "Sam", key=running.key)
    lee = await join(url, "Lee")
    script = Script()
    session = PlainSession(url, script, script.write, name="Dana", agreed=True)
    task = asyncio.get_running_loop().create_task(session.run())
    await script.expect("No hands are raised.")
    client = session.client
    assert client is not None

    script.type("/signal checkin")
    await script.expect("Sent to the facilitators only: I need a check-in.")
    await sam.wait(lambda: sam.state.signals == (client.member_id,), "Dana's signal")
    await sam.client.ack_signal(client.member_id)
    await script.expect("A facilitator has seen your signal.")
    script.type("/seen Lee")
    await script.expect("Only a facilitator can do that.")
    refused = await lee.error(await lee.client.release_seat(sam.id))
    assert refused.code == RefusalCode.NOT_FACILITATOR

    await lee.client.leave(quiet=True)
    await sam.wait(lambda: lee.id not in sam.state.members, "Lee to go")
    # Events arrive in order: once Dana hears of the lock, Lee's exit came before it.
    await sam.client.lock()
    await script.expect("The room is locked: nobody new can join.")
    assert lee.id not in client.state.members
    script.type("/who")
    await script.expect("In the circle: Sam (facilitator), Dana (you).")
    script.type("/quit")
    await script.expect("You left the circle. Take care.")
    assert await asyncio.wait_for(task, TIMEOUT) == 0

    assert after_welcome(script.lines) == [
        "Sent to the facilitators only: I need a check-in.",
        "A facilitator has seen your signal.",
        "Only a facilitator can do that.",
        "The room is locked: nobody new can join.",
        "In the circle: Sam (facilitator), Dana (you).",
        "You left the circle. Take care.",
    ]

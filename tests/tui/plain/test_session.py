"""Plain line mode against a real relay: scripted meetings compared line by line.

The relay runs in-process on port 0; the facilitator and other members are
``CircleClient``s; the plain member reads from a scripted line source and
writes to a list. Each step waits for the line it expects (never a sleep),
so the transcript is deterministic and compared whole at the end.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import replace
from typing import Any

import pytest

from circle_room.protocol.model import Presence, Settings, SignalKind
from circle_room.server.config import RelayConfig
from circle_room.tui.plain.session import PlainSession
from circle_room.tui.plain.text import MEMBER_HELP
from tests.server.support import TIMEOUT, JoinFn, MakeRelay, Peer

AGREEMENTS = [
    "Welcome to the tuesday circle.",
    "Our group agreements:",
    "1. What is shared here stays here.",
    "2. One person shares at a time; we listen without cross-talk.",
    "3. It is always OK to pass.",
    "Type yes to accept them and join, or /quit to leave.",
]


class Script:
    """A line source the test types into, and the transcript the session wrote."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._input: asyncio.Queue[str | None] = asyncio.Queue()
        self._written = asyncio.Event()
        self._read = 0

    async def readline(self) -> str | None:
        return await self._input.get()

    def write(self, line: str) -> None:
        self.lines.append(line)
        self._written.set()

    def type(self, line: str | None) -> None:
        self._input.put_nowait(line)

    async def expect(self, *wanted: str) -> None:
        """Wait until each of ``wanted`` has been written (in order, after the last seen)."""

        async def until() -> None:
            for line in wanted:
                while line not in self.lines[self._read :]:
                    self._written.clear()
                    await self._written.wait()
                self._read += self.lines[self._read :].index(line) + 1

        try:
            await asyncio.wait_for(until(), TIMEOUT)
        except asyncio.TimeoutError:
            shown = "\n  ".join(self.lines[-12:])
            raise AssertionError(f"never saw {wanted!r}; last lines:\n  {shown}") from None


async def start_plain(url: str, script: Script, **kwargs: Any) -> asyncio.Task[int]:
    session = PlainSession(url, script, script.write, **kwargs)
    return asyncio.get_running_loop().create_task(session.run())


async def test_a_scripted_meeting_reads_like_speech(make_relay: MakeRelay, join: JoinFn) -> None:
    running = await make_relay(passcode="blue kettle")
    url = running.url
    sam = await join(url, "Sam", key=running.key)
    lee = await join(url, "Lee", passcode="blue kettle")
    script = Script()
    task = await start_plain(url, script, passcode="blue kettle")

    await script.expect(AGREEMENTS[-1])
    script.type("maybe")
    await script.expect("Please type yes to accept the agreements, or /quit to leave.")
    script.type("yes")
    await script.expect("What name would you like to use in the circle?")
    script.type("Dana\x07\u202e")  # Control and bidi characters never reach a screen.
    await script.expect("No hands are raised.")
    dana = running.room.state.find_name("Dana")
    assert dana is not None

    script.type("I want to say something")
    await script.expect(
        "Only the person holding the stick shares, and nobody holds it now. "
        "Type /hand to raise your hand."
    )
    await lee.client.raise_hand()
    await script.expect("Lee has the stick.")
    await lee.client.share("It has been a hard week.\nThank you for listening.")
    await script.expect("Lee: It has been a hard week. Thank you for listening.")
    script.type("me too, really")
    await script.expect(
        "Lee has the stick, so your words were not sent. "
        "Type /hand to raise your hand, or /metoo if you feel the same."
    )
    script.type("/metoo")
    await script.expect("You said me too.")
    await sam.client.me_too()
    await lee.wait(lambda: lee.state.turn is not None and lee.state.turn.metoo_count == 2, "2")
    script.type("/hand")
    await script.expect("Your hand is raised; you are 1st in the queue.")
    await sam.client.pause("Let's take a breath")
    await script.expect("The facilitator paused the circle: Let's take a breath")
    await sam.client.resume()
    await script.expect("The circle resumed.")
    await lee.client.yield_stick()
    await script.expect("You have the stick.")
    script.type("I feel the same. \x1b]0;owned\x07Thank you, Lee.")
    await script.expect("You: I feel the same. ]0;ownedThank you, Lee.")
    await lee.client.me_too()
    await sam.client.me_too()
    await script.expect("1 person said me too.", "2 people said me too.")
    script.type("/queue")
    await script.expect("You have the stick.")
    script.type("/who")
    await script.expect("In the circle: Sam (facilitator), Lee, Dana (you, has the stick).")
    script.type("/yield")
    await script.expect("You yielded the stick.")
    script.type("/signal checkin")
    await script.expect("Sent to the facilitators only: I need a check-in.")
    script.type("/pause now")
    await script.expect("Only a facilitator can do that.")
    script.type("/dance")
    await script.expect("There is no command /dance. Type /help for the commands.")
    await sam.client.start_round()
    await script.expect("Sam has the stick in the round.")
    await sam.client.pass_stick()
    await script.expect("Sam passed.", "Lee has the stick in the round.")
    await lee.client.pass_stick()
    await script.expect("Lee passed.", "You have the stick in the round.")
    script.type("/pass")
    await script.expect("You passed.", "The round is complete.")
    await lee.client.leave()
    await script.expect("Lee left.")
    script.type("/quit")
    await script.expect("You left the circle. Take care.")
    assert await asyncio.wait_for(task, TIMEOUT) == 0
    await sam.wait(lambda: dana.id not in sam.state.members, "Dana to leave")

    assert script.lines == [
        *AGREEMENTS,
        "Please type yes to accept the agreements, or /quit to leave.",
        "What name would you like to use in the circle?",
        "You are in the tuesday circle as Dana, with 3 people present. "
        "Type /help for the commands.",
        "Nobody holds the stick.",
        "No hands are raised.",
        "Only the person holding the stick shares, and nobody holds it now. "
        "Type /hand to raise your hand.",
        "Lee raised a hand (1st in the queue).",
        "Lee has the stick.",
        "Lee: It has been a hard week. Thank you for listening.",
        "Lee has the stick, so your words were not sent. "
        "Type /hand to raise your hand, or /metoo if you feel the same.",
        "You said me too.",
        "Your hand is raised; you are 1st in the queue.",
        "The facilitator paused the circle: Let's take a breath",
        "The circle resumed.",
        "Lee yielded the stick.",
        "You have the stick.",
        "Type to share. /yield when you are done, or /pass to pass it on.",
        "You: I feel the same. ]0;ownedThank you, Lee.",
        "1 person said me too.",
        "2 people said me too.",
        "You have the stick.",
        "No hands are raised.",
        "In the circle: Sam (facilitator), Lee, Dana (you, has the stick).",
        "You yielded the stick.",
        "Sent to the facilitators only: I need a check-in.",
        "Only a facilitator can do that.",
        "There is no command /dance. Type /help for the commands.",
        "Sam started a round: each person in turn shares or passes. Order: Sam, Lee and you.",
        "Sam has the stick in the round.",
        "Sam passed.",
        "Lee has the stick in the round.",
        "Lee passed.",
        "You have the stick in the round.",
        "Type to share. /yield when you are done, or /pass to pass it on.",
        "You passed.",
        "The round is complete.",
        "Lee left.",
        "You left the circle. Take care.",
    ]


async def test_a_facilitator_runs_the_circle_from_plain_mode(
    make_relay: MakeRelay, join: JoinFn
) -> None:
    running = await make_relay()
    url = running.url
    lee = await join(url, "Lee")
    kim = await join(url, "Kim")
    script = Script()
    task = await start_plain(url, script, name="Sam", key=running.key)
    await script.expect("No hands are raised.")
    assert script.lines[:2] == ["Welcome to the tuesday circle.", "Our group agreements:"]

    script.type("/help")
    await script.expect(MEMBER_HELP[-1], "/limit MINUTES (0 for no suggested time per share).")
    await lee.client.raise_hand()
    await kim.client.raise_hand()
    await script.expect("Lee has the stick.", "Kim raised a hand (1st in the queue).")
    script.type("/give kim")
    await script.expect("You gave the stick to Kim.")
    await lee.client.raise_hand()
    await script.expect("Lee raised a hand (1st in the queue).")
    script.type("/lower all")
    await script.expect("You lowered all hands.")
    script.type("/give Nobody")
    await script.expect("Nobody here is called Nobody. /who lists who is here.")
    script.type("/pause")
    await script.expect("You paused the circle: Let's take a breath.")
    await kim.wait(lambda: kim.state.pause is not None, "the pause")
    script.type("/resume")
    await script.expect("You resumed the circle.")
    script.type("/limit 5")
    await script.expect("Suggested time per share: 5 minutes.")
    script.type("/take")
    await script.expect("You have the stick.")
    script.type("/lock")
    await script.expect("The room is locked: nobody new can join.")
    script.type("/unlock")
    await script.expect("The room is open again.")
    await kim.client.signal(SignalKind.OK)
    await script.expect("Private signal from Kim: I'm OK.")
    script.type("/remove Lee")
    await script.expect("Lee was removed from the meeting.")
    await lee.wait(lambda: lee.client.status.value == "closed", "Lee to be closed")
    script.type("/round start")
    await script.expect(
        "You started a round: each person in turn shares or passes. Order: Kim and you."
    )
    script.type("/round stop")
    await script.expect("You ended the round.")
    script.type("/quit quiet")
    await script.expect("You left quietly. Take care.")
    assert await asyncio.wait_for(task, TIMEOUT) == 0


async def test_waiting_room_admission_from_plain_mode(make_relay: MakeRelay, join: JoinFn) -> None:
    running = await make_relay()
    url = running.url
    sam = await join(url, "Sam", key=running.key)
    await sam.client.change_settings(replace(Settings(), waiting_room=True))
    await sam.wait(lambda: sam.state.settings.waiting_room, "the waiting room")
    script = Script()
    task = await start_plain(url, script, name="Dana", agreed=True)
    await script.expect(
        "You are in the waiting room of tuesday.", "A facilitator will let you in shortly."
    )
    dana = running.room.state.find_name("Dana")
    assert dana is not None and dana.presence is Presence.WAITING
    await sam.client.admit(dana.id)
    await script.expect("You are in the circle. Welcome.", "Nobody holds the stick.")
    script.type(None)  # End of input leaves the circle.
    await script.expect("You left the circle. Take care.")
    assert await asyncio.wait_for(task, TIMEOUT) == 0


async def test_refusals_are_explained_and_asked_again(make_relay: MakeRelay, join: JoinFn) -> None:
    running = await make_relay(passcode="kettle")
    await join(running.url, "Dana", passcode="kettle")
    script = Script()
    task = await start_plain(running.url, script, name="dana", agreed=True)
    await script.expect("What is the room's passcode?")
    script.type("teapot")
    await script.expect(
        "That passcode is not right; check it with the facilitator.", "What is the room's passcode?"
    )
    script.type("kettle")
    await script.expect(
        # The name of whoever has it, which may only look like the one typed.
        "Someone here is already called Dana; pick another name.",
        "What name would you like to use in the circle?",
    )
    script.type("/quit")
    assert await asyncio.wait_for(task, TIMEOUT) == 1


async def test_a_locked_room_says_so_before_asking_anything(
    make_relay: MakeRelay, join: JoinFn
) -> None:
    running = await make_relay(passcode="kettle")
    fran = await join(running.url, "Fran", key=running.key)
    await fran.client.lock()
    await fran.wait(lambda: fran.state.locked, "the lock")
    script = Script()
    task = await start_plain(running.url, script, name="Dana")
    assert await asyncio.wait_for(task, TIMEOUT) == 1
    await script.expect("The room is locked right now; ask the facilitator to open it.")
    assert not any("agreements" in line or "passcode" in line for line in script.lines)


async def test_the_end_of_the_meeting_is_told(make_relay: MakeRelay) -> None:
    running = await make_relay(RelayConfig())
    script = Script()
    task = await start_plain(running.url, script, name="Dana", agreed=True)
    await script.expect("No hands are raised.")
    room = running.room
    for ws in room.connections():
        await ws.close(1000, "The meeting has ended.")
    await script.expect("The meeting has ended.", "Thank you for being here.")
    assert await asyncio.wait_for(task, TIMEOUT) == 0


async def test_a_cancelled_session_keeps_the_seat(make_relay: MakeRelay, join: JoinFn) -> None:
    running = await make_relay()
    sam: Peer = await join(running.url, "Sam", key=running.key)
    script = Script()
    task = await start_plain(running.url, script, name="Dana", agreed=True)
    await script.expect("No hands are raised.")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    dana = running.room.state.find_name("Dana")
    assert dana is not None
    await sam.wait(lambda: sam.state.members[dana.id].presence is Presence.AWAY, "Dana to be away")


async def test_unreachable_relay(unused_tcp_port: int) -> None:
    script = Script()
    task = await start_plain(f"ws://127.0.0.1:{unused_tcp_port}/tuesday", script)
    assert await asyncio.wait_for(task, TIMEOUT) == 1
    assert script.lines == [
        f"Nothing is listening at 127.0.0.1:{unused_tcp_port}; check the address and port "
        "you were given, and that the circle has been opened."
    ]


async def test_circle_join_plain_on_a_pipe(make_relay: MakeRelay, join: JoinFn) -> None:
    running = await make_relay(passcode="kettle")
    sam = await join(running.url, "Sam", key=running.key)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "circle_room.tui",
        "join",
        "--plain",
        running.url.removeprefix("wss://"),  # The line as the host prints it.
        "--name",
        "Dana",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(b"yes\nkettle\n")
    await sam.wait(lambda: sam.state.find_name("Dana") is not None, "Dana to join")
    await sam.client.pause("Let's take a breath")
    lines: list[str] = []
    while not lines or not lines[-1].startswith("The facilitator paused"):
        raw = await asyncio.wait_for(process.stdout.readline(), TIMEOUT)
        assert raw, lines
        lines.append(raw.decode().rstrip("\n"))
    process.stdin.write(b"/quit\n")
    out, _ = await asyncio.wait_for(process.communicate(), TIMEOUT)
    lines += out.decode().splitlines()
    assert lines[-3:] == [
        "No hands are raised.",
        "The facilitator paused the circle: Let's take a breath",
        "You left the circle. Take care.",
    ], lines
    assert "What is the room's passcode?" in lines
    assert process.returncode == 0


async def test_circle_join_takes_the_passcode_from_the_environment(
    make_relay: MakeRelay, join: JoinFn
) -> None:
    running = await make_relay(passcode="kettle")
    sam = await join(running.url, "Sam", key=running.key)
    process = await asyncio.create_subprocess_exec(
        *(
            sys.executable,
            "-m",
            "circle_room.tui",
            "join",
            "--plain",
            running.url.removeprefix("wss://"),  # The line as the host prints it.
        ),
        *("--name", "Dana"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "CIRCLE_PASSCODE": "kettle"},
    )
    assert process.stdin is not None
    process.stdin.write(b"yes\n")
    await sam.wait(lambda: sam.state.find_name("Dana") is not None, "Dana to join")
    process.stdin.write(b"/quit\n")
    out, _ = await asyncio.wait_for(process.communicate(), TIMEOUT)
    assert "What is the room's passcode?" not in out.decode()
    assert process.returncode == 0

"""``circle join --plain`` keeps its seat: a closed client started again takes it back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from circle_room.protocol.model import Presence
from circle_room.tui.client.saved_seat import HeldSeat, SavedSeat, SeatShelf
from tests.server.support import ROOM, TIMEOUT, JoinFn, MakeRelay
from tests.tui.plain.test_session import AGREEMENTS, Script, start_plain


def seats(state: Path) -> list[str]:
    found = state / "seats"
    return sorted(p.name for p in found.glob("*.json")) if found.exists() else []


async def closed(task: asyncio.Task[int]) -> None:
    """End a session the way a closed terminal does: no goodbye."""
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_closed_plain_client_takes_its_seat_and_hand_back(
    make_relay: MakeRelay, join: JoinFn, tmp_path: Path
) -> None:
    running = await make_relay(passcode="blue kettle")
    sam = await join(running.url, "Sam", key=running.key)
    await sam.client.raise_hand()  # Sam holds the stick; Dana's hand will wait.
    state = tmp_path / "state"
    held = SeatShelf(state).take(running.url)
    script = Script()
    task = await start_plain(running.url, script, name="Dana", passcode="blue kettle", seat=held)
    await script.expect(AGREEMENTS[-1])
    script.type("yes")
    await script.expect("Sam has the stick.")
    script.type("/hand")
    await script.expect("Your hand is raised; you are 1st in the queue.")
    dana = running.room.state.find_name("Dana")
    assert dana is not None
    await closed(task)
    held.release()
    await sam.wait(lambda: sam.state.members[dana.id].presence is Presence.AWAY, "away")
    assert len(seats(state)) == 1

    again = Script()
    task = await start_plain(running.url, again, seat=SeatShelf(state).take(running.url))
    await again.expect(
        "Welcome back, Dana: your seat was kept.",
        "You missed part of the meeting while you were away; what was shared then was not kept.",
        "Sam has the stick.",
        "Hands raised, in order: you.",
    )
    # Not asked to accept the agreements again, nor for a name or the passcode: the seat
    # is hers (started again just as "circle join --plain ADDRESS", nothing given).
    assert not set(AGREEMENTS) & set(again.lines)
    assert "What name would you like to use in the circle?" not in again.lines
    assert "What is the room's passcode?" not in again.lines
    await sam.wait(lambda: sam.state.members[dana.id].presence is Presence.PRESENT, "back")
    assert running.room.state.queue == (dana.id,)
    again.type("/quit")
    await again.expect("You left the circle. Take care.")
    assert await asyncio.wait_for(task, TIMEOUT) == 0
    assert seats(state) == []  # Left: nothing is kept to come back to.


async def test_a_seat_that_is_gone_is_joined_afresh_without_blame(
    make_relay: MakeRelay, tmp_path: Path
) -> None:
    running = await make_relay()
    state = tmp_path / "state"
    held = SeatShelf(state).take(running.url)
    held.save(SavedSeat(running.url, ROOM, "Dana", 5, "from-a-meeting-long-over", "x", 2, 0.0))
    script = Script()
    task = await start_plain(running.url, script, seat=held)
    await script.expect(*AGREEMENTS)  # As on a first visit.
    script.type("yes")
    await script.expect(
        "You are in the tuesday circle as Dana, with 1 person present. Type /help for the commands."
    )
    assert not any("agreements first" in line for line in script.lines)
    assert held.saved is not None and held.saved.token != "from-a-meeting-long-over"
    script.type("/quit")
    assert await asyncio.wait_for(task, TIMEOUT) == 0
    assert seats(state) == []


async def test_the_end_of_the_meeting_is_said_once_and_forgets_the_seat(
    make_relay: MakeRelay, tmp_path: Path
) -> None:
    running = await make_relay()
    state = tmp_path / "state"
    held: HeldSeat = SeatShelf(state).take(running.url)
    script = Script()
    task = await start_plain(running.url, script, name="Dana", agreed=True, seat=held)
    await script.expect("No hands are raised.")
    assert len(seats(state)) == 1
    await running.relay.end_meeting()
    await script.expect("The meeting has ended.", "Thank you for being here.")
    assert await asyncio.wait_for(task, TIMEOUT) == 0
    assert script.lines.count("The meeting has ended.") == 1
    assert seats(state) == []

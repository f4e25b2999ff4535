"""Before and around the meeting screen: a kept seat taken back, an SSH seat asked
nothing twice, the join form, the waiting room's top line, and how each ending is
said. Real relay on port 0, driven with Pilot."""

from __future__ import annotations

import time
from pathlib import Path

from textual.widgets import Input, Static

from circle_room.protocol.messages import MemberLeft
from circle_room.protocol.model import Presence, Settings
from circle_room.tui.app.app import CircleApp
from circle_room.tui.app.link import Details, Dialer
from circle_room.tui.app.screens.circle import CircleScreen
from circle_room.tui.app.screens.dialogs import ConfirmScreen
from circle_room.tui.app.screens.ended import EndedScreen
from circle_room.tui.app.screens.join import JoinScreen
from circle_room.tui.client.connection import CircleClient, Status
from circle_room.tui.client.resumable import Credentials, ResumableClient
from circle_room.tui.client.saved_seat import SavedSeat, SeatShelf
from tests.tui.app.test_app import (
    ROOM,
    SIZE,
    WAIT,
    Room,
    enter_circle,
    open_room,
    statics,
    until,
)

SEAT_CODE = (
    "If you are disconnected, reconnect and give the name Dana "
    "and the seat code 402913 to get your place back."
)


def kept_app(room: Room, state: Path, name: str = "Ana") -> CircleApp:
    """The app as ``circle join`` opens it: its seat kept in ``state``."""
    seat = SeatShelf(state).take(room.url, name)
    return CircleApp(Details(room.url, name), dialer=Dialer(room.url, seat=seat))


def kept_files(state: Path) -> list[str]:
    seats = state / "seats"
    return sorted(p.name for p in seats.iterdir()) if seats.exists() else []


def error_text(app: CircleApp) -> str:
    return str(app.screen.query_one("#error", Static).content)


# --- a seat kept across runs of circle join -----------------------------------------------


async def test_a_kept_seat_is_taken_back_without_asking_anything(tmp_path: Path) -> None:
    async with open_room(tmp_path / "relay") as room:
        ben = await room.member("Ben")
        await ben.raise_hand()  # Ben holds the stick; Ana's hand will wait in the queue.
        app = kept_app(room, tmp_path / "state")
        async with app.run_test(size=SIZE) as pilot:
            await enter_circle(pilot)
            await pilot.press("ctrl+r")
            ana = app.client
            assert ana is not None
            await until(pilot, lambda: room.state.queue == (ana.member_id,))
            # Killed: the link dies without a goodbye; the app never says one.
            ana.abort()
            app.exit()
        assert app.dialer.seat is not None
        app.dialer.seat.release()
        await ben.wait_until(
            lambda c: c.state.members[ana.member_id].presence is Presence.AWAY, WAIT
        )

        again = kept_app(room, tmp_path / "state", name="")
        async with again.run_test(size=SIZE) as pilot:
            # The room has agreements: a join screen would wait for Enter forever.
            await until(pilot, lambda: isinstance(again.screen, CircleScreen))
            assert again.client is not None and again.client.member_id == ana.member_id
            await ben.wait_until(
                lambda c: c.state.members[ana.member_id].presence is Presence.PRESENT, WAIT
            )
            assert room.state.queue == (ana.member_id,)  # Her hand, in its place.
            assert [m.name for m in room.state.members.values()] == ["Ben", "Ana"]
            again.exit()
        assert again.dialer.seat is not None
        again.dialer.seat.release()


async def test_a_seat_that_is_gone_brings_the_join_screen_without_blame(tmp_path: Path) -> None:
    async with open_room(tmp_path / "relay") as room:
        state = tmp_path / "state"
        held = SeatShelf(state).take(room.url)
        held.save(SavedSeat(room.url, ROOM, "Ana", 7, "from-a-meeting-long-over", "x", 3, 0.0))
        held.release()
        app = kept_app(room, state)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, JoinScreen))
            assert error_text(app) == ""
            assert "What is shared here stays here." in statics(app.screen)
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, CircleScreen))
            seat = app.dialer.seat
            assert seat is not None and seat.saved is not None
            assert seat.saved.token != "from-a-meeting-long-over"  # The new seat is kept.
            app.exit()
        assert app.dialer.seat is not None
        app.dialer.seat.release()


async def test_leaving_forgets_the_kept_seat_and_says_goodbye(tmp_path: Path) -> None:
    async with open_room(tmp_path / "relay") as room:
        ben = await room.member("Ben")
        state = tmp_path / "state"
        app = kept_app(room, state)
        async with app.run_test(size=SIZE) as pilot:
            await enter_circle(pilot)
            assert kept_files(state)
            await pilot.press("ctrl+l")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("tab", "enter")
            await ben.wait_until(lambda c: c.state.find_name("Ana") is None, WAIT)
        assert kept_files(state) == []
        assert app.farewell == "You left the circle. Take care."


async def test_a_quiet_exit_forgets_the_kept_seat_and_says_nothing(tmp_path: Path) -> None:
    async with open_room(tmp_path / "relay") as room:
        ben = await room.member("Ben")
        state = tmp_path / "state"
        app = kept_app(room, state)
        async with app.run_test(size=SIZE) as pilot:
            await enter_circle(pilot)
            await pilot.press("ctrl+x")
            await ben.wait_until(lambda c: c.state.find_name("Ana") is None, WAIT)
        assert kept_files(state) == []
        assert app.quiet and app.farewell == ""


async def test_the_end_of_the_meeting_forgets_the_kept_seat(tmp_path: Path) -> None:
    async with open_room(tmp_path / "relay") as room:
        state = tmp_path / "state"
        app = kept_app(room, state)
        async with app.run_test(size=SIZE) as pilot:
            await enter_circle(pilot)
            await room.relay.end_meeting()
            await until(pilot, lambda: isinstance(app.screen, EndedScreen))
            assert kept_files(state) == []
        assert app.farewell == "The meeting has ended. Thank you for being here."


async def test_a_removed_member_is_told_so_on_the_terminal_too(tmp_path: Path) -> None:
    async with open_room(tmp_path / "relay") as room:
        fay = await room.facilitator()
        state = tmp_path / "state"
        app = kept_app(room, state)
        async with app.run_test(size=SIZE) as pilot:
            await enter_circle(pilot)
            ana = room.state.find_name("Ana")
            assert ana is not None
            await fay.remove(ana.id)
            await until(pilot, lambda: isinstance(app.screen, EndedScreen))
            assert kept_files(state) == []
        assert app.farewell == "A facilitator removed you from this meeting. Take care."


# --- the host ----------------------------------------------------------------------------


async def test_the_host_leaving_ends_the_meeting_and_is_not_announced(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        ben = await room.member("Ben")
        ended: list[float] = []

        async def end_meeting() -> None:
            ended.append(time.monotonic())
            await room.relay.end_meeting()

        app = CircleApp(
            Details(room.url, "Fay", key=room.key), hosting=True, end_meeting=end_meeting
        )
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, CircleScreen))
            await ben.wait_until(lambda c: c.state.find_name("Fay") is not None, WAIT)
            await pilot.press("ctrl+l")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("tab", "enter")
            await ben.wait_until(lambda c: c.status is Status.CLOSED, WAIT)
        assert len(ended) == 1
        # Members hear that the meeting ended, never "Fay left." first.
        assert not room.has_heard(ben, MemberLeft)()


# --- an SSH seat: ssh asked for the passcode and the name already ---------------------------


class TicketDialer(Dialer):
    """Dials as the SSH child does: with a one-time ticket in place of the passcode."""

    def __init__(self, room: Room, name: str, kept: Credentials | None = None) -> None:
        super().__init__(room.url)
        self._room, self._name, self._kept = room, name, kept

    def client(self, details: Details, agreed: bool) -> CircleClient:
        ticket = self._room.relay.tickets.mint(ROOM, self._name, time.time(), 60.0)
        kept, self._kept = self._kept, None
        return ResumableClient(self.url, name=self._name, ticket=ticket, agreed=agreed, kept=kept)


async def test_an_ssh_seat_shows_only_the_agreements(tmp_path: Path) -> None:
    async with open_room(tmp_path, passcode="blue kettle") as room:
        details = Details(room.url, "Dana", locked=True)
        app = CircleApp(details, dialer=TicketDialer(room, "Dana"), notice=SEAT_CODE)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, JoinScreen))
            await pilot.pause()
            assert not app.screen.query(Input)  # Neither a name nor a "passcode" again.
            shown = statics(app.screen)
            assert "What is shared here stays here." in shown
            assert "You join as Dana." in shown
            assert "seat code 402913" in shown  # On the screen, not in a toast over the button.
            assert len(app._notifications) == 0
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, CircleScreen))
            await until(pilot, lambda: len(app._notifications) == 1)
            assert [n.message for n in app._notifications] == [SEAT_CODE]
            assert room.state.find_name("Dana") is not None


async def test_a_seat_code_rejoin_goes_straight_back_in(tmp_path: Path) -> None:
    settings = Settings(waiting_room=True)
    async with open_room(tmp_path, passcode="blue kettle", settings=settings) as room:
        fay = await room.facilitator()
        ticket = room.relay.tickets.mint(ROOM, "Dana", time.time(), 60.0)
        first = ResumableClient(room.url, name="Dana", ticket=ticket)
        await first.connect()
        await fay.admit(first.member_id)
        await fay.wait_until(
            lambda c: c.state.members[first.member_id].presence is Presence.PRESENT, WAIT
        )
        kept = first.snapshot()
        assert kept is not None
        first.abort()
        await first.close()
        await fay.wait_until(
            lambda c: c.state.members[first.member_id].presence is Presence.AWAY, WAIT
        )

        details = Details(room.url, "Dana", locked=True, agreed=True)
        kept = Credentials(kept.name, kept.token)  # As the gateway keeps it: no state.
        app = CircleApp(details, dialer=TicketDialer(room, "Dana", kept), notice=SEAT_CODE)
        async with app.run_test(size=SIZE) as pilot:
            # No join screen (it would wait for Enter), so no "A facilitator will let
            # you in from the waiting room" for a seat that is let straight in.
            await until(pilot, lambda: isinstance(app.screen, CircleScreen))
            await fay.wait_until(
                lambda c: c.state.members[first.member_id].presence is Presence.PRESENT, WAIT
            )
            assert app.client is not None and app.client.member_id == first.member_id


# --- the join form and the top line --------------------------------------------------------


async def test_the_join_form_drops_its_complaint_once_you_type(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        app = room.app(name="")
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, JoinScreen))
            await pilot.press("enter")
            await until(pilot, lambda: error_text(app) == "Please fill in your name.")
            await pilot.press("A")
            await until(pilot, lambda: error_text(app) == "")
            await pilot.press("n", "a", "enter")
            await until(pilot, lambda: isinstance(app.screen, CircleScreen))


async def test_escape_on_the_join_screen_says_you_did_not_join(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        app = room.app(name="")
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, JoinScreen))
            await pilot.press("escape")
        assert app.farewell == "You did not join. Take care."


async def test_a_waiting_member_is_not_told_nobody_is_here(tmp_path: Path) -> None:
    async with open_room(tmp_path, settings=Settings(waiting_room=True)) as room:
        fay = await room.facilitator()
        app = room.app("Ana")
        async with app.run_test(size=SIZE) as pilot:
            screen = await enter_circle(pilot)
            await until(pilot, lambda: screen.room_bar.shown is not None)
            top = screen.room_bar.shown
            assert top is not None
            assert "in the waiting room" in top.plain and "0 here" not in top.plain
            ana = room.state.find_name("Ana")
            assert ana is not None
            await fay.admit(ana.id)
            await until(pilot, lambda: "· 2 here ·" in str(screen.room_bar.shown))

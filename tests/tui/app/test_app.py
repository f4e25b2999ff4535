"""The Textual app against a real relay on port 0, driven with Pilot.

Other members are headless ``CircleClient``s. Nothing sleeps: every wait is a
bounded loop of ``pilot.pause()`` on a condition, or ``client.wait_until``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from textual.command import Command, CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input, Static

from circle_room.protocol.codec import decode
from circle_room.protocol.messages import (
    Event,
    EventFrame,
    MemberLeft,
    Shared,
    SignalSent,
    StickReleased,
)
from circle_room.protocol.model import (
    LeaveReason,
    Presence,
    Release,
    RoomState,
    Settings,
    SignalKind,
)
from circle_room.server.config import RelayConfig
from circle_room.server.relay import Relay
from circle_room.server.store import Store
from circle_room.server.tls import own_certificate
from circle_room.tui.app.app import CircleApp
from circle_room.tui.app.link import Details
from circle_room.tui.app.screens.circle import CircleScreen
from circle_room.tui.app.screens.dialogs import ConfirmScreen, SignalScreen
from circle_room.tui.app.screens.ended import EndedScreen
from circle_room.tui.app.screens.join import JoinScreen
from circle_room.tui.app.screens.pause import PauseScreen
from circle_room.tui.client.connection import CircleClient, Received, Status
from circle_room.tui.client.view import View

ROOM = "tuesday"
SIZE = (80, 24)
WAIT = 5.0


@dataclass
class Room:
    relay: Relay
    store: Store
    key: str
    url: str
    clients: list[CircleClient] = field(default_factory=list)
    heard: dict[int, list[Event]] = field(default_factory=dict)
    """Every event each headless member received, by member id."""
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def member(self, name: str, *, key: str = "", passcode: str = "") -> CircleClient:
        client = CircleClient(self.url, name=name, key=key, passcode=passcode)
        await client.connect()
        self.clients.append(client)
        heard = self.heard[client.member_id] = []

        async def record() -> None:
            async for update in client.updates():
                if isinstance(update, Received):
                    heard.append(update.event)

        self._tasks.append(asyncio.get_running_loop().create_task(record()))
        return client

    def has_heard(self, client: CircleClient, kind: type) -> Callable[[], bool]:
        return lambda: any(isinstance(e, kind) for e in self.heard[client.member_id])

    def logged(self, kind: type) -> list[Any]:
        """Events of ``kind`` in the relay's log, oldest first."""
        events = (decode(entry.data) for entry in self.relay.rooms[ROOM].log)
        return [f.event for f in events if isinstance(f, EventFrame) and isinstance(f.event, kind)]

    async def facilitator(self, name: str = "Fay") -> CircleClient:
        return await self.member(name, key=self.key)

    def app(self, name: str = "Ana", *, passcode: str = "", key: str = "") -> CircleApp:
        return CircleApp(Details(self.url, name, passcode, key))

    @property
    def state(self) -> RoomState:
        return self.relay.rooms[ROOM].state


@asynccontextmanager
async def open_room(
    tmp_path: Path,
    *,
    passcode: str = "",
    settings: Settings | None = None,
    config: RelayConfig | None = None,
) -> AsyncIterator[Room]:
    store = Store(tmp_path)
    key = store.add_room(ROOM, passcode, settings)
    relay = Relay(store, config or RelayConfig(ping_interval=None))
    tls = own_certificate(tmp_path)
    await relay.start("127.0.0.1", 0, tls.context)
    room = Room(relay, store, key, f"wss://127.0.0.1:{relay.port}/{ROOM}#{tls.fingerprint}")
    try:
        yield room
    finally:
        for client in room.clients:
            await client.close()
        for task in room._tasks:
            task.cancel()
        await relay.close()
        store.close()


async def until(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = WAIT) -> None:
    """Let the app run until ``condition()`` holds; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {condition.__doc__ or condition}")
        await pilot.pause(0.02)


async def enter_circle(pilot: Pilot[None]) -> CircleScreen:
    """Accept the agreements on the join screen and wait for the circle."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, JoinScreen))
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, CircleScreen) and view_of(app) is not None)
    assert isinstance(app.screen, CircleScreen)
    return app.screen


async def choose(pilot: Pilot[None], words: str) -> None:
    """Open the command palette (ctrl+p), find ``words`` by typing them, and run it."""
    app = pilot.app
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, CommandPalette))
    palette = app.screen
    await pilot.press(*words)
    found = palette.query_one(CommandList)

    def listed() -> int | None:
        for index in range(found.option_count):
            option = found.get_option_at_index(index)
            if isinstance(option, Command) and option.hit.text == words:
                return index
        return None

    await until(pilot, lambda: listed() is not None)
    found.highlighted = listed()
    for _ in range(3):
        if app.screen is not palette:
            return
        await pilot.press("enter")
        await pilot.pause()
    await until(pilot, lambda: app.screen is not palette)


def view_of(app: object) -> View | None:
    screen = getattr(app, "_circle", None)
    return screen.view if isinstance(screen, CircleScreen) else None


def statics(screen: object) -> str:
    """All the text of a screen's ``Static`` widgets (empty until it is composed)."""
    return " ".join(str(s.content) for s in screen.query(Static))  # type: ignore[attr-defined]


def text_of(widget: Static) -> str:
    return str(widget.content)


def now_text(app: CircleApp) -> str:
    screen = app._circle
    assert screen is not None
    return screen.now_sharing.text


def log_text(app: CircleApp) -> str:
    screen = app._circle
    assert screen is not None
    return "\n".join(line.text.rstrip() for line in screen.share_log.lines)


# --- joining ------------------------------------------------------------------------------


async def test_join_screen_shows_agreements_and_asks_for_what_is_missing(tmp_path: Path) -> None:
    async with open_room(tmp_path, passcode="blue kettle") as room:
        app = room.app(name="")
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, JoinScreen))
            screen = app.screen
            shown = " ".join(str(s.content) for s in screen.query(Static))
            assert "What is shared here stays here." in shown
            assert "It is always OK to pass." in shown
            # Name first, then the passcode; Enter on an empty field does not join.
            await pilot.press("enter")
            assert isinstance(app.screen, JoinScreen)
            await pilot.press(*"Ana", "tab", *"blue kettle", "enter")
            await until(pilot, lambda: isinstance(app.screen, CircleScreen))
            await until(pilot, lambda: room.state.find_name("Ana") is not None)


async def test_wrong_passcode_keeps_the_join_screen_with_the_reason(tmp_path: Path) -> None:
    async with open_room(tmp_path, passcode="blue kettle") as room:
        app = room.app(name="Ana", passcode="red kettle")
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, JoinScreen))
            await pilot.press("enter")
            await until(
                pilot, lambda: "not right" in str(app.screen.query_one("#error", Static).content)
            )
            # The same wrong passcode again: the reason comes back, not "Joining…" forever.
            await pilot.press("enter")
            await until(pilot, lambda: app.screen.query_one("#join").disabled is False)
            assert "not right" in str(app.screen.query_one("#error", Static).content)
            field = app.screen.query_one("#passcode", Input)
            field.value = "blue kettle"
            field.focus()
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, CircleScreen))


async def test_a_facilitator_key_without_a_name_asks_for_the_name(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        app = CircleApp(Details(room.url, "", "", room.key))
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, JoinScreen))
            app.screen.query_one("#name", Input).value = "Fay"
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, CircleScreen))


async def test_unknown_room_says_so(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        app = CircleApp(Details(room.url.replace(ROOM, "nowhere"), "Ana"))
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, EndedScreen))
            await until(pilot, lambda: "no room" in statics(app.screen))


async def test_nothing_listening_offers_to_try_again(tmp_path: Path) -> None:
    app = CircleApp(Details("ws://127.0.0.1:9/tuesday", "Ana"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, EndedScreen))
        assert app.screen.check_action("retry", ()) is True


# --- the talking stick --------------------------------------------------------------------


async def test_raise_hand_get_the_stick_share_see_metoo_and_yield(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        ben = await room.member("Ben")
        cal = await room.member("Cal")
        await ben.raise_hand()  # The stick is free: Ben holds it at once.
        await ben.wait_until(lambda c: c.state.holder == c.member_id, WAIT)
        app = room.app("Ana")
        async with app.run_test(size=SIZE) as pilot:
            screen = await enter_circle(pilot)
            await until(pilot, lambda: "Ben is sharing" in now_text(app))
            await pilot.press("ctrl+r")
            await until(pilot, lambda: room.state.queue == (app.client.member_id,))  # type: ignore[union-attr]
            # The list goes in the stick's order: Ben shares, then Ana is next.
            await until(pilot, lambda: "(you)" in str(screen.members.get_option_at_index(1).prompt))
            members = str(screen.members.get_option_at_index(1).prompt)
            assert "you're next" in members

            await cal.raise_hand()
            await ben.yield_stick()
            await until(pilot, lambda: "You hold the stick" in now_text(app))
            assert screen.focused is screen.share_box
            assert screen.share_box.is_open

            await pilot.press(*"I felt heard", "enter")
            await until(pilot, room.has_heard(ben, Shared))
            assert "You: I felt heard" in log_text(app)
            assert "0 said me too" in now_text(app)

            await ben.me_too()
            await until(pilot, lambda: "1 said me too" in now_text(app))

            await pilot.press("ctrl+y")
            await cal.wait_until(lambda c: c.state.holder == c.member_id, WAIT)
            await until(pilot, lambda: "Cal is sharing" in now_text(app))
            assert not screen.share_box.is_open
            assert screen.focused is screen.share_box  # Still the draft box: typing writes.


async def test_pass_when_the_stick_comes_and_nothing_was_shared(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        ben = await room.member("Ben")
        app = room.app("Ana")
        async with app.run_test(size=SIZE) as pilot:
            screen = await enter_circle(pilot)
            await pilot.press("ctrl+r")
            await until(pilot, lambda: "You hold the stick" in now_text(app))
            assert screen.check_action("pass_stick", ()) is True
            assert screen.check_action("yield_stick", ()) is False
            await pilot.press("ctrl+y")
            await until(pilot, room.has_heard(ben, StickReleased))
            assert [e.reason for e in room.logged(StickReleased)] == [Release.PASSED]
            await until(pilot, lambda: "The stick is free" in now_text(app))
            assert "Ana passed." not in log_text(app) and "You passed." in log_text(app)


async def test_metoo_goes_to_the_speaker_and_can_be_taken_back(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        ben = await room.member("Ben")
        await ben.raise_hand()
        await ben.wait_until(lambda c: c.state.holder == c.member_id, WAIT)
        await ben.share("It was a hard week.")
        app = room.app("Ana")
        async with app.run_test(size=SIZE) as pilot:
            await enter_circle(pilot)
            await until(pilot, lambda: "Ben is sharing" in now_text(app))
            await pilot.press("ctrl+t")
            await ben.wait_until(
                lambda c: c.state.turn is not None and c.state.turn.metoo_count == 1, WAIT
            )
            await until(pilot, lambda: "You said me too" in now_text(app))
            await pilot.press("ctrl+t")
            await ben.wait_until(
                lambda c: c.state.turn is not None and c.state.turn.metoo_count == 0, WAIT
            )
            # Listeners never see a count: only the speaker (and facilitators) do.
            assert "said me too" not in now_text(app).replace("You said me too", "")


async def test_a_round_brings_the_stick_and_says_so(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        fay = await room.facilitator()
        app = room.app("Ana")
        async with app.run_test(size=SIZE) as pilot:
            await enter_circle(pilot)
            await fay.start_round()
            # Fay is first in circle order, then Ana.
            await fay.wait_until(lambda c: c.state.holder == c.member_id, WAIT)
            await until(pilot, lambda: "(round)" in now_text(app) and "Round:" in now_text(app))
            await fay.pass_stick()
            await until(pilot, lambda: "You hold the stick (round)" in now_text(app))
            await pilot.press("ctrl+y")  # Pass: nothing shared yet.
            await fay.wait_until(lambda c: c.state.round is None, WAIT)
            await until(pilot, lambda: "The round is complete." in log_text(app))


# --- pause, signals, removal, reconnecting ---------------------------------------------------


async def test_pause_screen_appears_with_the_message_and_clears(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        fay = await room.facilitator()
        app = room.app("Ana")
        async with app.run_test(size=SIZE) as pilot:
            await enter_circle(pilot)
            await fay.pause("Let's breathe together.")
            await until(pilot, lambda: isinstance(app.screen, PauseScreen))

            def calm_text() -> str:
                return str(app.screen.query_one("#calm", Static).content)

            # The screen is current as soon as it is pushed; its text comes on mount.
            await until(pilot, lambda: "Let's breathe together." in calm_text())
            calm = calm_text()
            assert "Paused for less than a minute" in calm
            assert "Fay" in calm
            # Members can still signal the facilitators privately.
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, SignalScreen))
            await pilot.press("1")
            await until(pilot, room.has_heard(fay, SignalSent))
            assert room.heard[fay.member_id][-1].kind is SignalKind.CHECK_IN
            await until(pilot, lambda: "Sent to the facilitators only" in log_text(app))
            await fay.resume()
            await until(pilot, lambda: isinstance(app.screen, CircleScreen))
            assert "The circle resumed." in log_text(app)


async def test_resume_clears_the_pause_even_with_a_dialog_open(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        fay = await room.facilitator()
        app = room.app("Ana")
        async with app.run_test(size=SIZE) as pilot:
            await enter_circle(pilot)
            await fay.pause()
            await until(pilot, lambda: isinstance(app.screen, PauseScreen))
            await pilot.press("ctrl+g")
            await fay.resume()
            await until(pilot, lambda: isinstance(app.screen, CircleScreen))


async def test_removed_member_is_told_and_cannot_act(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        fay = await room.facilitator()
        app = room.app("Ana")
        async with app.run_test(size=SIZE) as pilot:
            await enter_circle(pilot)
            assert app.client is not None
            await fay.remove(app.client.member_id)
            await until(pilot, lambda: isinstance(app.screen, EndedScreen))
            await until(pilot, lambda: "removed you" in statics(app.screen))
            assert app.screen.check_action("retry", ()) is False


async def test_reconnect_banner_then_back_in_place(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        app = room.app("Ana")
        async with app.run_test(size=SIZE) as pilot:
            screen = await enter_circle(pilot)
            await pilot.press("ctrl+r")
            await until(pilot, lambda: "You hold the stick" in now_text(app))
            client = app.client
            assert client is not None
            client.abort()
            await until(pilot, lambda: "Reconnecting (attempt" in text_of(screen.status_line))
            assert screen.status_line.has_class("-reconnecting")
            await until(pilot, lambda: "Connected" in text_of(screen.status_line))
            # Identity and the stick were kept.
            assert room.state.holder == client.member_id
            assert "You hold the stick" in now_text(app)


async def test_leave_asks_first(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        ben = await room.member("Ben")
        app = room.app("Ana")
        async with app.run_test(size=SIZE) as pilot:
            await enter_circle(pilot)
            await pilot.press("ctrl+l")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, CircleScreen))
            await pilot.press("ctrl+l")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("tab", "enter")  # Enter alone would say stay.
            await ben.wait_until(lambda c: c.state.find_name("Ana") is None, WAIT)
        assert not app.quiet
        assert [e.reason for e in room.logged(MemberLeft)] == [LeaveReason.LEFT]


async def test_quiet_exit_is_immediate_and_unannounced(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        ben = await room.member("Ben")
        app = room.app("Ana")
        async with app.run_test(size=SIZE) as pilot:
            screen = await enter_circle(pilot)
            await pilot.press("ctrl+r")
            await until(pilot, lambda: screen.share_box.is_open)
            assert screen.focused is screen.share_box
            # Works even while typing in the share box.
            await pilot.press("ctrl+x")
            await ben.wait_until(lambda c: c.state.find_name("Ana") is None, WAIT)
        assert app.quiet
        assert [e.reason for e in room.logged(MemberLeft)] == [LeaveReason.QUIET]


async def test_waiting_room_then_admitted(tmp_path: Path) -> None:
    async with open_room(tmp_path, settings=Settings(waiting_room=True)) as room:
        fay = await room.facilitator()
        app = room.app("Ana")
        async with app.run_test(size=SIZE) as pilot:
            await enter_circle(pilot)
            await until(pilot, lambda: "waiting room" in now_text(app))
            assert app._circle is not None and app._circle.check_action("raise_hand", ()) is False
            member = room.state.find_name("Ana")
            assert member is not None and member.presence is Presence.WAITING
            await fay.admit(member.id)
            await until(pilot, lambda: "The stick is free" in now_text(app))


async def test_refusals_are_shown_gently(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        fay = await room.facilitator()
        app = room.app("Ana")
        async with app.run_test(size=SIZE) as pilot:
            await enter_circle(pilot)
            await fay.pause()
            await until(pilot, lambda: isinstance(app.screen, PauseScreen))
            # A member cannot raise a hand while paused; the key is not even offered.
            assert app.screen.check_action("signal", ()) is True
            assert not any(b.binding.key == "ctrl+r" for b in app.screen.active_bindings.values())


async def test_no_color_keeps_every_state_in_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    async with open_room(tmp_path) as room:
        ben = await room.member("Ben")
        await ben.raise_hand()
        app = room.app("Ana")
        assert app.no_color
        async with app.run_test(size=SIZE) as pilot:
            screen = await enter_circle(pilot)
            await until(pilot, lambda: "Ben is sharing" in now_text(app))
            await pilot.press("ctrl+r")
            await until(
                pilot, lambda: "you're next" in str(screen.members.get_option_at_index(1).prompt)
            )
            assert "sharing" in str(screen.members.get_option_at_index(0).prompt)
            assert "Connected" in text_of(screen.status_line)


async def test_names_and_shares_cannot_drive_the_terminal(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        mallory = await room.member("[bold]Mal[/]\x1b]0;pwned\x07")
        app = room.app("Ana")
        async with app.run_test(size=SIZE) as pilot:
            screen = await enter_circle(pilot)
            await mallory.raise_hand()
            await mallory.wait_until(lambda c: c.state.holder == c.member_id, WAIT)
            await mallory.share("\x1b[2J\x1b[31mcrimson [link=x]click[/link]\u202e")
            await until(pilot, lambda: "crimson" in log_text(app))
            shown = log_text(app) + now_text(app)
            assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
            assert "[bold]Mal[/]" in shown  # Markup shown as typed, not applied.
            assert "[link=x]click[/link]" in shown
            assert Status.CONNECTED is app.client.status  # type: ignore[union-attr]
            del screen

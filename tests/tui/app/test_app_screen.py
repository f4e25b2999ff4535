"""The meeting screen a first-time member understands and cannot misfire (issue 8).

Driven with Pilot against a connection the test feeds event by event, so
each check is about the screen alone: what typing does, what Enter does,
where a confirmation starts, what fits in a small window, what the list
shows and in which order, what the palette offers, and when the bell rings.
Every command the app would send is recorded by the fake connection; nothing
sleeps, every wait is on a condition.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from textual.pilot import Pilot

from circle_room.protocol.messages import (
    Command,
    Event,
    HandRaised,
    LowerAllHands,
    MemberLeft,
    Pass,
    Paused,
    RaiseHand,
    RoundStarted,
    Share,
    Shared,
    StickGiven,
    StickReleased,
)
from circle_room.protocol.model import LeaveReason, Release, RoomState, Turn, Via
from circle_room.tui.app.app import CircleApp
from circle_room.tui.app.link import Details
from circle_room.tui.app.screens import circle_actions
from circle_room.tui.app.screens.circle import CircleScreen
from circle_room.tui.app.screens.dialogs import ConfirmScreen
from circle_room.tui.app.screens.facilitator import SettingsScreen
from circle_room.tui.app.screens.help import HelpScreen
from circle_room.tui.app.widgets.key_bar import offered
from circle_room.tui.app.widgets.tick import Tick
from circle_room.tui.client.updates import Received
from tests.tui.app.test_app import choose, until
from tests.tui.app.test_app_snapshots import (
    ANA,
    BEN,
    DEE,
    FAY,
    NOW,
    SHARES,
    URL,
    ScriptedClient,
    ScriptedDialer,
    room,
)
from tests.tui.client.test_view import plain

PROSE = "hey, I was about to say: my week was hard. me too? quit? yes. [ok] 123 /hand"
"""A sentence with every letter the old single-letter keys used, and then some."""


class FedClient(ScriptedClient):
    """A scripted connection that then takes more events from the test, one at a time."""

    def __init__(self, me: int, state: RoomState, script: list[Event]) -> None:
        super().__init__(me, state, script)
        self.more: asyncio.Queue[Event] = asyncio.Queue()

    async def updates(self) -> AsyncIterator[Received]:
        seq = 0
        for seq, event in enumerate(self._script, start=1):
            received = self.meeting.fold(seq, event, NOW)
            assert received is not None
            yield received
        self.delivered = True
        while True:
            event = await self.more.get()
            seq += 1
            received = self.meeting.fold(seq, event, NOW)
            assert received is not None
            yield received


class Meeting:
    """An app on a ``FedClient``: feed it events, read what it sent."""

    def __init__(self, me: int, state: RoomState, script: list[Event], **options: object) -> None:
        self.client = FedClient(me, state, script)
        details = Details(URL, "Ana", "x", key="k" if me == FAY else "")
        self.app = CircleApp(
            details,
            dialer=ScriptedDialer(self.client),
            clock=lambda: NOW,
            **options,  # type: ignore[arg-type]
        )

    @property
    def sent(self) -> list[Command]:
        return self.client.sent

    @property
    def screen(self) -> CircleScreen:
        screen = self.app._circle
        assert screen is not None
        return screen

    async def enter(self, pilot: Pilot[None]) -> CircleScreen:
        app = self.app
        if not app.details.key:
            await until(pilot, lambda: type(app.screen).__name__ == "JoinScreen")
            await pilot.press("enter")
        await until(pilot, lambda: self.client.delivered and app._circle is not None)
        await until(pilot, lambda: self.screen.view is not None)
        await pilot.pause()
        return self.screen

    async def feed(self, pilot: Pilot[None], *events: Event) -> None:
        for event in events:
            self.client.more.put_nowait(event)
        await until(pilot, lambda: self.client.more.empty())
        await pilot.pause()


def listening() -> RoomState:
    """Ben shares; nobody's hand is up."""
    return room(queue=())


def holding(shares: int = 0) -> RoomState:
    turn = Turn(2, ANA, Via.QUEUE, NOW - 10, running_since=NOW - 10, shares=shares)
    return room(turn=turn, queue=(DEE,), next_turn_id=3)


def now_text(meeting: Meeting) -> str:
    return meeting.screen.now_sharing.text


# --- 1. no action from prose -----------------------------------------------------------


@pytest.mark.parametrize("where", ["box", "list", "log"])
async def test_a_sentence_typed_anywhere_only_writes_the_draft(where: str) -> None:
    meeting = Meeting(ANA, listening(), SHARES)
    async with meeting.app.run_test(size=(80, 24)) as pilot:
        screen = await meeting.enter(pilot)
        assert screen.focused is screen.share_box  # The box has the focus from the start.
        if where != "box":
            await pilot.press(*(["tab"] if where == "list" else ["tab", "tab"]))
            assert screen.focused is not screen.share_box
        await pilot.press(*PROSE)
        await pilot.pause()
        assert meeting.sent == []
        assert isinstance(meeting.app.screen, CircleScreen)  # Nothing opened either.
        assert screen.share_box.text == PROSE
        assert screen.focused is screen.share_box


async def test_enter_without_the_stick_keeps_the_draft_and_says_how_to_ask() -> None:
    meeting = Meeting(ANA, listening(), SHARES)
    async with meeting.app.run_test(size=(80, 24)) as pilot:
        screen = await meeting.enter(pilot)
        await pilot.press(*"I want to say something", "enter")
        await pilot.pause()
        assert meeting.sent == []
        assert screen.share_box.text == "I want to say something"
        assert "^R raises your hand" in str(screen.share_box.border_title)
        assert "^R raises your hand" in now_text(meeting)  # The hint is there all along.
        # The hand goes up by its key; the draft waits; the stick comes; Enter shares it.
        await pilot.press("ctrl+r")
        await until(pilot, lambda: meeting.sent == [RaiseHand()])
        await meeting.feed(pilot, HandRaised(ANA))
        await pilot.press("enter")
        await pilot.pause()
        assert "your hand is up (you're next)" in str(screen.share_box.border_title)
        await meeting.feed(
            pilot, StickReleased(BEN, 1, Release.YIELDED, NOW), StickGiven(ANA, 2, Via.QUEUE, NOW)
        )
        await until(pilot, lambda: screen.share_box.is_open)
        await pilot.press("enter")
        await until(pilot, lambda: Share("I want to say something") in meeting.sent)
        assert screen.share_box.text == ""


async def test_the_counter_counts_against_the_limit() -> None:
    meeting = Meeting(ANA, holding(), [])
    async with meeting.app.run_test(size=(80, 24)) as pilot:
        screen = await meeting.enter(pilot)
        box = screen.share_box
        assert not box.border_subtitle
        await pilot.press(*"Hello there")
        await until(pilot, lambda: box.border_subtitle == "11/4000")
        box.load_text("x" * 4003)
        await until(pilot, lambda: "4003/4000: too long by 3" in str(box.border_subtitle))
        await pilot.press("enter")
        await pilot.pause()
        assert not any(isinstance(c, Share) for c in meeting.sent)


async def test_passing_with_an_unsent_draft_asks_first_and_keeps_it() -> None:
    meeting = Meeting(ANA, holding(), [])
    async with meeting.app.run_test(size=(80, 24)) as pilot:
        screen = await meeting.enter(pilot)
        await pilot.press(*"Not sure yet")
        await pilot.press("ctrl+y")
        await until(pilot, lambda: isinstance(meeting.app.screen, ConfirmScreen))
        await pilot.press("enter")  # Starts on "go back to my draft".
        await until(pilot, lambda: isinstance(meeting.app.screen, CircleScreen))
        assert meeting.sent == [] and screen.share_box.text == "Not sure yet"
        await pilot.press("ctrl+y")
        await until(pilot, lambda: isinstance(meeting.app.screen, ConfirmScreen))
        await pilot.press("tab", "enter")
        await until(pilot, lambda: meeting.sent == [Pass()])
        assert screen.share_box.text == "Not sure yet"


# --- 2. safe by default ------------------------------------------------------------------


async def test_enter_alone_ends_nothing_removes_nobody_takes_nothing() -> None:
    meeting = Meeting(FAY, room(), SHARES, hosting=True)
    async with meeting.app.run_test(size=(80, 24)) as pilot:
        await meeting.enter(pilot)
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(meeting.app.screen, ConfirmScreen))
        assert "End the meeting for everyone?" in str(meeting.app.screen._question)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(meeting.app.screen, CircleScreen))
        for words in ("Ana: remove from this meeting…", "Take the stick", "Ana: give the stick"):
            await choose(pilot, words)
            await until(pilot, lambda: isinstance(meeting.app.screen, ConfirmScreen))
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(meeting.app.screen, CircleScreen))
        assert meeting.sent == [] and not meeting.app._leaving


async def test_lowering_all_hands_can_be_undone(monkeypatch: pytest.MonkeyPatch) -> None:
    meeting = Meeting(FAY, room(), SHARES)
    async with meeting.app.run_test(size=(80, 24)) as pilot:
        screen = await meeting.enter(pilot)
        await choose(pilot, "Lower all hands")
        await until(pilot, lambda: screen.has_class("-pending"))
        assert "Lowering all hands in a moment. ^Z: undo" in str(screen.undo_bar.shown)
        await pilot.press("ctrl+z")
        await until(pilot, lambda: not screen.has_class("-pending"))
        assert screen._pending_timer is None and meeting.sent == []
        # Not undone: it goes once its few seconds are up.
        monkeypatch.setattr(circle_actions, "UNDO_SECONDS", 0.05)
        await choose(pilot, "Lower all hands")
        await until(pilot, lambda: meeting.sent == [LowerAllHands()])
        assert not screen.has_class("-pending")


# --- 3. layout that fits ----------------------------------------------------------------


async def test_shares_wrap_again_on_every_resize_and_the_newest_stays_in_view() -> None:
    long = "It has been a long week, and I have been thinking about what you said. " * 3
    meeting = Meeting(ANA, listening(), [Shared(1, BEN, long)])
    async with meeting.app.run_test(size=(60, 20)) as pilot:
        screen = await meeting.enter(pilot)
        log = screen.share_log
        narrow = len(log.lines)
        for size in ((120, 40), (60, 20), (100, 30)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            width = log.scrollable_content_region.width
            assert log.virtual_size.width <= width  # No horizontal scrolling, ever.
            assert all(line.cell_length <= width for line in log.lines)
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert len(log.lines) < narrow  # Wider: fewer lines.
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        for n in range(6):
            await meeting.feed(pilot, Shared(1, BEN, f"More {n}."))
        await until(pilot, lambda: log.scroll_y == log.max_scroll_y)
        # The Now box grows (a round starts), the log shrinks: its newest line stays in view.
        await meeting.feed(pilot, RoundStarted(FAY, (ANA, DEE, FAY)))
        await until(pilot, lambda: "Round:" in now_text(meeting))
        await pilot.pause()
        assert log.scroll_y == log.max_scroll_y


async def test_at_60x20_the_list_folds_and_nothing_is_cut_off() -> None:
    meeting = Meeting(FAY, room(), SHARES)
    async with meeting.app.run_test(size=(60, 20)) as pilot:
        screen = await meeting.enter(pilot)
        side = screen.query_one("#side")
        assert not side.display and screen.strip.display
        assert "▶Ben" in str(screen.strip.shown)
        # Every key offered is in the footer, each line within the width.
        lines = str(screen.key_bar.shown).splitlines()
        assert all(len(line) <= 58 for line in lines)
        for key, words in offered(screen):
            assert f"{key} {words}" in str(screen.key_bar.shown)
        # The Now box shows all its lines, inside the window.
        now = screen.now_sharing
        assert now.region.bottom <= 20 and now.region.right <= 60
        shown = sum(p.region.height for p in (now.head, now.clock, now.tail) if p.display)
        assert shown >= len(now.text.splitlines())
        # Tab opens the whole list; Tab again closes it.
        await pilot.press("tab")
        await until(pilot, lambda: side.display and screen.focused is screen.members)
        await pilot.press("tab")
        await until(pilot, lambda: not side.display)


# --- 4 and 5. hierarchy, queue and round order ------------------------------------------


async def test_the_list_follows_the_stick_and_only_facilitators_get_a_cursor() -> None:
    member = Meeting(ANA, room(queue=(DEE, ANA)), SHARES)
    async with member.app.run_test(size=(80, 24)) as pilot:
        screen = await member.enter(pilot)
        rows = [o.id for o in screen.members.options]
        assert rows[:3] == [f"m{BEN}", f"m{DEE}", f"m{ANA}"]  # Holder, then hands in line.
        assert "2nd in line" in str(screen.members.get_option_at_index(2).prompt)
        holder = screen.members.get_option_at_index(0).prompt
        assert "reverse" in str(holder.spans[0].style)  # type: ignore[union-attr]
        assert screen.members.highlighted is None and screen.members.selected is None
        await pilot.press("tab", "down", "down")
        assert screen.members.selected is None  # A member acts on no rows.
    facilitator = Meeting(FAY, room(), SHARES)
    async with facilitator.app.run_test(size=(80, 24)) as pilot:
        screen = await facilitator.enter(pilot)
        assert screen.members.highlighted is None  # Nobody is picked until someone is.
        await pilot.press("tab", "down")
        assert screen.members.selected == BEN
        assert "Picked: Ben (sharing)" in str(screen.selection.shown)
        assert "give the stick" not in str(screen.selection.shown)  # He has it.
        await pilot.press("down")
        assert "Picked: Ana (next)" in str(screen.selection.shown)
        assert "Enter: give the stick, lower this hand" in str(screen.selection.shown)


async def test_the_pick_never_slides_to_a_neighbour() -> None:
    meeting = Meeting(FAY, room(), SHARES)
    async with meeting.app.run_test(size=(80, 24)) as pilot:
        screen = await meeting.enter(pilot)
        await pilot.press("tab", "down", "down")
        assert screen.members.selected == ANA
        await meeting.feed(pilot, HandRaised(BEN))  # Rows move: the pick follows Ana.
        assert screen.members.selected == ANA
        await meeting.feed(pilot, MemberLeft(ANA, LeaveReason.LEFT))
        await until(pilot, lambda: screen.members.selected is None)


async def test_round_order_is_shown() -> None:
    meeting = Meeting(ANA, listening(), SHARES)
    async with meeting.app.run_test(size=(80, 24)) as pilot:
        screen = await meeting.enter(pilot)
        await meeting.feed(pilot, RoundStarted(FAY, (DEE, ANA, FAY)))
        await until(
            pilot, lambda: "Round: Dee Okonkwo-Lin…, then you, then Fay." in now_text(meeting)
        )
        rows = [o.id for o in screen.members.options]
        assert rows[:4] == [f"m{BEN}", f"m{DEE}", f"m{ANA}", f"m{FAY}"]
        assert "2nd in round" in str(screen.members.get_option_at_index(2).prompt)


# --- 6. discoverable ----------------------------------------------------------------------


async def test_the_palette_offers_only_what_the_room_allows_now() -> None:
    meeting = Meeting(ANA, listening(), SHARES)
    async with meeting.app.run_test(size=(80, 24)) as pilot:
        screen = await meeting.enter(pilot)
        words = [offer.words for offer in screen.offers()]
        assert "Raise your hand" in words and "Pause the circle" not in words
        await meeting.feed(pilot, Paused(FAY, "Breathe.", NOW))
        await until(pilot, lambda: type(meeting.app.screen).__name__ == "PauseScreen")
        paused = [offer.words for offer in meeting.app.screen.offers()]  # type: ignore[attr-defined]
        assert "Raise your hand" not in paused
        assert "Private signal to the facilitators" in paused
        await choose(pilot, "Help: keys, symbols and the agreements")
        await until(pilot, lambda: isinstance(meeting.app.screen, HelpScreen))


async def test_help_has_a_legend_of_every_symbol() -> None:
    meeting = Meeting(ANA, listening(), SHARES)
    async with meeting.app.run_test(size=(80, 24)) as pilot:
        await meeting.enter(pilot)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(meeting.app.screen, HelpScreen))
        text = plain(meeting.app.screen._text)  # type: ignore[attr-defined]
        for symbol in ("▶", "↑", "↻", "★", "·", "◌", "◔", "✉", "♥", "●", "✕", "^"):
            assert f"\n {symbol} " in text, symbol


# --- 7. accessible ------------------------------------------------------------------------


async def test_settings_read_without_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    meeting = Meeting(FAY, room(), SHARES)
    async with meeting.app.run_test(size=(80, 24)) as pilot:
        await meeting.enter(pilot)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(meeting.app.screen, SettingsScreen))
        ticks = list(meeting.app.screen.query(Tick))
        shown = [str(tick.render()) for tick in ticks]
        assert shown[0].startswith("[ ]") and shown[0].endswith(": off ")
        assert shown[1].startswith("[x]") and shown[1].endswith(": on ")
        ticks[0].toggle()
        await pilot.pause()
        assert str(ticks[0].render()).startswith("[x]") and "off" not in str(ticks[0].render())


async def test_the_high_contrast_theme_has_no_dim_text() -> None:
    meeting = Meeting(ANA, listening(), SHARES, high_contrast=True)
    async with meeting.app.run_test(size=(80, 24)) as pilot:
        await meeting.enter(pilot)
        variables = meeting.app.get_css_variables()
        assert variables["text-muted"].lower() == "#ffffff"
        assert variables["foreground"].lower() == "#ffffff"


def bells(app: CircleApp) -> Callable[[], int]:
    rung: list[int] = []
    app.bell = lambda: rung.append(1)  # type: ignore[method-assign]
    return lambda: len(rung)


async def test_the_bell_rings_when_the_stick_comes_or_you_are_next_and_can_be_off() -> None:
    meeting = Meeting(ANA, listening(), SHARES)
    async with meeting.app.run_test(size=(80, 24)) as pilot:
        await meeting.enter(pilot)
        rung = bells(meeting.app)
        await meeting.feed(pilot, HandRaised(DEE), HandRaised(ANA))
        assert rung() == 0  # Second in line: nothing yet.
        await meeting.feed(pilot, StickReleased(BEN, 1, Release.YIELDED, NOW))
        await meeting.feed(pilot, StickGiven(DEE, 2, Via.QUEUE, NOW))
        assert rung() == 1  # Now next.
        await meeting.feed(pilot, StickReleased(DEE, 2, Release.YIELDED, NOW))
        await meeting.feed(pilot, StickGiven(ANA, 3, Via.QUEUE, NOW))
        assert rung() == 2  # The stick came.
        await choose(pilot, "Turn the bell off")
        assert not meeting.app.bell_on
        await meeting.feed(pilot, StickReleased(ANA, 3, Release.PASSED, NOW))
        await meeting.feed(pilot, HandRaised(BEN), HandRaised(ANA))
        await meeting.feed(pilot, StickGiven(BEN, 4, Via.QUEUE, NOW))
        assert rung() == 2

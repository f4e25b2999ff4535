"""The once-a-second tick repaints only what shows time, and only when its text changes.

Over SSH every repaint is bytes on a member's link. These tests drive the
app's tick by hand with a clock they move, record which widgets ask to be
repainted and what the app would write to a real terminal (the same
``CompositorUpdate`` a terminal driver writes), and check the structure: a
quiet minute paints nothing at all for a member, and a facilitator watching a
share gets one line per second (the timer), nothing else.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from textual._compositor import CompositorUpdate
from textual.pilot import Pilot
from textual.widget import Widget

from circle_room.protocol.messages import Event, SignalSent
from circle_room.protocol.model import RoomState, SignalKind
from circle_room.tui.app.app import CircleApp
from circle_room.tui.app.link import Details
from circle_room.tui.app.screens.circle import CircleScreen
from circle_room.tui.app.screens.pause import PauseScreen
from tests.tui.app.test_app_snapshots import (
    ANA,
    BEN,
    FAY,
    NOW,
    SHARES,
    URL,
    ScriptedClient,
    ScriptedDialer,
    room,
    settle,
)

SIZE = (80, 24)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@dataclass
class Paints:
    """Which widgets asked to repaint, and the bytes a terminal would have received."""

    refreshed: Counter[str] = field(default_factory=Counter)
    written: int = 0
    updates: int = 0

    def clear(self) -> None:
        self.refreshed.clear()
        self.written = self.updates = 0


def name_of(widget: Widget) -> str:
    return f"{type(widget).__name__}#{widget.id}" if widget.id else type(widget).__name__


@pytest.fixture
def paints(monkeypatch: pytest.MonkeyPatch) -> Iterator[Paints]:
    seen = Paints()
    refresh = Widget.refresh

    def counting_refresh(self: Widget, *args: Any, **kwargs: Any) -> Widget:
        seen.refreshed[name_of(self)] += 1
        return refresh(self, *args, **kwargs)

    monkeypatch.setattr(Widget, "refresh", counting_refresh)
    display = CircleApp._display

    def counting_display(self: CircleApp, screen: Any, renderable: Any) -> None:
        if isinstance(renderable, CompositorUpdate):
            seen.updates += 1
            seen.written += len(renderable.render_segments(self.console).encode())
        display(self, screen, renderable)

    monkeypatch.setattr(CircleApp, "_display", counting_display)
    yield seen


def make_app(me: int, state: RoomState, script: list[Event], clock: Clock) -> CircleApp:
    client = ScriptedClient(me, state, script, clock)
    details = Details(URL, "Ana", "x", key="k" if me == FAY else "")
    return CircleApp(details, dialer=ScriptedDialer(client), clock=clock)


async def quiet_minute(pilot: Pilot[None], app: CircleApp, clock: Clock, paints: Paints) -> None:
    """Sixty ticks, one simulated second apart, with nothing happening in the room."""
    await pilot.pause()
    paints.clear()
    for _ in range(60):
        clock.now += 1.0
        app._tick()
        await pilot.pause()


async def test_a_quiet_minute_paints_nothing_for_a_member(paints: Paints) -> None:
    clock = Clock()
    app = make_app(ANA, room(turn=None, queue=()), [], clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)(pilot)
        assert isinstance(app.screen, CircleScreen)
        await quiet_minute(pilot, app, clock, paints)
        assert paints.refreshed == Counter()
        assert paints.written == 0


async def test_a_listener_pays_nothing_for_the_speakers_clock(paints: Paints) -> None:
    clock = Clock()
    app = make_app(ANA, room(), SHARES, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)(pilot)
        await quiet_minute(pilot, app, clock, paints)
        assert paints.refreshed == Counter()
        assert paints.written == 0


async def test_a_facilitator_gets_one_timer_line_a_second_and_nothing_else(
    paints: Paints,
) -> None:
    clock = Clock()
    app = make_app(FAY, room(), SHARES, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)(pilot)
        screen = app.screen
        assert isinstance(screen, CircleScreen)
        await quiet_minute(pilot, app, clock, paints)
        # The seconds change every tick; the minutes line stays put.
        assert set(paints.refreshed) == {"TextPanel#now-clock"}
        assert paints.refreshed["TextPanel#now-clock"] == 60
        assert screen.now_sharing.clock.region.height == 1
        # One short line of cells per second: far below one full screen (~10 KB) each.
        assert paints.updates == 60
        assert paints.written < 60 * 400


async def test_the_speaker_sees_only_the_clock_move(paints: Paints) -> None:
    clock = Clock()
    turn = room().turn
    assert turn is not None
    from dataclasses import replace

    state = room(turn=replace(turn, holder=ANA), queue=())
    app = make_app(ANA, state, [], clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)(pilot)
        await quiet_minute(pilot, app, clock, paints)
        assert set(paints.refreshed) == {"TextPanel#now-clock"}


async def test_the_inbox_repaints_when_new_wears_off_not_every_second(paints: Paints) -> None:
    clock = Clock()
    script: list[Event] = [SignalSent(BEN, SignalKind.CHECK_IN, NOW)]
    app = make_app(FAY, room(turn=None, queue=()), script, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)(pilot)
        screen = app.screen
        assert isinstance(screen, CircleScreen)
        assert "new" in str(screen.inbox.content)
        await quiet_minute(pilot, app, clock, paints)
        assert paints.refreshed == Counter()
        await quiet_minute(pilot, app, clock, paints)  # 120 s: "new" wore off at 90 s.
        assert "2 min ago" in str(screen.inbox.content)
        # "new" -> "1 min ago" (a re-layout, once, and the footer loses "mark read"),
        # then "2 min ago".
        assert set(paints.refreshed) <= {"Inbox#inbox", "ScrollBar", "KeyBar#keys"}
        assert paints.updates <= 6


async def test_the_pause_screen_repaints_once_a_minute_at_most(paints: Paints) -> None:
    from circle_room.protocol.model import Pause

    clock = Clock()
    app = make_app(ANA, room(pause=Pause(FAY, "Breathe.", NOW - 30)), SHARES, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)(pilot)
        assert isinstance(app.screen, PauseScreen)
        await quiet_minute(pilot, app, clock, paints)
        assert set(paints.refreshed) <= {"TextPanel#calm"}
        assert paints.refreshed["TextPanel#calm"] <= 1

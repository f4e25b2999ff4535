"""What the screens look like, compared with approved SVG snapshots.

The app runs against a scripted connection (a fixed room, fixed names, a
frozen clock), so every run draws the same picture. After an intended change
of the look, update with ``pytest tests/tui/app/test_app_snapshots.py --snapshot-update``
and review the SVGs under ``__snapshots__``. Each screen is drawn at 80x24, and
most at 60x20 and 120x40 as well.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from circle_room.protocol.messages import (
    Command,
    Event,
    Greeting,
    MeTooCount,
    Shared,
    SignalSent,
    Welcome,
)
from circle_room.protocol.model import (
    DEFAULT_AGREEMENTS,
    Member,
    Pause,
    Presence,
    Role,
    RoomState,
    Settings,
    SignalKind,
    Turn,
    Via,
)
from circle_room.tui.app.app import CircleApp
from circle_room.tui.app.link import Details, Dialer
from circle_room.tui.client.connection import CircleClient
from circle_room.tui.client.updates import Received, Status

NOW = 1_750_000_000.0
URL = "wss://circle.example:8765/tuesday"
FAY, ANA, BEN, CAL, DEE = 1, 2, 3, 4, 5


class ScriptedClient(CircleClient):
    """A connection that 'joins' at once, receives a fixed script of events, then waits.

    The events are folded into the client's meeting as the relay's would be,
    timed by ``clock``.
    """

    def __init__(
        self,
        me: int,
        state: RoomState,
        script: list[Event],
        clock: Callable[[], float] = lambda: NOW,
    ) -> None:
        super().__init__(URL, name="scripted", clock=clock)
        self._me = me
        self._start = state
        self._script = script
        self._now = clock
        self.sent: list[Command] = []
        self.delivered = False

    async def connect(self) -> Welcome:
        welcome = Welcome(1, self._me, "token", "epoch", 0, False, self._start)
        self.greeting = greeting()
        self.meeting.welcomed(welcome, self.greeting.room, resuming=False)
        self._set_status(Status.CONNECTED)
        return welcome

    async def updates(self) -> AsyncIterator[Received]:
        for seq, event in enumerate(self._script, start=1):
            received = self.meeting.fold(seq, event, self._now())
            assert received is not None
            yield received
        self.delivered = True
        await asyncio.Event().wait()

    async def send(self, command: Command) -> int:
        self.sent.append(command)
        return len(self.sent)

    async def close(self) -> None:
        pass


class ScriptedDialer(Dialer):
    def __init__(self, client: ScriptedClient) -> None:
        super().__init__(URL)
        self._client = client

    async def greeting(self) -> Greeting:
        return greeting()

    def client(self, details: Details, agreed: bool) -> CircleClient:
        return self._client


def greeting() -> Greeting:
    return Greeting((1,), "tuesday", DEFAULT_AGREEMENTS, needs_passcode=True)


def room(**changes: object) -> RoomState:
    """Five people; Ben has shared for 2:14 of a 5:00 suggestion; Ana and Dee wait."""
    members = {
        FAY: Member(FAY, "Fay", Role.FACILITATOR),
        ANA: Member(ANA, "Ana"),
        BEN: Member(BEN, "Ben"),
        CAL: Member(CAL, "Cal", presence=Presence.AWAY),
        DEE: Member(DEE, "Dee Okonkwo-Lindqvist"),
    }
    turn = Turn(1, BEN, Via.QUEUE, started_at=NOW - 134, running_since=NOW - 134)
    state = RoomState(
        members=members,
        queue=(ANA, DEE),
        turn=turn,
        settings=Settings(share_limit=300),
        next_member_id=6,
        next_turn_id=2,
    )
    return replace(state, **changes)  # type: ignore[arg-type]


SHARES: list[Event] = [
    Shared(1, BEN, "This week I finally said no to extra shifts."),
    Shared(1, BEN, "I was scared they would be angry. They were not."),
    MeTooCount(1, 2),
]


def app(me: int, state: RoomState, script: list[Event], **options: object) -> CircleApp:
    client = ScriptedClient(me, state, script)
    details = Details(URL, "Ana", "x", key="k" if me == FAY else "")
    return CircleApp(details, dialer=ScriptedDialer(client), clock=lambda: NOW, **options)  # type: ignore[arg-type]


def settle(app: CircleApp) -> Callable[[Pilot[None]], object]:
    async def run_before(pilot: Pilot[None]) -> None:
        if app.details.key == "":
            for _ in range(200):
                if app.screen.__class__.__name__ == "JoinScreen":
                    break
                await pilot.pause(0.01)
            await pilot.press("enter")
        client = app.dialer.client(app.details, True)
        assert isinstance(client, ScriptedClient)
        for _ in range(200):
            if client.delivered and app.meeting is not None:
                break
            await pilot.pause(0.01)
        else:
            raise AssertionError("the scripted meeting never reached the app")
        await pilot.pause()
        for field in app.screen.query(Input):
            field.cursor_blink = False  # A blinking cursor would make the picture flicker.
        await pilot.pause()

    return run_before


def test_member_circle(snap_compare: Callable[..., bool]) -> None:
    """Ana listens to Ben with her hand up; Cal is away; Fay facilitates."""
    member = app(ANA, room(), SHARES)
    assert snap_compare(member, terminal_size=(80, 24), run_before=settle(member))


def test_member_holding_the_stick(snap_compare: Callable[..., bool]) -> None:
    """Ana holds the stick: the share box is open and focused; she sees the count."""
    turn = Turn(2, ANA, Via.ROUND, NOW - 330, running_since=NOW - 330, shares=1, metoo_count=3)
    state = room(turn=turn, queue=(DEE,))
    speaker = app(ANA, state, [Shared(2, ANA, "Thank you for listening.")])
    assert snap_compare(speaker, terminal_size=(80, 24), run_before=settle(speaker))


def test_facilitator_circle(snap_compare: Callable[..., bool]) -> None:
    """Fay hosts: the join line, the timer and count, and a new private signal."""
    script = [*SHARES, SignalSent(DEE, SignalKind.CHECK_IN, NOW)]
    hint = "circle join 192.168.1.20:8765/tuesday --passcode maple-river-stone"
    facilitator = app(FAY, room(), script, join_hint=hint, hosting=True)
    assert snap_compare(facilitator, terminal_size=(80, 24), run_before=settle(facilitator))


def test_pause(snap_compare: Callable[..., bool]) -> None:
    """The calm pause screen as a member sees it."""
    turn = Turn(1, BEN, Via.QUEUE, started_at=NOW - 400, elapsed=100.0, running_since=None)
    state = room(turn=turn, pause=Pause(FAY, "Let's take a breath together.", NOW - 190))
    paused = app(ANA, state, SHARES)
    assert snap_compare(paused, terminal_size=(80, 24), run_before=settle(paused))


def test_join_screen(snap_compare: Callable[..., bool]) -> None:
    """Agreements first, then the name and the passcode."""
    joining = app(ANA, room(), [])

    async def run_before(pilot: Pilot[None]) -> None:
        for _ in range(200):
            if joining.screen.__class__.__name__ == "JoinScreen":
                break
            await pilot.pause(0.01)

    assert snap_compare(joining, terminal_size=(80, 24), run_before=run_before)


def test_member_circle_high_contrast(snap_compare: Callable[..., bool]) -> None:
    """The same circle in the high-contrast theme (``--high-contrast``)."""
    member = app(ANA, room(), SHARES, high_contrast=True)
    assert snap_compare(member, terminal_size=(80, 24), run_before=settle(member))


# --- the same screens in a small and a large window -------------------------------------

SIZES = [(60, 20), (120, 40)]
"""Besides 80x24: a small window (a phone, a split pane) and a large one."""
IDS = [f"{w}x{h}" for w, h in SIZES]


def facilitator_app() -> CircleApp:
    script = [*SHARES, SignalSent(DEE, SignalKind.CHECK_IN, NOW)]
    hint = "circle join 192.168.1.20:8765/tuesday --passcode maple-river-stone"
    return app(FAY, room(), script, join_hint=hint, hosting=True)


def speaker_app() -> CircleApp:
    turn = Turn(2, ANA, Via.ROUND, NOW - 330, running_since=NOW - 330, shares=1, metoo_count=3)
    return app(ANA, room(turn=turn, queue=(DEE,)), [Shared(2, ANA, "Thank you for listening.")])


def paused_app() -> CircleApp:
    turn = Turn(1, BEN, Via.QUEUE, started_at=NOW - 400, elapsed=100.0, running_since=None)
    state = room(turn=turn, pause=Pause(FAY, "Let's take a breath together.", NOW - 190))
    return app(ANA, state, SHARES)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_member_circle_at(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """Below 80 columns the list folds into a one-line strip; the Now text and keys fit."""
    member = app(ANA, room(), SHARES)
    assert snap_compare(member, terminal_size=size, run_before=settle(member))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_speaker_at(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    speaker = speaker_app()
    assert snap_compare(speaker, terminal_size=size, run_before=settle(speaker))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_facilitator_at(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    facilitator = facilitator_app()
    assert snap_compare(facilitator, terminal_size=size, run_before=settle(facilitator))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_pause_at(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    paused = paused_app()
    assert snap_compare(paused, terminal_size=size, run_before=settle(paused))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_join_screen_at(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    joining = app(ANA, room(), [])

    async def run_before(pilot: Pilot[None]) -> None:
        for _ in range(200):
            if joining.screen.__class__.__name__ == "JoinScreen":
                break
            await pilot.pause(0.01)

    assert snap_compare(joining, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), *SIZES], ids=["80x24", *IDS])
def test_help(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """The facilitator's help: the stick first, the join lines, every key and symbol."""
    facilitator = facilitator_app()

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(facilitator)(pilot)
        await pilot.press("ctrl+g")
        for _ in range(200):
            if facilitator.screen.__class__.__name__ == "HelpScreen":
                break
            await pilot.pause(0.01)
        await pilot.pause()

    assert snap_compare(facilitator, terminal_size=size, run_before=run_before)


def test_settings_without_colour(
    snap_compare: Callable[..., bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """NO_COLOR: every on/off in the settings reads as [x] ... on or [ ] ... off."""
    monkeypatch.setenv("NO_COLOR", "1")
    facilitator = facilitator_app()

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(facilitator)(pilot)
        await pilot.press("ctrl+o")
        for _ in range(200):
            if facilitator.screen.__class__.__name__ == "SettingsScreen":
                break
            await pilot.pause(0.01)
        for field in facilitator.screen.query(Input):
            field.cursor_blink = False
        await pilot.pause()

    assert snap_compare(facilitator, terminal_size=(80, 24), run_before=run_before)

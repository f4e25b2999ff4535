"""Care in the full-screen app: "seen" for a signal, quiet exits told, away seats released.

Against a real relay on port 0, driven with Pilot; other members are headless.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from circle_room.protocol.messages import MemberLeft, Resume, SignalSeen, SignalSent, Welcome
from circle_room.protocol.model import LeaveReason, Presence, SignalKind
from circle_room.tui.app.screens.circle import CircleScreen
from circle_room.tui.app.screens.dialogs import ConfirmScreen, SignalScreen
from circle_room.tui.app.screens.facilitator import MemberActionsScreen
from circle_room.tui.client.connection import CircleClient, Status
from tests.tui.app.test_app import (
    SIZE,
    WAIT,
    enter_circle,
    log_text,
    open_room,
    text_of,
    until,
)
from tests.tui.app.test_app_facilitator import facilitator_app, in_circle, select


def footer_actions(screen: CircleScreen) -> set[str]:
    return {b.binding.action for b in screen.active_bindings.values() if b.enabled}


async def test_seen_answers_the_signal_that_waited(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        ben = await room.member("Ben")
        cal = await room.member("Cal")
        app = facilitator_app(room)
        async with app.run_test(size=SIZE) as pilot:
            screen = await in_circle(app, pilot)
            assert screen.check_action("ack_signal", ()) is False  # Nobody waits.
            assert "ack_signal" not in footer_actions(screen)
            await ben.signal(SignalKind.CHECK_IN)
            await until(pilot, lambda: "Ben: check-in · new" in text_of(screen.inbox))
            await until(pilot, lambda: "ack_signal" in footer_actions(screen))
            assert "signal" not in footer_actions(screen)  # A facilitator's ^S answers.
            await pilot.press("ctrl+s")
            await until(pilot, room.has_heard(ben, SignalSeen))
            await until(pilot, lambda: "Ben: check-in · seen" in text_of(screen.inbox))
            assert room.state.signals == ()
            assert not room.has_heard(cal, SignalSeen)()  # Nobody else hears of it.
            await until(pilot, lambda: "ack_signal" not in footer_actions(screen))
            assert not screen.inbox.has_class("-unread")


async def test_a_member_reads_that_a_facilitator_has_seen_their_signal(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        fay = await room.facilitator()
        app = room.app("Ana")
        async with app.run_test(size=SIZE) as pilot:
            screen = await enter_circle(pilot)
            assert screen.check_action("ack_signal", ()) is False
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, SignalScreen))
            await pilot.press("1")
            await until(pilot, room.has_heard(fay, SignalSent))
            ana = room.state.find_name("Ana")
            assert ana is not None and room.state.signals == (ana.id,)
            await fay.ack_signal(ana.id)
            await until(pilot, lambda: "A facilitator has seen your signal." in log_text(app))


async def test_a_quiet_exit_goes_to_the_facilitators_inbox(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        ben = await room.member("Ben")
        cal = await room.member("Cal")
        app = facilitator_app(room)
        async with app.run_test(size=SIZE) as pilot:
            screen = await in_circle(app, pilot)
            await until(pilot, lambda: ben.member_id in screen.view.state.members)  # type: ignore[union-attr]
            await ben.leave(quiet=True)
            await until(pilot, lambda: "Ben: left quietly · new" in text_of(screen.inbox))
            assert screen.inbox.has_class("-unread")
            assert "left" not in log_text(app)  # The share log, shown to all, stays quiet.
            await until(pilot, room.has_heard(cal, MemberLeft))
            assert room.heard[cal.member_id][-1] == MemberLeft(ben.member_id, LeaveReason.QUIET)


def hold_reconnect(client: CircleClient, monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Let ``client`` reconnect only once the returned event is set."""
    gate = asyncio.Event()
    reopen = client._open

    async def gated(resume: Resume | None) -> Welcome:
        await gate.wait()
        return await reopen(resume)

    monkeypatch.setattr(client, "_open", gated)
    return gate


async def test_release_an_away_seat_from_the_member_menu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_room(tmp_path) as room:
        ben = await room.member("Ben")
        app = facilitator_app(room)
        async with app.run_test(size=SIZE) as pilot:
            screen = await in_circle(app, pilot)
            await select(pilot, screen, ben.member_id)
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, MemberActionsScreen))
            present = [o.id for o in app.screen.query_one("OptionList").options]  # type: ignore[attr-defined]
            assert "release" not in present  # Ben is here: nothing to release.
            await pilot.press("escape")

            gate = hold_reconnect(ben, monkeypatch)
            ben.abort()
            await ben.wait_until(lambda c: c.status is Status.RECONNECTING, WAIT)
            away = ben.member_id
            await until(pilot, lambda: room.state.members[away].presence is Presence.AWAY)
            await until(pilot, lambda: screen.view.state.members[away].presence is Presence.AWAY)  # type: ignore[union-attr]
            await select(pilot, screen, away)
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, MemberActionsScreen))
            options = [o.id for o in app.screen.query_one("OptionList").options]  # type: ignore[attr-defined]
            assert "release" in options
            await pilot.press(*["down"] * options.index("release"), "enter")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            assert "Release Ben's seat now?" in str(app.screen._question)  # type: ignore[attr-defined]
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, CircleScreen))
            assert away in room.state.members

            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, MemberActionsScreen))
            await pilot.press(*["down"] * options.index("release"), "enter")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("tab", "enter")  # Yes is a deliberate move to the other button.
            await until(pilot, lambda: away not in room.state.members)
            await until(pilot, lambda: "You released Ben's seat" in log_text(app))
            # The name is free again: Ben comes back as a newcomer at once.
            again = await room.member("Ben")
            assert again.member_id != away
            await until(pilot, lambda: "Ben joined." in log_text(app))
            # The old client's token no longer holds a seat, and its name is taken now.
            gate.set()
            await ben.wait_until(lambda c: c.status is Status.CLOSED, WAIT)
            assert again.member_id in room.state.members

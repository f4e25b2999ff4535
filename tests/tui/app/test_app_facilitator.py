"""The facilitator's keys and panels, against a real relay, driven with Pilot."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, OptionList

from circle_room.protocol.model import Presence, Role, Settings, SignalKind
from circle_room.tui.app.app import CircleApp
from circle_room.tui.app.link import Details
from circle_room.tui.app.screens import circle_actions
from circle_room.tui.app.screens.circle import CircleScreen
from circle_room.tui.app.screens.dialogs import ConfirmScreen, PauseMessageScreen
from circle_room.tui.app.screens.facilitator import MemberActionsScreen, SettingsScreen
from circle_room.tui.app.screens.pause import PauseScreen
from tests.tui.app.test_app import (
    SIZE,
    WAIT,
    Room,
    choose,
    now_text,
    open_room,
    text_of,
    until,
)


def facilitator_app(room: Room, *, hosting: bool = False) -> CircleApp:
    return CircleApp(Details(room.url, "Fay", key=room.key), hosting=hosting)


async def in_circle(app: CircleApp, pilot: object) -> CircleScreen:
    await until(pilot, lambda: app._circle is not None and app._circle.view is not None)  # type: ignore[arg-type]
    assert app._circle is not None
    return app._circle


async def select(pilot: object, screen: CircleScreen, member_id: int) -> None:
    await until(pilot, lambda: f"m{member_id}" in {o.id for o in screen.members.options})  # type: ignore[arg-type]
    screen.members.focus()
    screen.members.select_member(member_id)
    await pilot.pause()  # type: ignore[attr-defined]
    assert screen.members.selected == member_id


async def test_give_the_stick_to_the_selected_member_and_take_it_back(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        ben = await room.member("Ben")
        app = facilitator_app(room)
        async with app.run_test(size=SIZE) as pilot:
            screen = await in_circle(app, pilot)
            # No key join screen for the facilitator: the key holder wrote the agreements.
            await select(pilot, screen, ben.member_id)
            assert screen.check_action("give", ()) is True
            await pilot.press("enter")  # The menu for Ben: giving the stick comes first.
            await until(pilot, lambda: isinstance(app.screen, MemberActionsScreen))
            await pilot.press("enter")
            await ben.wait_until(lambda c: c.state.holder == c.member_id, WAIT)
            await until(pilot, lambda: "0:0" in now_text(app) and "said me too" in now_text(app))
            # Taking the stick from someone mid-share asks first, and starts on "no".
            await choose(pilot, "Take the stick")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, CircleScreen))
            assert room.state.holder == ben.member_id
            await choose(pilot, "Take the stick")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("tab", "enter")
            await until(pilot, lambda: "You hold the stick" in now_text(app))
            assert screen.focused is screen.share_box


async def test_move_lower_and_lower_all_hands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(circle_actions, "UNDO_SECONDS", 0.2)  # The undo is tested on its own.
    async with open_room(tmp_path) as room:
        ben = await room.member("Ben")
        cal = await room.member("Cal")
        dee = await room.member("Dee")
        await dee.raise_hand()  # Dee holds the stick; the others queue behind.
        await dee.wait_until(lambda c: c.state.holder == c.member_id, WAIT)
        await ben.raise_hand()
        await cal.raise_hand()
        app = facilitator_app(room)
        async with app.run_test(size=SIZE) as pilot:
            screen = await in_circle(app, pilot)
            await until(pilot, lambda: len(screen.view.state.queue) == 2)  # type: ignore[union-attr]
            await select(pilot, screen, cal.member_id)
            assert screen.check_action("move", (1,)) is False  # Already last.
            await pilot.press("left_square_bracket")
            await until(pilot, lambda: room.state.queue == (cal.member_id, ben.member_id))
            # The rows move with the queue, and the pick stays on Cal.
            await until(pilot, lambda: _row(screen, 1) == f"m{cal.member_id}")
            assert screen.members.selected == cal.member_id
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, MemberActionsScreen))
            options = [o.id for o in app.screen.query_one("OptionList").options]  # type: ignore[attr-defined]
            assert options[:4] == ["give", "lower", "down", "lower_all"]
            await pilot.press("down", "enter")  # Lower this hand.
            await until(pilot, lambda: room.state.queue == (ben.member_id,))
            await choose(pilot, "Lower all hands")
            await until(pilot, lambda: room.state.queue == ())


async def test_remove_asks_then_removes(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        ben = await room.member("Ben")
        app = facilitator_app(room)
        async with app.run_test(size=SIZE) as pilot:
            screen = await in_circle(app, pilot)
            await select(pilot, screen, ben.member_id)
            await _menu_choice(pilot, "remove")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("enter")  # Starts on "keep them".
            await until(pilot, lambda: isinstance(app.screen, CircleScreen))
            assert room.state.find_name("Ben") is not None
            await _menu_choice(pilot, "remove")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, CircleScreen))
            assert room.state.find_name("Ben") is not None
            await _menu_choice(pilot, "remove")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("tab", "enter")
            await until(pilot, lambda: room.state.find_name("Ben") is None)
            await until(pilot, lambda: "Ben was removed from the meeting." in _log(app))


def _log(app: CircleApp) -> str:
    assert app._circle is not None
    return "\n".join(line.text.rstrip() for line in app._circle.share_log.lines)


def _row(screen: CircleScreen, index: int) -> str | None:
    return screen.members.get_option_at_index(index).id


async def _menu_choice(pilot: Pilot[None], action: str) -> None:
    """Enter on the picked member, then the menu entry ``action``."""
    app = pilot.app
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, MemberActionsScreen))
    options = [o.id for o in app.screen.query_one(OptionList).options]
    await pilot.press(*["down"] * options.index(action), "enter")


async def test_pause_with_a_message_then_resume(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        ben = await room.member("Ben")
        app = facilitator_app(room)
        async with app.run_test(size=SIZE) as pilot:
            await in_circle(app, pilot)
            await pilot.press("ctrl+b")
            await until(pilot, lambda: isinstance(app.screen, PauseMessageScreen))
            app.screen.query_one(Input).value = "A minute of quiet, please."
            await pilot.press("enter")
            await ben.wait_until(lambda c: c.state.pause is not None, WAIT)
            assert ben.state.pause is not None
            assert ben.state.pause.message == "A minute of quiet, please."
            await until(pilot, lambda: isinstance(app.screen, PauseScreen))
            assert app.screen.check_action("resume", ()) is True
            # The facilitator can step out of the pause screen to act, still paused.
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, CircleScreen))
            screen = app.screen
            assert isinstance(screen, CircleScreen)
            await until(pilot, lambda: "paused" in text_of(screen.room_bar))
            assert screen.check_action("resume", ()) is True
            assert screen.check_action("pause", ()) is False
            await pilot.press("ctrl+b")
            await ben.wait_until(lambda c: c.state.pause is None, WAIT)
            await until(pilot, lambda: "paused" not in text_of(screen.room_bar))
            # The next pause shows the pause screen again.
            await pilot.press("ctrl+b")
            await until(pilot, lambda: isinstance(app.screen, PauseMessageScreen))
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, PauseScreen))
            await pilot.press("ctrl+b")
            await ben.wait_until(lambda c: c.state.pause is None, WAIT)
            await until(pilot, lambda: isinstance(app.screen, CircleScreen))


async def test_round_and_lock_toggle(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        await room.member("Ben")
        app = facilitator_app(room)
        async with app.run_test(size=SIZE) as pilot:
            screen = await in_circle(app, pilot)
            await choose(pilot, "Start a round")
            await until(pilot, lambda: room.state.round is not None)
            await until(pilot, lambda: screen.check_action("stop_round", ()) is True)
            await choose(pilot, "End the round")
            await until(pilot, lambda: room.state.round is None)
            await choose(pilot, "Lock the room")
            await until(pilot, lambda: room.state.locked)
            await until(pilot, lambda: "locked" in text_of(screen.room_bar))
            await choose(pilot, "Unlock the room")
            await until(pilot, lambda: not room.state.locked)


async def test_admit_from_the_waiting_room(tmp_path: Path) -> None:
    async with open_room(tmp_path, settings=Settings(waiting_room=True)) as room:
        app = facilitator_app(room)
        async with app.run_test(size=SIZE) as pilot:
            screen = await in_circle(app, pilot)
            eve = await room.member("Eve")
            await until(pilot, lambda: "1 waiting" in text_of(screen.room_bar))
            options = [str(o.prompt) for o in screen.members.options]
            assert any("Waiting room" in o for o in options)
            assert any("Eve" in o and "waiting" in o for o in options)
            await choose(pilot, "Eve: admit to the circle")
            await eve.wait_until(
                lambda c: c.state.members[c.member_id].presence is Presence.PRESENT, WAIT
            )


async def test_settings_set_the_share_limit_shown_to_facilitators(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        ben = await room.member("Ben")
        app = facilitator_app(room)
        async with app.run_test(size=SIZE) as pilot:
            await in_circle(app, pilot)
            await pilot.press("ctrl+o")
            await until(pilot, lambda: isinstance(app.screen, SettingsScreen))
            app.screen.query_one(Input).value = "5"
            assert not app.screen.query(Checkbox).first().value
            await pilot.press("ctrl+s")
            await until(pilot, lambda: room.state.settings.share_limit == 300)
            await ben.raise_hand()
            await until(pilot, lambda: "of 5:00 suggested" in now_text(app))


async def test_private_signals_reach_the_inbox_quietly(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        ben = await room.member("Ben")
        app = facilitator_app(room)
        async with app.run_test(size=SIZE) as pilot:
            screen = await in_circle(app, pilot)
            assert "No signals yet." in text_of(screen.inbox)
            await ben.signal(SignalKind.CHECK_IN)
            await until(pilot, lambda: "Ben: check-in · new" in text_of(screen.inbox))
            assert "new" in text_of(screen.inbox)
            assert screen.inbox.has_class("-unread")
            assert any("✉ check-in" in str(o.prompt) for o in screen.members.options)


async def test_promote_from_the_actions_menu(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        ben = await room.member("Ben")
        app = facilitator_app(room)
        async with app.run_test(size=SIZE) as pilot:
            screen = await in_circle(app, pilot)
            await select(pilot, screen, ben.member_id)
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, MemberActionsScreen))
            options = [o.id for o in app.screen.query_one("OptionList").options]  # type: ignore[attr-defined]
            await pilot.press(*["down"] * options.index("promote"), "enter")
            await ben.wait_until(lambda c: c.state.is_facilitator(c.member_id), WAIT)
            assert room.state.members[ben.member_id].role is Role.COFACILITATOR


async def test_hosting_facilitator_is_warned_that_leaving_ends_the_meeting(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        app = facilitator_app(room, hosting=True)
        async with app.run_test(size=SIZE) as pilot:
            await in_circle(app, pilot)
            await pilot.press("ctrl+l")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            assert "End the meeting for everyone?" in str(app.screen._question)
            # Enter alone never ends a meeting: the dialog starts on "stay".
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, CircleScreen))
            assert not app._leaving

"""Me-too names, the facilitators' inbox, agreements and multi-line shares.

Against a real relay on port 0, driven with Pilot; other members are headless
``CircleClient``s (see ``test_app``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from textual.widgets import Checkbox, TextArea

from circle_room.protocol.messages import Shared
from circle_room.protocol.model import DEFAULT_AGREEMENTS, SignalKind
from circle_room.tui.app.screens.facilitator import SettingsScreen
from circle_room.tui.app.screens.join import JoinScreen
from tests.tui.app.test_app import (
    SIZE,
    WAIT,
    choose,
    enter_circle,
    log_text,
    now_text,
    open_room,
    statics,
    text_of,
    until,
)
from tests.tui.app.test_app_facilitator import _log, facilitator_app, in_circle

# --- me-too names -----------------------------------------------------------------------


async def test_speaker_sees_metoo_names_once_a_facilitator_turns_them_on(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        fay = await room.facilitator()
        ben = await room.member("Ben")
        cal = await room.member("Cal")
        app = room.app("Ana")
        async with app.run_test(size=SIZE) as pilot:
            await enter_circle(pilot)
            await pilot.press("ctrl+r")
            await until(pilot, lambda: "You hold the stick" in now_text(app))
            await ben.me_too()
            await until(pilot, lambda: "1 said me too" in now_text(app))
            assert "Ben" not in now_text(app)  # Names are hidden by default.

            await fay.change_settings(replace(room.state.settings, show_metoo_names=True))
            await until(pilot, lambda: app.meeting is not None and _names_on(app))
            await cal.me_too()
            # Ben said it while names were hidden: counted, never named after the fact.
            await until(pilot, lambda: "♥ Me too: Cal and 1 more" in now_text(app))
            await ben.me_too(False)
            await until(pilot, lambda: "1 said me too" in now_text(app))
            await ben.me_too(True)
            await until(pilot, lambda: "♥ Me too: Ben, Cal" in now_text(app))

            await fay.change_settings(replace(room.state.settings, show_metoo_names=False))
            await until(pilot, lambda: "Me too:" not in now_text(app))
            assert "2 said me too" in now_text(app)


def _names_on(app: object) -> bool:
    meeting = app.meeting  # type: ignore[attr-defined]
    return bool(meeting.state.settings.show_metoo_names)


async def test_facilitator_turns_metoo_names_on_in_settings_and_sees_them(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        ben = await room.member("Ben")
        cal = await room.member("Cal")
        app = facilitator_app(room)
        async with app.run_test(size=SIZE) as pilot:
            await in_circle(app, pilot)
            await pilot.press("ctrl+o")
            await until(pilot, lambda: isinstance(app.screen, SettingsScreen))
            names = list(app.screen.query(Checkbox))[2]
            assert "who said me too" in str(names.label) and not names.value
            names.value = True
            await pilot.press("ctrl+s")
            await until(pilot, lambda: room.state.settings.show_metoo_names)
            await ben.raise_hand()
            await ben.wait_until(lambda c: c.state.holder == c.member_id, WAIT)
            await cal.me_too()
            await until(pilot, lambda: "♥ Me too: Cal" in now_text(app))
            assert "1 said me too" in now_text(app)
            # Ben, the speaker, has Cal's name too; Cal sees only that they said it.
            await ben.wait_until(
                lambda c: c.state.turn is not None and bool(c.state.turn.metoo), WAIT
            )
            assert cal.state.turn is not None and cal.member_id in cal.state.turn.metoo


# --- the facilitators' inbox ------------------------------------------------------------


def _footer_keys(app: object) -> set[str]:
    screen = app.screen  # type: ignore[attr-defined]
    return {b.binding.action for b in screen.active_bindings.values() if b.enabled}


async def test_facilitator_marks_private_signals_read(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        ben = await room.member("Ben")
        app = facilitator_app(room)
        async with app.run_test(size=SIZE) as pilot:
            screen = await in_circle(app, pilot)
            assert "mark_read" not in _footer_keys(app)  # Nothing to mark yet.
            await ben.signal(SignalKind.CHECK_IN)
            await until(pilot, lambda: "Ben: check-in · new" in text_of(screen.inbox))
            await until(pilot, lambda: "mark_read" in _footer_keys(app))
            assert screen.inbox.has_class("-unread")
            assert "1 new" in str(screen.inbox.border_title)

            await choose(pilot, "Mark the private signals read")
            await until(pilot, lambda: "Ben: check-in · just now" in text_of(screen.inbox))
            assert not screen.inbox.has_class("-unread")
            assert "new" not in str(screen.inbox.border_title)
            await until(pilot, lambda: "mark_read" not in _footer_keys(app))
            # The next signal is new again; the one already read stays read.
            await ben.signal(SignalKind.OK)
            await until(pilot, lambda: "Ben: OK · new" in text_of(screen.inbox))
            assert "Ben: check-in · just now" in text_of(screen.inbox)
            assert "1 new" in str(screen.inbox.border_title)


# --- agreements ---------------------------------------------------------------------------


async def test_facilitator_edits_the_agreements_and_newcomers_see_them(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        ben = await room.member("Ben")
        app = facilitator_app(room)
        async with app.run_test(size=SIZE) as pilot:
            await in_circle(app, pilot)
            await pilot.press("ctrl+o")
            await until(pilot, lambda: isinstance(app.screen, SettingsScreen))
            area = app.screen.query_one("#agreements", TextArea)
            assert area.text.splitlines() == list(DEFAULT_AGREEMENTS)
            area.focus()
            area.load_text("What is shared here stays here.\n\n  We speak from our own experience.")
            area.move_cursor(area.document.end)
            # Enter in the agreements is a new line, not "save".
            await pilot.press("enter", *"No advice unless asked.")
            assert isinstance(app.screen, SettingsScreen)
            await pilot.press("ctrl+s")
            expected = (
                "What is shared here stays here.",
                "We speak from our own experience.",
                "No advice unless asked.",
            )
            await until(pilot, lambda: room.state.settings.agreements == expected)
            await ben.wait_until(lambda c: c.state.settings.agreements == expected, WAIT)
            await until(pilot, lambda: "agreements were updated" in _log(app))

            newcomer = room.app("Ana")
            async with newcomer.run_test(size=SIZE) as joining:
                await until(joining, lambda: isinstance(newcomer.screen, JoinScreen))
                shown = statics(newcomer.screen)
                assert "No advice unless asked." in shown
                assert "We speak from our own experience." in shown
                assert "It is always OK to pass." not in shown
                await enter_circle(joining)


# --- multi-line shares ----------------------------------------------------------------------


async def test_ctrl_j_breaks_the_line_and_enter_posts_the_whole_share(tmp_path: Path) -> None:
    async with open_room(tmp_path) as room:
        ben = await room.member("Ben")
        app = room.app("Ana")
        async with app.run_test(size=SIZE) as pilot:
            screen = await enter_circle(pilot)
            await pilot.press("ctrl+r")
            await until(pilot, lambda: screen.share_box.is_open)
            assert screen.focused is screen.share_box
            assert "ctrl+j" in str(screen.share_box.placeholder)
            assert "^J new line" in str(screen.share_box.border_title)  # Also once typing.
            await pilot.press(*"It was a long week.", "ctrl+j", *"Today was better.")
            assert screen.share_box.text == "It was a long week.\nToday was better."
            assert not room.logged(Shared)  # A line break is not a post.
            await pilot.press("enter")
            await until(pilot, room.has_heard(ben, Shared))
            heard = [e for e in room.heard[ben.member_id] if isinstance(e, Shared)]
            assert [e.text for e in heard] == ["It was a long week.\nToday was better."]
            assert screen.share_box.text == ""
            await until(pilot, lambda: "Today was better." in log_text(app))
            # The second line starts under the words, not under the name.
            assert "You: It was a long week.\n     Today was better." in log_text(app)
            # Enter on an empty box posts nothing.
            await pilot.press("enter")
            await pilot.pause()
            assert len(room.logged(Shared)) == 1

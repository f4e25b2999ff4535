"""What the app tells a member about their link: a plain one, a relay new to them, a changed one."""

from __future__ import annotations

from pathlib import Path

from circle_room.tui.app.app import CircleApp
from circle_room.tui.app.link import Details
from circle_room.tui.app.screens.ended import EndedScreen
from circle_room.tui.app.screens.join import JoinScreen
from circle_room.tui.client.trust import KnownRelays
from tests.tui.app.test_app import SIZE, enter_circle, open_room, statics, until
from tests.tui.app.test_app_snapshots import ANA, ScriptedClient, ScriptedDialer, room

PLAIN = "ws://circle.example:8765/tuesday"


def notes(app: CircleApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_a_plain_link_is_flagged_before_the_passcode_is_typed() -> None:
    dialer = ScriptedDialer(ScriptedClient(ANA, room(), []))
    dialer.url = PLAIN
    app = CircleApp(Details(PLAIN, "Ana"), dialer=dialer)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, JoinScreen))
        assert any("not encrypted" in n and "passcode" in n for n in notes(app)), notes(app)


async def test_a_pinned_link_says_nothing(tmp_path: Path) -> None:
    async with open_room(tmp_path) as circle:
        app = circle.app("Ana")
        async with app.run_test(size=SIZE) as pilot:
            await enter_circle(pilot)
            assert notes(app) == []


async def test_a_relay_new_to_the_member_shows_its_fingerprint(tmp_path: Path) -> None:
    async with open_room(tmp_path) as circle:
        address, _, pin = circle.url.removeprefix("wss://").partition("#")
        app = CircleApp(Details(address, "Ana"))  # typed without the fingerprint
        async with app.run_test(size=SIZE) as pilot:
            await enter_circle(pilot)
            await until(pilot, lambda: any(pin in n for n in notes(app)))
            assert any("First time here" in n for n in notes(app))


async def test_a_changed_certificate_ends_with_the_sentence(tmp_path: Path) -> None:
    async with open_room(tmp_path) as circle:
        address, _, pin = circle.url.removeprefix("wss://").partition("#")
        KnownRelays().remember(address.partition("/")[0], "ab2c-d3ef-gh4i-jk5l-mn6o")
        app = CircleApp(Details(address, "Ana"))
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, EndedScreen))
            await until(pilot, lambda: "changed its certificate" in statics(app.screen))
            shown = statics(app.screen)
            assert "Could not join" in shown and "ab2c-d3ef-gh4i-jk5l-mn6o" in shown
            assert f"circle join {address}#{pin}" in shown

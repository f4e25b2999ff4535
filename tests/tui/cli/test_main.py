"""The ``circle`` command as installed, run as a real process."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from circle_room.protocol.keepalive import RELAY
from circle_room.server.store import Store, check_passcode, check_secret
from circle_room.tui.cli.main import build_parser

CIRCLE = Path(sys.executable).parent / "circle"
KEY_LINE = re.compile(r"^Facilitator key \(shown only this once; keep it private\): (\S+)$", re.M)


def circle(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CIRCLE), *args], capture_output=True, text=True, check=False, timeout=30
    )


def test_version() -> None:
    result = circle("--version")
    assert result.returncode == 0
    assert re.fullmatch(r"circle \d+\.\d+\.\d+\S*\n", result.stdout), result.stdout


def test_room_add_prints_the_key_once_and_list_shows_the_room(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    empty = circle("room", "list", "--data-dir", data)
    assert empty.returncode == 0 and "No rooms yet" in empty.stdout

    added = circle("room", "add", "tuesday", "--passcode", "sesame", "--data-dir", data)
    assert added.returncode == 0, added.stderr
    match = KEY_LINE.search(added.stdout)
    assert match, added.stdout
    key = match.group(1)
    assert added.stdout.count(key) == 1
    assert "sesame" not in added.stdout

    circle("room", "add", "open-room", "--data-dir", data).check_returncode()
    listed = circle("room", "list", "--data-dir", data)
    assert listed.returncode == 0
    assert listed.stdout.splitlines() == ["open-room\topen", "tuesday\tpasscode"]
    assert key not in listed.stdout

    store = Store(Path(data))
    try:
        record = store.room("tuesday")
        assert record is not None
        assert check_secret(key, record.key_hash)
        assert check_passcode("sesame", record.passcode_hash)
    finally:
        store.close()


def test_adding_a_room_twice_fails_clearly(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    circle("room", "add", "tuesday", "--data-dir", data).check_returncode()
    again = circle("room", "add", "tuesday", "--data-dir", data)
    assert again.returncode == 2
    assert again.stdout == ""  # no new key is shown for a room that was not made
    assert again.stderr == "circle: A room called 'tuesday' already exists.\n"


def test_a_bad_room_name_fails_clearly(tmp_path: Path) -> None:
    bad = circle("room", "add", "Tuesday Night", "--data-dir", str(tmp_path / "data"))
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.startswith("circle: Room names use lowercase letters")


def test_no_command_is_a_usage_error() -> None:
    result = circle()
    assert result.returncode == 2
    assert "usage: circle" in result.stderr


def test_the_relay_keepalive_is_an_option_for_short_nat_timeouts() -> None:
    parser = build_parser()
    assert parser.parse_args(["serve"]).keepalive == RELAY.idle
    assert parser.parse_args(["serve", "--keepalive", "45"]).keepalive == 45.0
    assert parser.parse_args(["host", "--keepalive", "50"]).keepalive == 50.0
    bad = circle("serve", "--keepalive", "0")
    assert bad.returncode == 2
    assert "'0' is not a positive number of seconds" in bad.stderr

"""What a member's client remembers about relays: one line per relay, kept private."""

from __future__ import annotations

import stat
from pathlib import Path

from circle_room.tui.client.known_relays import KNOWN_RELAYS, VOUCHED, KnownRelays


def test_known_relays_keeps_one_line_per_relay(tmp_path: Path) -> None:
    path = tmp_path / "state" / KNOWN_RELAYS
    known = KnownRelays(path)
    assert known.get("h:1") is None
    known.remember("h:1", "ab2c-d3ef-gh4i-jk5l-mn6o")
    known.remember("[::1]:8765", VOUCHED)
    known.remember("h:1", "zz2c-d3ef-gh4i-jk5l-mn6o")
    assert KnownRelays(path).get("h:1") == "zz2c-d3ef-gh4i-jk5l-mn6o"
    assert KnownRelays(path).get("[::1]:8765") == VOUCHED
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    assert sorted(lines) == ["[::1]:8765 authority", "h:1 zz2c-d3ef-gh4i-jk5l-mn6o"]
    path.write_text(path.read_text() + "garbage\n\n")  # Hand edits do not break it.
    assert KnownRelays(path).get("h:1") == "zz2c-d3ef-gh4i-jk5l-mn6o"


def test_it_is_readable_by_its_owner_alone(tmp_path: Path) -> None:
    path = tmp_path / KNOWN_RELAYS
    KnownRelays(path).remember("h:1", "ab2c-d3ef-gh4i-jk5l-mn6o")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [KNOWN_RELAYS]  # nothing left aside


def test_a_reading_only_view_never_writes(tmp_path: Path) -> None:
    path = tmp_path / KNOWN_RELAYS
    KnownRelays(path).reading_only().remember("h:1", "ab2c-d3ef-gh4i-jk5l-mn6o")
    assert not path.exists()
    KnownRelays(path).remember("h:1", "ab2c-d3ef-gh4i-jk5l-mn6o")
    assert KnownRelays(path).reading_only().get("h:1") == "ab2c-d3ef-gh4i-jk5l-mn6o"

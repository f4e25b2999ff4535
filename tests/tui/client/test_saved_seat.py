"""Seats kept on disk: private files, written whole, held by one running client at a time."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from circle_room.protocol.handoff import FRESH_EPOCH
from circle_room.tui.client import saved_seat
from circle_room.tui.client.saved_seat import (
    STALE_AFTER,
    STATE_DIR_ENV,
    HeldSeat,
    SavedSeat,
    SeatShelf,
    state_dir,
)

URL = "ws://127.0.0.1:8765/tuesday"
NOW = 1_700_000_000.0
ANA = SavedSeat(URL, "tuesday", "Ana", 3, "token-ana", "epoch-1", 17, NOW)


def shelf(tmp_path: Path, now: float = NOW) -> SeatShelf:
    return SeatShelf(tmp_path / "state", clock=lambda: now)


def kept(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "state" / "seats").iterdir())


def test_a_saved_seat_is_found_again_by_the_next_client(tmp_path: Path) -> None:
    first = shelf(tmp_path).take(URL)
    assert first.saved is None
    first.save(ANA)
    first.release()  # The client ended without leaving (killed, or the terminal closed).

    again = shelf(tmp_path).take(URL)
    assert again.saved == ANA
    assert again.saved.resume().token == "token-ana"
    assert again.saved.resume().epoch == FRESH_EPOCH  # No room was kept to replay onto.
    again.release()


def test_files_are_private_and_hold_no_passcode_or_share(tmp_path: Path) -> None:
    held = shelf(tmp_path).take(URL)
    held.save(ANA)
    seats = tmp_path / "state" / "seats"
    assert stat.S_IMODE(seats.stat().st_mode) == 0o700
    [data] = seats.glob("*.json")
    assert stat.S_IMODE(data.stat().st_mode) == 0o600
    assert set(json.loads(data.read_bytes())) == {
        "url", "room", "name", "member_id", "token", "epoch", "seq", "saved_at",
    }  # fmt: skip
    held.release()


def test_the_seat_directory_is_made_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        shelf(tmp_path).take(URL).release()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "state" / "seats").stat().st_mode) == 0o700


def test_a_seat_held_by_a_running_client_is_not_taken(tmp_path: Path) -> None:
    running = shelf(tmp_path).take(URL)
    running.save(ANA)
    # A second client of the same user, same room: it must not take Ana's live seat.
    second = shelf(tmp_path).take(URL)
    assert second.saved is None
    running.release()
    assert shelf(tmp_path).take(URL).saved == ANA


def test_a_second_client_does_not_overwrite_a_live_seat(tmp_path: Path) -> None:
    running = shelf(tmp_path).take(URL)
    running.save(ANA)
    other = shelf(tmp_path).take(URL)
    other.save(replace(ANA, token="stolen"))
    running.release()
    assert shelf(tmp_path).take(URL).saved == ANA


def test_the_newest_free_seat_of_the_room_is_taken(tmp_path: Path) -> None:
    older = shelf(tmp_path).take(URL)
    older.save(ANA)
    newer = shelf(tmp_path).take(URL)
    ben = replace(ANA, name="Ben", member_id=4, token="token-ben", saved_at=NOW + 60)
    newer.save(ben)
    older.release()
    newer.release()
    assert shelf(tmp_path).take(URL).saved == ben
    assert shelf(tmp_path).take(URL, "ana").saved == ANA  # A name picks its own seat.
    assert shelf(tmp_path).take(URL, "Cy").saved is None
    assert shelf(tmp_path).take("ws://127.0.0.1:8765/monday").saved is None


def test_forgetting_removes_the_seat(tmp_path: Path) -> None:
    held = shelf(tmp_path).take(URL)
    held.save(ANA)
    held.forget()
    assert held.saved is None
    assert kept(tmp_path) == []
    assert shelf(tmp_path).take(URL).saved is None


def test_a_renamed_seat_moves_to_its_new_file(tmp_path: Path) -> None:
    held = shelf(tmp_path).take(URL)
    held.save(ANA)
    before = len(os.listdir("/proc/self/fd"))
    held.save(replace(ANA, name="Ana B"))
    assert len(os.listdir("/proc/self/fd")) == before  # The old lock was let go, not leaked.
    assert len([n for n in kept(tmp_path) if n.endswith(".json")]) == 1
    held.forget()
    assert kept(tmp_path) == []


def test_stale_and_unreadable_seats_are_thrown_away(tmp_path: Path) -> None:
    held = shelf(tmp_path).take(URL)
    held.save(ANA)
    held.release()
    assert shelf(tmp_path, now=NOW + STALE_AFTER + 1).take(URL).saved is None
    assert kept(tmp_path) == []

    held = shelf(tmp_path).take(URL)
    held.save(ANA)
    held.release()
    [data] = (tmp_path / "state" / "seats").glob("*.json")
    data.write_bytes(b'{"url": "ws://')  # Torn by hand: the atomic write never leaves this.
    assert shelf(tmp_path).take(URL).saved is None
    assert kept(tmp_path) == []


def test_a_failed_write_leaves_the_old_seat_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = shelf(tmp_path).take(URL)
    held.save(ANA)

    def broken(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(saved_seat.os, "replace", broken)
    held.save(replace(ANA, token="newer"))
    monkeypatch.undo()
    held.release()
    assert shelf(tmp_path).take(URL).saved == ANA
    assert not [n for n in kept(tmp_path) if n.startswith(".")]  # No temporary left behind.


def test_an_unusable_state_directory_keeps_nothing_and_joins_anyway(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("a file where the directory should be")
    held = SeatShelf(tmp_path / "state").take(URL)
    held.save(ANA)  # No error: a member can always join, kept seat or not.
    assert held.saved is None
    held.forget()


def test_the_state_directory_can_be_chosen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "env"))
    assert state_dir() == tmp_path / "env"
    assert state_dir(str(tmp_path / "flag")) == tmp_path / "flag"
    monkeypatch.delenv(STATE_DIR_ENV)
    assert state_dir().name == "circle"


HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from circle_room.tui.client.saved_seat import SavedSeat, SeatShelf
    held = SeatShelf(Path(sys.argv[1])).take(sys.argv[2])
    held.save(SavedSeat(sys.argv[2], "tuesday", "Ana", 3, "token-ana", "e", 1, 1e12))
    print("held", flush=True)
    sys.stdin.read()
    """
)


def test_a_killed_client_lets_go_of_its_seat(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "state"), URL],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        assert SeatShelf(tmp_path / "state", clock=lambda: 1e12).take(URL).saved is None
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # SIGKILL runs no clean-up: the kernel alone let go of the lock, the file stayed.
    taken = SeatShelf(tmp_path / "state", clock=lambda: 1e12).take(URL)
    assert taken.saved is not None and taken.saved.token == "token-ana"


seats = st.builds(
    SavedSeat,
    url=st.text(min_size=1),
    room=st.text(),
    name=st.text(min_size=1),
    member_id=st.integers(),
    token=st.text(min_size=1),
    epoch=st.text(),
    seq=st.integers(),
    saved_at=st.floats(allow_nan=False, allow_infinity=False),
)


@given(seats)
def test_a_seat_reads_back_as_written(seat: SavedSeat) -> None:
    assert SavedSeat.from_bytes(seat.to_bytes()) == seat


@given(st.binary() | st.text().map(str.encode))
def test_reading_anything_gives_a_seat_or_none(data: bytes) -> None:
    found = SavedSeat.from_bytes(data)
    assert found is None or isinstance(found, SavedSeat)


def test_a_hold_without_a_directory_is_inert() -> None:
    held = HeldSeat(None)
    held.save(ANA)
    held.forget()
    held.release()
    assert held.saved is None

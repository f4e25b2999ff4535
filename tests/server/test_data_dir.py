"""A data directory that cannot be written: one ``DataDirError`` with its reason, never sqlite's."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from circle_room.protocol.errors import CircleError
from circle_room.protocol.model import RoomState, Settings
from circle_room.server import data_dir
from circle_room.server.data_dir import DataDirError, Problem, problem_of
from circle_room.server.snapshot import CircleSnapshot
from circle_room.server.store import Store

SQLITE_FULL = 13
SQLITE_READONLY_DBMOVED = 1032
"""An extended code: its low byte is SQLITE_READONLY (8)."""


def sqlite_error(message: str, code: int) -> sqlite3.OperationalError:
    exc = sqlite3.OperationalError(message)
    exc.sqlite_errorcode = code  # As Python 3.11 sets it.
    return exc


def test_a_folder_that_is_a_file_is_refused_in_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "data"
    path.write_text("not a folder")
    with pytest.raises(DataDirError) as caught:
        Store(path)
    assert isinstance(caught.value, CircleError)
    assert caught.value.problem is Problem.UNUSABLE
    assert str(caught.value) == (
        f"Cannot use the data folder {path}: file exists; "
        "check it or choose another folder with --data-dir."
    )


def test_a_full_disk_at_start_up_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        raise sqlite_error("database or disk is full", SQLITE_FULL)

    monkeypatch.setattr(sqlite3, "connect", full)
    with pytest.raises(DataDirError) as caught:
        Store(tmp_path / "data")
    assert caught.value.problem is Problem.FULL
    assert "its disk is full; free some space or choose another folder" in str(caught.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_found_at_start_up(tmp_path: Path) -> None:
    path = tmp_path / "data"
    Store(path).close()
    path.chmod(0o500)
    try:
        with pytest.raises(DataDirError) as caught:
            Store(path)
    finally:
        path.chmod(0o700)
    assert caught.value.problem is Problem.READ_ONLY


def test_the_file_system_is_asked_before_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only mount makes SQLite say many things; ``statvfs`` says one."""
    real = os.statvfs(tmp_path)
    fields = {name: getattr(real, name) for name in dir(real) if name.startswith("f_")}

    class Stat:
        def __init__(self, **changed: int) -> None:
            self.__dict__.update(fields | changed)

    io_error = sqlite_error("disk I/O error", 10)
    monkeypatch.setattr(data_dir.os, "statvfs", lambda _: Stat(f_flag=os.ST_RDONLY))
    assert problem_of(tmp_path, io_error) is Problem.READ_ONLY
    monkeypatch.setattr(data_dir.os, "statvfs", lambda _: Stat(f_flag=0, f_bavail=0))
    assert problem_of(tmp_path, io_error) is Problem.FULL
    monkeypatch.setattr(data_dir.os, "statvfs", lambda _: Stat(f_flag=0, f_bavail=100))
    assert problem_of(tmp_path, io_error) is Problem.UNUSABLE
    assert problem_of(tmp_path, sqlite_error("readonly", SQLITE_READONLY_DBMOVED)) is (
        Problem.READ_ONLY
    )
    assert problem_of(tmp_path, OSError(28, "No space left on device")) is Problem.FULL


def test_a_failed_save_is_a_data_dir_error_and_leaves_no_transaction_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "data")
    store.add_room("tuesday")
    circle = CircleSnapshot(RoomState(), {})
    failing = sqlite_error("database or disk is full", SQLITE_FULL)

    def full(*args: object) -> None:
        raise failing

    with monkeypatch.context() as patch:
        patch.setattr(store, "save_circle", full)
        with pytest.raises(DataDirError) as caught:
            store.save_meeting("tuesday", circle, Settings(share_limit=60))
    assert caught.value.problem is Problem.FULL
    assert caught.value.__cause__ is failing
    record = store.room("tuesday")
    assert record is not None and record.settings.share_limit == 0, "nothing half-saved"
    store.save_meeting("tuesday", circle, Settings(share_limit=90))  # There is room again.
    assert store.load_circle("tuesday") == circle
    store.close()

"""``circle serve`` and ``circle host`` on a data folder they cannot use: one sentence, status 2."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from circle_room.tui.cli.main import main

CIRCLE = Path(sys.executable).parent / "circle"


def circle(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CIRCLE), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    "command",
    [["serve", "--port", "0"], ["host", "--port", "0", "--no-ssh"]],
    ids=["serve", "host"],
)
def test_an_unusable_data_folder_is_one_sentence_and_status_2(
    tmp_path: Path, command: list[str]
) -> None:
    data = tmp_path / "data"
    data.write_text("a file where the folder should be")
    result = circle(*command, "--data-dir", str(data))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr == (
        f"circle: Cannot use the data folder {data}: file exists; "
        "check it or choose another folder with --data-dir.\n"
    )
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["serve", "host"])
def test_a_full_disk_at_start_up_is_one_sentence_and_status_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    def full(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        exc = sqlite3.OperationalError("database or disk is full")
        exc.sqlite_errorcode = 13  # SQLITE_FULL, as Python 3.11 sets it.
        raise exc

    monkeypatch.setattr(sqlite3, "connect", full)
    data = tmp_path / "data"
    assert main([command, "--port", "0", "--data-dir", str(data)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"circle: Cannot use the data folder {data}: its disk is full; "
        "free some space or choose another folder with --data-dir.\n"
    )

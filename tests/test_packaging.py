"""The built wheel installs one name of ours, ``circle_room``, and every package in it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the rest runs on 3.10 too.

ROOT = Path(__file__).resolve().parents[1]


def test_every_folder_with_code_is_a_listed_package() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        "circle_room." + ".".join(init.parent.relative_to(ROOT).parts)
        for folder in ("protocol", "server", "tui")
        for init in (ROOT / folder).rglob("__init__.py")
    }
    assert found == listed


@pytest.mark.slow
def test_the_wheel_holds_only_circle_room(tmp_path: Path) -> None:
    # Built from a copy: an in-tree build leaves build/lib behind, whose stale
    # files would end up in the next wheel.
    source = tmp_path / "source"
    for name in ("pyproject.toml", "README.md", "protocol", "server", "tui"):
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            source.mkdir(exist_ok=True)
            shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("circle_room-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"circle_room"}
    assert "circle_room/__init__.py" not in names  # A namespace: nothing to shadow.
    for module in ("protocol/room.py", "server/relay.py", "tui/cli/main.py", "tui/app/app.py"):
        assert f"circle_room/{module}" in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "circle = circle_room.tui.cli.main:main" in zipfile.ZipFile(wheel).read(entry).decode()

"""No module grows past 400 lines: a module does one thing and stays short."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400


def _modules() -> list[str]:
    return sorted(
        str(path.relative_to(ROOT))
        for folder in ("protocol", "server", "tui")
        for path in (ROOT / folder).rglob("*.py")
    )


def _lines(module: str) -> int:
    return len((ROOT / module).read_text().splitlines())


@pytest.mark.parametrize("module", _modules())
def test_no_module_is_over_400_lines(module: str) -> None:
    assert _lines(module) <= MAX_LINES, f"{module}: {_lines(module)} lines"

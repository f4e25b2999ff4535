"""Who may import whom, read from the code itself.

protocol imports nothing of ours; server only protocol; the headless client
only protocol; the Textual app and plain mode only the client and protocol;
only the command line (``tui/cli``) composes the relay with the clients.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

ALLOWED: dict[str, set[str]] = {
    "protocol": {"protocol"},
    "server": {"protocol", "server"},
    "tui.client": {"protocol", "tui.client"},
    "tui.app": {"protocol", "tui.client", "tui.app"},
    "tui.plain": {"protocol", "tui.client", "tui.plain"},
    "tui.cli": {"protocol", "server", "tui.client", "tui.app", "tui.plain", "tui.cli"},
    "tui": {"tui.cli"},  # tui/__main__.py
}


def _layer(module: str) -> str:
    """The most specific entry of ``ALLOWED`` that ``module`` falls under."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in ALLOWED:
            return prefix
    raise AssertionError(f"{module} is in no layer")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return [name.removeprefix("circle_room.") for name in found if name.startswith("circle_room")]


def _modules() -> list[tuple[str, Path]]:
    out = []
    for folder in ("protocol", "server", "tui"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            out.append((module, path))
    return out


@pytest.mark.parametrize(("module", "path"), _modules(), ids=[m for m, _ in _modules()])
def test_imports_follow_the_layers(module: str, path: Path) -> None:
    allowed = ALLOWED[_layer(module)]
    wrong = [name for name in _imports(path) if _layer(name) not in allowed]
    assert not wrong, f"{module} ({_layer(module)}) may not import {wrong}"


def test_no_relative_imports_hide_from_the_check() -> None:
    relative = []
    for module, path in _modules():
        tree = ast.parse(path.read_text())
        if any(isinstance(n, ast.ImportFrom) and n.level for n in ast.walk(tree)):
            relative.append(module)
    assert not relative


def test_the_check_catches_a_wrong_import() -> None:
    assert _layer("server.relay") not in ALLOWED[_layer("tui.app.screens.circle")]
    assert _layer("tui.client.connection") not in ALLOWED[_layer("server.relay")]

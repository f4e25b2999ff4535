"""Every exception Circle defines hangs from ``CircleError``, read from the code itself."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from circle_room.protocol.errors import CircleError, Refused
from circle_room.server.guard import TooManyAttempts
from circle_room.server.store import StoreError

ROOT = Path(__file__).resolve().parents[1]


def _exception_classes() -> list[str]:
    """``module.Class`` for every class in our code that derives from an exception."""
    found = []
    for folder in ("protocol", "server", "tui"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.name == "__main__.py":
                continue  # Importing it would run the program.
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.ClassDef):
                    continue
                cls = getattr(importlib.import_module(f"circle_room.{module}"), node.name, None)
                if isinstance(cls, type) and issubclass(cls, BaseException):
                    found.append(f"{module}.{node.name}")
    return found


@pytest.mark.parametrize("name", _exception_classes())
def test_every_exception_is_a_circle_error(name: str) -> None:
    module, _, cls_name = name.rpartition(".")
    cls = getattr(importlib.import_module(f"circle_room.{module}"), cls_name)
    assert issubclass(cls, CircleError), f"{name} is outside the error tree"


def test_the_check_finds_the_server_errors() -> None:
    names = _exception_classes()
    assert "server.guard.TooManyAttempts" in names
    assert "server.store.StoreError" in names


def test_every_exception_is_drawn_in_the_tree() -> None:
    drawing = importlib.import_module("circle_room.protocol.errors").__doc__ or ""
    for name in _exception_classes():
        cls_name = name.rpartition(".")[2]
        assert re.search(rf"(─ |^    ){cls_name}\b", drawing, re.M), f"{name} is not drawn"


def test_too_many_attempts_is_a_refusal_ready_for_the_wire() -> None:
    refused = TooManyAttempts(11.256)
    assert isinstance(refused, Refused)
    assert refused.code == "too_many_attempts"
    assert refused.retry_after == 11.26
    assert refused.message == "Too many wrong passcodes; try again in 11 s."


def test_a_store_error_says_only_its_sentence() -> None:
    assert str(StoreError("A room called 'x' already exists.")) == (
        "A room called 'x' already exists."
    )

"""docs/protocol.md and the message classes say the same thing.

The tables of the message reference and the value types are read from the
document and compared with the dataclasses: tag, name, wire form (fields in
order) and which fields are optional. Every message says what it is for.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import msgpack
import pytest

from circle_room.protocol import messages, model
from circle_room.protocol.codec import encode
from circle_room.protocol.messages import COMMAND_TYPES, CONTROL_TYPES, EVENT_TYPES
from circle_room.protocol.model import Member, Pause, RoomState, Round, Settings, Turn

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()

MESSAGES = [*CONTROL_TYPES, *COMMAND_TYPES, *EVENT_TYPES]


def _names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls) if model.on_the_wire(f)]


def _optional(cls: type) -> list[str]:
    return [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
    ]


def _row(cls: type) -> list[str]:
    tag = cls.TAG  # type: ignore[attr-defined]
    found = re.findall(rf"^\| {tag} \| {cls.__name__} \| (.*)$", DOC, re.M)
    assert len(found) == 1, f"{cls.__name__}: {len(found)} rows with tag {tag}"
    return [cell.strip() for cell in found[0].split(" | ")]


@pytest.mark.parametrize("cls", MESSAGES, ids=lambda c: c.__name__)
def test_the_wire_form_in_the_docs_is_the_dataclass(cls: type) -> None:
    head = ["ref"] if cls in COMMAND_TYPES else ["seq"] if cls in EVENT_TYPES else []
    fields = ["frame, frame, …"] if cls is messages.Batch else _names(cls)  # Each item a frame.
    expected = ", ".join([str(cls.TAG), *head, *fields])  # type: ignore[attr-defined]
    assert _row(cls)[0] == f"`[{expected}]`"


@pytest.mark.parametrize("cls", MESSAGES, ids=lambda c: c.__name__)
def test_optional_fields_are_marked_with_their_default(cls: type) -> None:
    fields = _row(cls)[1]
    for name in _names(cls):
        marked = re.search(rf"`{name}` [^`;]*?= ", fields) is not None
        assert marked == (name in _optional(cls)), f"{cls.__name__}.{name}"


@pytest.mark.parametrize("cls", [Settings, Member, Turn, Pause, Round, RoomState])
def test_the_value_types_in_the_docs_are_the_dataclasses(cls: type) -> None:
    assert f"**{cls.__name__}** = `[{', '.join(_names(cls))}]`" in DOC


@pytest.mark.parametrize("cls", MESSAGES, ids=lambda c: c.__name__)
def test_every_message_says_what_it_is_for(cls: type) -> None:
    # A dataclass without one gets a generated "Name(field, ...)" docstring.
    assert cls.__doc__ and not cls.__doc__.startswith(f"{cls.__name__}(")


def test_every_message_is_in_the_index() -> None:
    for cls in MESSAGES:
        assert getattr(messages, cls.__name__) is cls
        assert cls.__name__ in messages.__all__


# --- the golden examples ------------------------------------------------------------------


def _examples() -> list[tuple[str, str, bytes]]:
    """(value as written, array as written, bytes of the hex dump) of every dumped example."""
    found = []
    for block in re.findall(r"```\n(.*?)```", DOC, re.S):
        lines = block.splitlines()
        dump = [line for line in lines if re.match(r"[0-9a-f]{4}  ", line)]
        if dump:
            data = bytes.fromhex(" ".join(line[6:53] for line in dump))
            found.append((lines[0], lines[1], data))
    return found


def _value(written: str) -> object:
    names = {**vars(messages), **vars(model)}
    # Member(1, "Sam", FACILITATOR, PRESENT): roles and presences go unqualified.
    names.update({m.name: m for m in (*model.Role, *model.Presence)})
    return eval(written, names)


@pytest.mark.parametrize(("written", "array", "data"), _examples(), ids=lambda x: str(x)[:30])
def test_golden_examples_are_what_the_codec_makes(written: str, array: str, data: bytes) -> None:
    value = _value(written)
    assert encode(value) == data  # type: ignore[arg-type]
    as_json = json.dumps(msgpack.unpackb(data), ensure_ascii=False, separators=(", ", ": "))
    assert as_json.replace("null", "nil") == array


def test_every_golden_example_says_its_size() -> None:
    sizes = [int(n) for n in re.findall(r" — (\d+) bytes", DOC)]
    assert sizes == [len(data) for _, _, data in _examples()]


def test_there_are_golden_examples_to_check() -> None:
    assert len(_examples()) >= 15

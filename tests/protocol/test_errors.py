"""Refusal codes: one definition, the wire strings unchanged."""

from __future__ import annotations

import re
from pathlib import Path

from circle_room.protocol.codec import decode, encode
from circle_room.protocol.messages import Error
from circle_room.protocol.refusals import RefusalCode

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def test_a_code_travels_as_its_plain_string() -> None:
    frame = decode(encode(Error(3, RefusalCode.LOCKED, "The room is locked.")))
    assert isinstance(frame, Error)
    assert frame.code == "locked"
    assert RefusalCode.of(frame.code) is RefusalCode.LOCKED


def test_an_unknown_code_is_none_not_an_error() -> None:
    assert RefusalCode.of("from_a_newer_relay") is None


def test_every_code_a_client_can_get_is_documented() -> None:
    documented = set(re.findall(r"^\| `([a-z_]+)`", DOC.read_text(), re.M))
    internal = {RefusalCode.ALREADY_AWAY}
    missing = {c.value for c in RefusalCode if c not in internal} - documented
    assert not missing

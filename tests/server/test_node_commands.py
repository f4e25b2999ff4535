"""What nodes say to each other on their channels: notices round-trip, garbage is refused."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from circle_room.protocol.errors import RemoteProtocolError
from circle_room.server.node_commands import Refusal, Replaced, pack_notice, unpack_notice

notices = st.one_of(
    st.builds(Refusal, st.text(), st.text(), st.binary()),
    st.builds(Replaced, st.text(), st.integers(0, 2**31)),
)


@given(notices)
def test_a_notice_comes_back_as_it_was_packed(notice: Refusal | Replaced) -> None:
    assert unpack_notice(pack_notice(notice)) == notice


@given(st.binary())
def test_anything_else_on_a_channel_is_a_remote_protocol_error(data: bytes) -> None:
    with contextlib.suppress(RemoteProtocolError):
        unpack_notice(data)


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(RemoteProtocolError):
        unpack_notice(b"\x92\xa1q\xa1r")

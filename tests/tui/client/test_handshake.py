"""The client's half of the handshake, without sockets: each step read as a type."""

from __future__ import annotations

import pytest

from circle_room.protocol import PROTOCOL_VERSIONS
from circle_room.protocol.close_codes import CloseCode
from circle_room.protocol.codec import encode
from circle_room.protocol.errors import JoinRefused, RemoteProtocolError
from circle_room.protocol.messages import Error, Greeting, Hello, Resume, Welcome
from circle_room.protocol.refusals import RefusalCode
from circle_room.tui.client import handshake
from circle_room.tui.client.updates import Status, StatusChanged

GREETING = Greeting(PROTOCOL_VERSIONS, "tuesday", ("Be kind.",), needs_passcode=True)


def test_a_greeting_is_read_from_its_frame() -> None:
    assert handshake.greeting(handshake.frame(encode(GREETING))) == GREETING


@pytest.mark.parametrize("data", ["hello", b"\xc1", encode(Welcome(1, 2, "t", "e", 0, True))])
def test_anything_but_a_greeting_is_not_a_relay(data: bytes | str) -> None:
    with pytest.raises(RemoteProtocolError):
        handshake.greeting(handshake.frame(data))


def test_hello_picks_the_newest_shared_version() -> None:
    resume = Resume("t", "e", 4)
    hello = handshake.hello(GREETING, "Ana", "kettle", "", True, resume)
    assert hello == Hello(max(PROTOCOL_VERSIONS), "Ana", "kettle", "", True, resume, gapless=True)
    stranger = Greeting((999,), "tuesday", (), needs_passcode=False)
    with pytest.raises(JoinRefused) as refused:
        handshake.hello(stranger, "Ana", "", "", True, None)
    assert refused.value.refusal is RefusalCode.VERSION
    assert refused.value.greeting == stranger


def test_a_refusal_carries_its_code_as_a_type() -> None:
    with pytest.raises(JoinRefused) as refused:
        handshake.welcome(Error(0, "too_many_attempts", "Wait a minute.", 60.0), GREETING)
    assert refused.value.refusal is RefusalCode.TOO_MANY_ATTEMPTS
    assert refused.value.retry_after == 60.0 and refused.value.greeting == GREETING
    with pytest.raises(JoinRefused) as unknown:
        handshake.welcome(Error(0, "from_a_newer_relay", "No."), GREETING)
    assert unknown.value.refusal is None and unknown.value.code == "from_a_newer_relay"


def test_a_welcome_is_a_welcome() -> None:
    welcome = Welcome(1, 2, "t", "e", 0, True)
    assert handshake.welcome(welcome, GREETING) == welcome
    with pytest.raises(RemoteProtocolError):
        handshake.welcome(GREETING, GREETING)


def test_how_a_connection_ended_is_read_from_codes_not_words() -> None:
    assert StatusChanged(Status.CLOSED, close=CloseCode.REMOVED).removed
    assert StatusChanged(Status.CLOSED, refusal=RefusalCode.REMOVED).removed
    # The relay's words are for people: "removed" in them decides nothing.
    assert not StatusChanged(Status.CLOSED, detail="removed", close=CloseCode.LEFT).removed

"""Why a room could not be reached: one sentence per kind of failure, told apart by type."""

from __future__ import annotations

import asyncio
import errno
import socket

from websockets.exceptions import InvalidMessage

from circle_room.protocol.close_codes import CloseCode
from circle_room.protocol.errors import CircleError, JoinRefused, RemoteProtocolError
from circle_room.tui.client.reach import port_problem, why_unreachable

URL = "ws://192.0.2.7:8765/tuesday"


def test_each_failure_says_what_to_do() -> None:
    cases = {
        ConnectionRefusedError(errno.ECONNREFUSED, "refused"): "Nothing is listening at "
        "192.0.2.7:8765; check the address and port you were given, "
        "and that the circle has been opened.",
        socket.gaierror(-2, "Name or service not known"): "This computer cannot find a machine "
        "called '192.0.2.7'; check the address you were given.",
        asyncio.TimeoutError(): "192.0.2.7:8765 does not answer from here; check the address, "
        "your network, and that no firewall is in the way.",
        OSError(errno.EHOSTUNREACH, "No route to host"): "192.0.2.7:8765 does not answer from "
        "here; check the address, your network, and that no firewall is in the way.",
        RemoteProtocolError("odd"): "192.0.2.7:8765 is not a Circle relay; "
        "check the address and port you were given.",
        InvalidMessage("did not receive a valid HTTP response"): "192.0.2.7:8765 is not a "
        "Circle relay; check the address and port you were given.",
        JoinRefused("", "no room", close=CloseCode.NO_ROOM): "There is no room called "
        "'tuesday' at 192.0.2.7:8765; check the room name you were given.",
        OSError("TimeoutError"): "192.0.2.7:8765 did not answer as a Circle relay "
        "(TimeoutError); check the address and port you were given.",
    }
    for exc, sentence in cases.items():
        assert why_unreachable(URL, exc) == sentence


def test_a_port_that_is_not_one_is_named() -> None:
    assert port_problem("h:99999/tuesday").startswith("The port in 'h:99999/tuesday' is not a")
    assert port_problem("ws://h:abc/tuesday") != ""
    assert port_problem("h:8765/tuesday") == port_problem("h/tuesday") == ""


def test_our_own_errors_are_said_as_they_are() -> None:
    class NotTheRelayExpected(CircleError):
        pass

    said = why_unreachable(
        URL, NotTheRelayExpected("Not the relay in the join line; ask the host.")
    )
    assert said == "Not the relay in the join line; ask the host."

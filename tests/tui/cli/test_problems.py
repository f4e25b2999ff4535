"""What the command line says when it cannot start: the sentences, without processes."""

from __future__ import annotations

import argparse
import errno
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from circle_room.tui.cli.problems import MAX_PORT, cannot_listen, port_number


@given(st.integers(min_value=0, max_value=MAX_PORT))
def test_every_port_is_accepted(port: int) -> None:
    assert port_number(str(port)) == port


@given(st.integers().filter(lambda n: not 0 <= n <= MAX_PORT).map(str) | st.text())
def test_anything_but_a_port_is_refused_with_the_range(text: str) -> None:
    try:
        port = int(text)  # Python reads " 80", "+80" and other digits too.
    except ValueError:
        port = -1
    if 0 <= port <= MAX_PORT:
        assert port_number(text) == port
        return
    with pytest.raises(argparse.ArgumentTypeError) as refused:
        port_number(text)
    assert "use one from 1 to 65535, or 0 for any free port" in str(refused.value)


def test_a_port_in_use_suggests_the_next_one_and_any_free_one() -> None:
    said = cannot_listen("--port", "0.0.0.0", 8765, OSError(errno.EADDRINUSE, "in use"))
    assert said == (
        "Port 8765 is already in use (another circle, or another program); "
        "choose another with --port 8766, or --port 0 for any free port."
    )
    said = cannot_listen("--ssh-port", "::", 2222, OSError(errno.EADDRINUSE, "in use"))
    assert "--ssh-port 2223, or --ssh-port 0" in said


def test_a_reserved_port_and_a_foreign_address_say_what_to_give_instead() -> None:
    assert "above 1023" in cannot_listen("--port", "0.0.0.0", 80, PermissionError(errno.EACCES, ""))
    foreign = cannot_listen("--port", "192.0.2.1", 8765, OSError(errno.EADDRNOTAVAIL, ""))
    assert foreign.startswith("192.0.2.1 is not an address of this machine")
    unknown = cannot_listen("--port", "nowhere", 8765, socket.gaierror(-2, "Name unknown"))
    assert unknown.startswith("nowhere is not an address of this machine")


def test_anything_else_still_says_what_to_try() -> None:
    said = cannot_listen("--port", "127.0.0.1", 8765, OSError(errno.EMFILE, "Too many open files"))
    assert said == "Circle cannot listen on 127.0.0.1:8765 (Too many open files); try --port 0."


def test_names_in_sentences_cannot_drive_the_terminal() -> None:
    said = cannot_listen("--port", "\x1b]0;owned\x07h", 1, OSError(errno.EADDRNOTAVAIL, ""))
    assert "\x1b" not in said and "\x07" not in said
    with pytest.raises(argparse.ArgumentTypeError) as refused:
        port_number("\x1b[2J")
    assert "\x1b" not in str(refused.value)

"""The plain-mode line editor, bytes in and bytes and lines out, with no I/O at all."""

from __future__ import annotations

from circle_room.server.line_editor import LineEditor, too_long_notice


def test_lines_without_a_pty_end_at_newlines_and_keep_no_cr() -> None:
    editor = LineEditor(echo=False)
    editor.receive_data(b"yes\r\n/wh")
    editor.receive_data(b"o\n")
    assert editor.lines_received() == ["yes", "/who"]
    assert editor.data_to_send() == b""  # The member's own terminal echoes.


def test_a_last_line_without_a_newline_counts_at_the_end_of_input() -> None:
    editor = LineEditor(echo=False)
    editor.receive_data(b"yes\n/quit")
    editor.receive_eof()
    assert editor.lines_received() == ["yes", "/quit", None]


def test_utf8_split_across_chunks_is_kept_whole() -> None:
    editor = LineEditor(echo=False)
    data = "Zoë\n".encode()
    editor.receive_data(data[:3])
    editor.receive_data(data[3:])
    assert editor.lines_received() == ["Zoë"]


def test_a_line_too_long_keeps_its_start_and_says_so() -> None:
    editor = LineEditor(echo=False, max_line=10)
    for _ in range(1000):  # In many chunks: nothing is rebuilt per chunk.
        editor.receive_data(b"abcdefgh")
    editor.receive_data(b"\nnext\n")
    assert editor.lines_received() == ["abcdefghab", "next"]
    assert editor.data_to_send() == (too_long_notice(10) + "\n").encode()


def test_the_default_cap_is_16_kib() -> None:
    editor = LineEditor(echo=False)
    editor.receive_data(b"x" * 100_000 + b"\n")
    [line] = editor.lines_received()
    assert line is not None and len(line) == 16 * 1024


def test_a_dumb_terminal_gets_echo_and_simple_editing() -> None:
    editor = LineEditor(echo=True)
    editor.receive_data(b"/whx\x7fo\r")
    assert editor.lines_received() == ["/who"]
    assert editor.data_to_send() == b"/whx\x08 \x08o\r\n"
    editor.receive_data(b"oops\x15ok\x03")
    assert editor.lines_received() == []
    assert editor.typed == ""
    editor.receive_data(b"\x1b[A")  # Escape sequences are not echoed.
    assert editor.data_to_send() == b"oops\r\nok^C\r\n[A"
    editor.receive_data(b"\x15\x04")
    assert editor.lines_received() == [None]


def test_a_dumb_terminal_stops_echoing_at_the_cap() -> None:
    editor = LineEditor(echo=True, max_line=3)
    editor.receive_data(b"abcdef\r")
    assert editor.lines_received() == ["abc"]
    assert editor.data_to_send() == b"abc\r\n" + (too_long_notice(3) + "\r\n").encode()

"""The line editor of plain mode over SSH, sans I/O: bytes in, echo and lines out.

Two kinds of terminal type into it:

- **no PTY** (``ssh -T``): the member's own terminal edits and echoes the
  line; lines end at ``\\n`` (a ``\\r`` before it is dropped);
- **a PTY with a dumb terminal**: the remote terminal is raw, so the editor
  echoes what is typed and offers backspace, Ctrl-U (start again), Ctrl-C
  (forget the line) and Ctrl-D on an empty line (end of input), with no cursor
  movement at all.

Call ``receive_data`` with what arrived and ``receive_eof`` at the end, then
collect ``data_to_send()`` (echo and notices, for the member's terminal) and
``lines_received()`` (complete lines; None means input ended). A line longer
than ``max_line`` characters keeps its first ``max_line`` characters; the rest
is dropped and the member is told so.
"""

from __future__ import annotations

import codecs

MAX_LINE = 16 * 1024
"""Characters kept of one typed line (a share is at most 4000)."""


def too_long_notice(max_line: int) -> str:
    return f"That line was too long: only its first {max_line} characters were kept."


class LineEditor:
    def __init__(self, *, echo: bool, max_line: int = MAX_LINE) -> None:
        self.echo = echo
        self.max_line = max_line
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._typed: list[str] = []
        self._overflow = False
        self._ended = False
        self._out: list[str] = []
        self._lines: list[str | None] = []

    @property
    def typed(self) -> str:
        """The line being typed (what to show again after printing something else)."""
        return "".join(self._typed)

    def receive_data(self, data: bytes) -> None:
        if self._ended:
            return
        text = self._decoder.decode(data)
        if self.echo:
            for ch in text:
                self._key(ch)
        else:
            *complete, rest = text.split("\n")
            for piece in complete:
                self._add(piece)
                self._end_line()
            self._add(rest)

    def receive_eof(self) -> None:
        """Input ended: a last line without its line ending still counts."""
        if self._ended:
            return
        self._add(self._decoder.decode(b"", final=True))
        if self._typed or self._overflow:
            self._end_line()
        self._end_input()

    def data_to_send(self) -> bytes:
        out, self._out = "".join(self._out), []
        return out.encode()

    def lines_received(self) -> list[str | None]:
        lines, self._lines = self._lines, []
        return lines

    # --- inside ------------------------------------------------------------------------

    def _add(self, text: str) -> None:
        room = self.max_line - len(self._typed)
        if len(text) > room:
            self._overflow = True
            text = text[: max(0, room)]
        self._typed.extend(text)

    def _end_line(self) -> None:
        line = "".join(self._typed)
        if not self.echo:
            line = line.removesuffix("\r")
        self._typed = []
        self._lines.append(line)
        if self._overflow:
            self._overflow = False
            self._say(too_long_notice(self.max_line))

    def _end_input(self) -> None:
        self._ended = True
        self._lines.append(None)

    def _say(self, line: str) -> None:
        self._out.append(line + ("\r\n" if self.echo else "\n"))

    def _key(self, ch: str) -> None:
        if ch in "\r\n":
            self._out.append("\r\n")
            self._end_line()
        elif ch in "\x7f\x08":
            if self._typed:
                self._typed.pop()
                self._out.append("\x08 \x08")
        elif ch == "\x15":  # Ctrl-U: start the line again.
            self._typed = []
            self._out.append("\r\n")
        elif ch == "\x03":  # Ctrl-C: forget the line.
            self._typed = []
            self._out.append("^C\r\n")
        elif ch == "\x04":  # Ctrl-D on an empty line: end of input.
            if not self._typed:
                self._end_input()
        elif ch.isprintable():
            if len(self._typed) < self.max_line:
                self._typed.append(ch)
                self._out.append(ch)
            else:
                self._overflow = True

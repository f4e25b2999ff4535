"""Plain mode's side of one SSH session: typed bytes in, lines out, and back.

``PlainLines`` is the ``protocol.handoff.PlainChannel`` the plain-mode runner (which
the composer passes to the gateway) reads and writes through. The session
(``server.ssh_session``) feeds it what the member typed; a ``LineEditor`` turns
that into lines, echoing if the member's terminal does not. Lines are bounded:
when more than ``max_lines`` wait for the runner, the session stops reading
the channel (SSH flow control pushes back on the member) until half have
been read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from circle_room.protocol.handoff import Credentials, PlainChannel
from circle_room.server.line_editor import LineEditor
from circle_room.server.ssh_seats import Seat

PlainRunner = Callable[[PlainChannel], Awaitable[None]]
"""Runs plain mode for one member over a channel (the composer passes it in)."""


class PlainLines:
    """One SSH member's plain-mode lines; ``send`` writes to their channel."""

    def __init__(
        self,
        seat: Seat,
        *,
        url: str,
        ticket: str,
        max_line: int,
        max_lines: int,
        send: Callable[[bytes], None],
        pause_reading: Callable[[bool], None],
    ) -> None:
        self.url = url
        self.name = seat.name
        self.ticket = ticket
        self.resume = seat.credentials
        self.seat_code = seat.code
        self.notice = ""
        self._seat = seat
        self._max_lines = max_lines
        self._send = send
        self._pause_reading = pause_reading
        self._editor = LineEditor(echo=False, max_line=max_line)
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()

    @property
    def echo(self) -> bool:
        """Whether typed keys are echoed and edited here (a PTY with a dumb terminal)."""
        return self._editor.echo

    @echo.setter
    def echo(self, echo: bool) -> None:
        self._editor.echo = echo

    # --- from the member --------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        self._editor.receive_data(data)
        self._take_from_editor()

    def receive_eof(self) -> None:
        self._editor.receive_eof()
        self._take_from_editor()

    def _take_from_editor(self) -> None:
        self._send(self._editor.data_to_send())
        for line in self._editor.lines_received():
            self._lines.put_nowait(line)
        self._pause_reading(self._lines.qsize() > self._max_lines)

    # --- the runner's channel ---------------------------------------------------------

    async def readline(self) -> str | None:
        """The next line typed; None when input ended."""
        line = await self._lines.get()
        if line is None:
            self._lines.put_nowait(None)  # Every later read sees the end too.
        elif self._lines.qsize() <= self._max_lines // 2:
            self._pause_reading(False)
        return line

    def write(self, line: str) -> None:
        if self._editor.echo:
            # Start on a fresh line if the member was typing, then give their words back.
            typed = self._editor.typed
            prefix = "\r\n" if typed else ""
            self._send(f"{prefix}{line}\r\n{typed}".encode())
        else:
            self._send(f"{line}\n".encode())

    def keep(self, credentials: Credentials) -> None:
        self._seat.credentials = credentials

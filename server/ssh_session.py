"""One SSH session channel: a full-screen seat in a PTY child, or plain line mode.

- **full screen** (``ssh -t``, the usual case): a ``PtyChild`` runs the Textual
  client; bytes are pumped both ways between the SSH channel and the PTY
  master, and window changes are forwarded.
- **plain** (``ssh -T``, ``TERM=dumb``, ``ssh ROOM@HOST plain``, or when the
  full-screen seats are all taken): plain line mode, in-process, through the
  runner the composer passes in, reading and writing lines through a
  ``PlainLines`` (``server.ssh_plain``).

Input is bounded: when keys for the child or lines for plain mode pile up,
the session stops reading the channel (SSH flow control pushes back on the
member) until they drain. A plain session whose output stays blocked longer
than ``max_stall`` is ended. A session holds a seat (``server.ssh_seats``) and
a one-time join ticket for the relay (``server.tickets``), revoked when it ends.
What it needs of the gateway is ``SessionHost``; it does not import the gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Protocol

import asyncssh

from circle_room.protocol.handoff import Credentials
from circle_room.server.ssh_config import GatewayConfig
from circle_room.server.ssh_plain import PlainLines, PlainRunner
from circle_room.server.ssh_pty import PtyChild, Size, child_env, os_read
from circle_room.server.ssh_seats import Seat

log = logging.getLogger(__name__)

DUMB_TERMS = frozenset({"", "dumb", "unknown"})
REPORT_LIMIT = 4096
"""Bytes of a child's credential reports kept while waiting for a line ending."""
TERMINAL_RESET = (
    b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l"  # mouse reporting off
    b"\x1b[?2004l\x1b[?1049l\x1b[?25h\x1b[0m\r\n"  # paste mode off, main screen, cursor on
)
MEETING_ENDED = b"\r\nThe meeting has ended. Thank you for being here.\r\n"
CLOSE_DRAIN_TIMEOUT = 2.0
"""Longest the host waits, when quitting, for a member's goodbye to be sent."""
FULL_SCREEN_FULL = (
    "The full-screen view is full here ({limit} seats), so you are in plain text mode: "
    "one line per event, commands typed as lines."
)


class SessionHost(Protocol):
    """What a session needs of the gateway that made it (``server.ssh_gateway``)."""

    config: GatewayConfig
    plain: PlainRunner

    def room_url(self, room: str) -> str: ...

    def child_argv(self, url: str, name: str) -> list[str]: ...

    def host_env(self) -> dict[str, str]: ...

    def full_screen_count(self) -> int: ...

    def mint_ticket(self, room: str, name: str) -> str: ...

    def revoke_ticket(self, ticket: str) -> None: ...

    def session_ended(self, session: Session) -> None: ...


class Mode(enum.Enum):
    PLAIN = "plain"
    TUI = "tui"


@dataclass
class SessionStats:
    mode: Mode
    room: str
    started: float = field(default_factory=time.monotonic)
    """When the session began (monotonic clock)."""
    bytes_out: int = 0
    """Bytes written to the SSH channel (before SSH's own compression)."""
    pid: int | None = None
    """The child process, for full-screen sessions."""


class Session(asyncssh.SSHServerSession):  # type: ignore[type-arg]
    """One SSH session channel. The gateway counts it from creation (its slot)."""

    def __init__(self, gateway: SessionHost, seat: Seat) -> None:
        self._gateway = gateway
        self._config = gateway.config
        self.seat = seat
        self.room = seat.room
        self.name = seat.name
        self._chan: asyncssh.SSHServerChannel[bytes] | None = None
        self._term = ""
        self._size: Size = (80, 24, 0, 0)
        self._pty = False
        self._plain_asked = False
        self._closed = False
        self._gone = asyncio.Event()
        """Set once the channel is closed: what was written has been sent."""
        self._reading_paused = False
        self._stall: asyncio.TimerHandle | None = None
        self.stats = SessionStats(Mode.PLAIN, self.room)
        self._ticket = gateway.mint_ticket(self.room, self.name)
        self._task: asyncio.Task[None] | None = None
        # Full screen.
        self._child: PtyChild | None = None
        self._to_child = bytearray()
        self._report = bytearray()
        self.plain = PlainLines(
            seat,
            url=gateway.room_url(self.room),
            ticket=self._ticket,
            max_line=self._config.max_line,
            max_lines=self._config.max_lines,
            send=self._send,
            pause_reading=self._pause_reading,
        )
        """Plain mode's lines, and the channel its runner reads and writes."""

    @property
    def mode(self) -> Mode:
        return self.stats.mode

    # --- asyncssh callbacks --------------------------------------------------------------

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self._chan = chan

    def pty_requested(self, term_type: str, term_size: Size, term_modes: object) -> bool:
        self._pty = True
        self._term = term_type or ""
        self._size = term_size
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        # ``ssh ROOM@HOST plain`` asks for plain mode even with a PTY; nothing else runs.
        if command.strip().lower() in ("", "plain"):
            self._plain_asked = command.strip() != ""
            return True
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        return False

    def session_started(self) -> None:
        loop = asyncio.get_running_loop()
        wants_screen = self._pty and not self._plain_asked
        if wants_screen and self._term.lower() not in DUMB_TERMS:
            if self._gateway.full_screen_count() < self._config.max_full_screen:
                self.stats.mode = Mode.TUI
                self._task = loop.create_task(self._run_child())
                return
            self.plain.notice = FULL_SCREEN_FULL.format(limit=self._config.max_full_screen)
        self.plain.echo = self._pty
        self._task = loop.create_task(self._run_plain())

    def data_received(self, data: bytes, datatype: int | None) -> None:
        if self.stats.mode is Mode.TUI:
            self._to_child += data
            self._flush_to_child()
        else:
            self.plain.receive_data(data)

    def eof_received(self) -> bool:
        if self.stats.mode is not Mode.TUI:
            self.plain.receive_eof()
        return True  # Keep our half open to say goodbye.

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self._size = (width, height, pixwidth, pixheight)
        if self._child is not None:
            self._child.resize(self._size)

    def pause_writing(self) -> None:
        if self._child is not None and self._child.master >= 0:
            asyncio.get_running_loop().remove_reader(self._child.master)
        elif self.stats.mode is Mode.PLAIN and self._stall is None:
            loop = asyncio.get_running_loop()
            self._stall = loop.call_later(self._config.max_stall, self._stalled)

    def resume_writing(self) -> None:
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None
        if self._child is not None and self._child.master >= 0 and not self._closed:
            asyncio.get_running_loop().add_reader(self._child.master, self._from_child)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._gone.set()
        self._gateway.session_ended(self)
        self._gateway.revoke_ticket(self._ticket)
        if self._stall is not None:
            self._stall.cancel()
        if self._task is not None:
            self._task.cancel()

    # --- writing -------------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        if self._chan is None or self._closed or not data:
            return
        self.stats.bytes_out += len(data)
        with contextlib.suppress(OSError):  # Closing already: connection_lost follows.
            self._chan.write(data)

    def _finish(self, status: int) -> None:
        if self._chan is not None and not self._closed:
            with contextlib.suppress(OSError, asyncssh.Error):
                self._chan.exit(status)

    def _pause_reading(self, pause: bool) -> None:
        if self._chan is None or self._closed or pause == self._reading_paused:
            return
        self._reading_paused = pause
        if pause:
            self._chan.pause_reading()
        else:
            self._chan.resume_reading()

    # --- plain mode ------------------------------------------------------------------------

    def _stalled(self) -> None:
        self._stall = None
        log.info("plain session in %s ended: output blocked too long", self.room)
        if self._chan is not None and not self._closed:
            self._chan.close()

    async def _run_plain(self) -> None:
        status = 0
        try:
            await self._gateway.plain(self.plain)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("plain session in %s failed", self.room)
            status = 1
        self._finish(status)

    # --- full screen: the Textual client in a child process ------------------------------------

    async def _run_child(self) -> None:
        status = 1
        try:
            status = await self._child_lifetime()
        except asyncio.CancelledError:
            raise
        except (OSError, ValueError):
            log.exception("could not start the client for %s", self.room)
            self.plain.write("Sorry: the circle could not be opened here. Please tell the host.")
        finally:
            self._close_child()
        self._finish(status)

    async def _child_lifetime(self) -> int:
        gateway = self._gateway
        argv = gateway.child_argv(gateway.room_url(self.room), self.name)
        client_env = self._chan.get_environment() if self._chan is not None else {}
        extra = {} if self._config.mouse else {"CIRCLE_NO_MOUSE": "1"}
        env = child_env(gateway.host_env(), self._term, client_env, extra)
        secrets = json.dumps(
            {
                "ticket": self._ticket,
                "resume": self.seat.credentials.line() if self.seat.credentials else "",
                "seat_code": self.seat.code,
            }
        ).encode()
        self._child = child = await PtyChild.start(argv, env, self._size, secrets)
        self.stats.pid = child.process.pid
        loop = asyncio.get_running_loop()
        loop.add_reader(child.master, self._from_child)
        loop.add_reader(child.report, self._from_report)
        self._flush_to_child()  # Keys typed while the child was starting.
        try:
            status = await child.process.wait()
        except asyncio.CancelledError:
            await child.kill()
            raise
        self._drain_child()  # Its last words: usually restoring the member's terminal.
        return status if status >= 0 else 1

    def _from_child(self) -> None:
        assert self._child is not None
        try:
            data = os_read(self._child.master)
        except BlockingIOError:
            return
        if not data:
            asyncio.get_running_loop().remove_reader(self._child.master)
            return
        self._send(data)

    def _drain_child(self) -> None:
        assert self._child is not None
        while True:
            try:
                data = os_read(self._child.master)
            except BlockingIOError:
                return
            if not data:
                return
            self._send(data)

    def _flush_to_child(self) -> None:
        child = self._child
        if child is None or child.master < 0:
            self._pause_reading(len(self._to_child) > self._config.max_to_child)
            return
        loop = asyncio.get_running_loop()
        try:
            written = os.write(child.master, self._to_child)
        except BlockingIOError:
            written = 0
        except OSError:
            self._to_child.clear()
            written = 0
        del self._to_child[:written]
        if self._to_child:
            loop.add_writer(child.master, self._flush_to_child)
        else:
            loop.remove_writer(child.master)
        self._pause_reading(len(self._to_child) > self._config.max_to_child)

    def _from_report(self) -> None:
        assert self._child is not None
        try:
            data = os_read(self._child.report, REPORT_LIMIT)
        except BlockingIOError:
            return
        if not data:
            asyncio.get_running_loop().remove_reader(self._child.report)
            return
        self._report += data
        *lines, rest = self._report.split(b"\n")
        self._report = bytearray(rest[:REPORT_LIMIT])
        for line in lines:
            credentials = Credentials.from_line(line.decode("utf-8", "replace"))
            if credentials is not None:
                self.seat.credentials = credentials

    def _close_child(self) -> None:
        child = self._child
        if child is None:
            return
        loop = asyncio.get_running_loop()
        for fd in (child.master, child.report):
            if fd >= 0:
                loop.remove_reader(fd)
                loop.remove_writer(fd)
        child.close()

    async def close(self) -> None:
        """End this session (the host is leaving): the child is killed, the channel closed."""
        child = self._child
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if child is not None:
            await child.kill()
        if self.stats.mode is Mode.TUI:
            # The child had no chance to restore the member's terminal; do it for it.
            self._send(TERMINAL_RESET + MEETING_ENDED)
        if self._chan is not None and not self._closed:
            self._chan.exit(0)
            # Let the reset and the goodbye reach the member before the
            # connection itself is closed under them.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._gone.wait(), CLOSE_DRAIN_TIMEOUT)

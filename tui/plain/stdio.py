"""Plain mode on this process's own terminal: lines in from standard input, lines out.

Standard input is read by a daemon thread, so leaving never waits on a read
that will not return; a passcode is read with echo off when it is a terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import termios
import threading


class StdinLines:
    """Lines from standard input, read by a daemon thread so exit never waits on it."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        threading.Thread(target=self._read, name="circle-stdin", daemon=True).start()

    def _read(self) -> None:
        try:
            for line in sys.stdin:
                self._loop.call_soon_threadsafe(self._lines.put_nowait, line.rstrip("\r\n"))
        finally:
            with contextlib.suppress(RuntimeError):  # The loop may be gone already.
                self._loop.call_soon_threadsafe(self._lines.put_nowait, None)

    async def readline(self) -> str | None:
        return await self._lines.get()

    async def read_secret(self) -> str | None:
        """The next line, not echoed when standard input is a terminal."""
        if not sys.stdin.isatty():
            return await self.readline()
        fd = sys.stdin.fileno()
        before = termios.tcgetattr(fd)
        quiet = list(before)
        quiet[3] &= ~termios.ECHO
        # The reading thread is already waiting on the terminal: turning echo
        # off now hides what is typed next, without touching the thread.
        termios.tcsetattr(fd, termios.TCSANOW, quiet)
        try:
            return await self.readline()
        finally:
            termios.tcsetattr(fd, termios.TCSANOW, before)
            write_stdout("")  # The Enter was not echoed either.


def write_stdout(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()

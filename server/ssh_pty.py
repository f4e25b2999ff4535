"""A child process on a pseudo-terminal of its own: started, resized, killed, cleaned up.

The child leads a new session and takes the PTY as its controlling terminal,
so window changes reach it as SIGWINCH. The PTY starts raw (no echo, no line
discipline): keys typed before the client sets its own modes must not be
echoed or cooked. Secrets reach the child through a pipe it reads once (never
its environment, which ``/proc/PID/environ`` shows to the same user), and its
environment is built from an allow-list rather than inherited. Every file
descriptor is closed whatever happens: start failing, the caller being
cancelled while the child starts, or the session ending.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import signal
import struct
import termios
import tty
from collections.abc import Mapping, Sequence

KILL_GRACE = 1.0
"""Seconds a child gets after SIGHUP before its process group is killed."""
DEFAULT_TERM = "xterm-256color"
TERM_PATTERN = re.compile(r"[A-Za-z0-9._+-]{1,64}")
"""What a TERM or COLORTERM from the member may look like; anything else is dropped."""
INHERITED = frozenset({"PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR", "PYTHONPATH"})
"""Host variables a child keeps (plus ``LC_*``); nothing else of the host's leaks in."""

READ_SIZE = 65536
Size = tuple[int, int, int, int]
"""Columns, rows, pixel width, pixel height (as SSH sends them)."""


def os_read(fd: int, size: int = READ_SIZE) -> bytes:
    """``os.read`` where a closed other side (EIO on a PTY) reads as the end."""
    try:
        return os.read(fd, size)
    except BlockingIOError:
        raise
    except OSError:
        return b""


def safe_term(value: str | None) -> str | None:
    """``value`` if it looks like a terminal name, else None."""
    return value if value is not None and TERM_PATTERN.fullmatch(value) else None


def child_env(
    host: Mapping[str, str], term: str, client: Mapping[str, str], extra: Mapping[str, str]
) -> dict[str, str]:
    """The child's whole environment: allowed host variables, the member's terminal, ``extra``."""
    env = {k: v for k, v in host.items() if k in INHERITED or k.startswith("LC_")}
    env.setdefault("LANG", "C.UTF-8")
    env["TERM"] = safe_term(term) or DEFAULT_TERM
    colorterm = safe_term(client.get("COLORTERM"))
    if colorterm:
        env["COLORTERM"] = colorterm
    elif any(mark in env["TERM"] for mark in ("-direct", "truecolor", "24bit")):
        env["COLORTERM"] = "truecolor"
    if "NO_COLOR" in client:
        env["NO_COLOR"] = "1"
    env.update(extra)
    return env


def set_size(fd: int, size: Size) -> None:
    width, height, pixwidth, pixheight = size
    winsize = struct.pack("HHHH", max(1, height), max(1, width), pixwidth, pixheight)
    with contextlib.suppress(OSError):
        fcntl.ioctl(fd, termios.TIOCSWINSZ, winsize)


class PtyChild:
    """A running child: ``master`` to pump, ``report`` to read. ``close()`` when done.

    ``start`` either returns a child whose descriptors the caller now owns, or
    raises with every descriptor it opened already closed (and any child it
    started already killed).
    """

    def __init__(self, process: asyncio.subprocess.Process, master: int, report: int) -> None:
        self.process = process
        self.master = master
        self.report = report

    @classmethod
    async def start(
        cls, argv: Sequence[str], env: Mapping[str, str], size: Size, secrets: bytes
    ) -> PtyChild:
        """Start ``argv`` on a new PTY; the child reads ``secrets`` from ``CIRCLE_SECRETS_FD``."""
        opened: list[int] = []
        mine: list[int] = []  # Descriptors the caller keeps on success.
        try:
            master, slave = os.openpty()
            opened += [master, slave]
            mine.append(master)
            tty.setraw(slave)
            set_size(slave, size)
            report_r, report_w = os.pipe()
            opened += [report_r, report_w]
            mine.append(report_r)
            secrets_r, secrets_w = os.pipe()
            opened += [secrets_r, secrets_w]
            # A pipe holds 64 KiB: a few hundred bytes never block.
            os.write(secrets_w, secrets)
            os.close(secrets_w)
            opened.remove(secrets_w)
            full_env = {
                **env,
                "CIRCLE_SECRETS_FD": str(secrets_r),
                "CIRCLE_REPORT_FD": str(report_w),
            }
            spawn = asyncio.ensure_future(
                asyncio.create_subprocess_exec(
                    *argv,
                    stdin=slave,
                    stdout=slave,
                    stderr=slave,
                    env=full_env,
                    pass_fds=(report_w, secrets_r),
                    start_new_session=True,
                )
            )
            try:
                process = await asyncio.shield(spawn)
            except asyncio.CancelledError:
                # The session went while the child was starting: let it start, then end it.
                with contextlib.suppress(Exception):
                    started = await spawn
                    await _kill(started)
                raise
        except BaseException:
            for fd in opened:
                os.close(fd)
            raise
        # The child has its own copies; ours would keep the PTY and the pipes open.
        for fd in opened:
            if fd not in mine:
                os.close(fd)
        os.set_blocking(master, False)
        return cls(process, master, report_r)

    def resize(self, size: Size) -> None:
        if self.master >= 0:
            set_size(self.master, size)
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGWINCH)

    async def kill(self) -> None:
        """SIGHUP the child's process group, then SIGKILL whatever is left."""
        await _kill(self.process)

    def close(self) -> None:
        """Close our descriptors (readers and writers must be removed first)."""
        for fd in (self.master, self.report):
            if fd >= 0:
                os.close(fd)
        self.master = self.report = -1


async def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGHUP)
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.shield(process.wait()), KILL_GRACE)
    # Whatever the child started goes too: the whole process group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(process.wait(), KILL_GRACE)

"""The SSH gateway: members join a room with nothing but ``ssh -p 2222 ROOM@HOST``.

An asyncssh server runs inside the relay's process. The SSH user name picks
the room; keyboard-interactive authentication asks for the room's passcode and
then a display name (any client key is fine, no system account is ever
involved). Wrong passcodes are limited per source address, like the relay's.

After that, each session is one of two kinds:

- **PTY** (``ssh -t``, the usual case): a child process runs the Textual
  client on a new pseudo-terminal that it owns as controlling terminal, sized
  to the member's window; bytes are pumped both ways between the SSH channel
  and the PTY master, and window changes are forwarded (TIOCSWINSZ + SIGWINCH).
- **plain** (``ssh -T``, ``TERM=dumb`` or ``ssh ROOM@HOST plain``): plain line
  mode, in-process, through the runner the composer passes in (``tui.plain``):
  the server package does not import the client.

A dropped session leaves no ghost: the child's process group is killed (or
the plain loop cancelled), the relay sees the connection go and marks the
member away; the gateway keeps the seat's resume credentials, so the member
who reconnects with the same name within the grace period gets their place,
hand and stick back. ``close`` ends every session (the host quit).

The host key is made once and kept in the data directory (mode 0600), so the
fingerprint members accept stays valid across restarts.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import fcntl
import logging
import os
import signal
import struct
import sys
import termios
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import asyncssh

from protocol.errors import Refused
from protocol.model import Presence
from protocol.text import checked_name, clean_line
from server.config import RelayConfig
from server.limits import TokenBucket
from server.relay import Relay
from server.store import ROOM_NAME, check_passcode, hash_secret

log = logging.getLogger(__name__)

HOST_KEY_FILE = "ssh_host_ed25519_key"
CHILD_MODULE = "tui.ssh_seat"
"""The module a PTY session runs (``python -m tui.ssh_seat URL --name NAME``)."""
DUMB_TERMS = frozenset({"", "dumb", "unknown"})
KILL_GRACE = 1.0
"""Seconds a child gets after SIGHUP before its process group is killed."""
READ_SIZE = 65536
MAX_AUTH_FAILURES = 3
"""Failed authentication rounds on one connection before the gateway hangs up."""
TERMINAL_RESET = (
    b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l"  # mouse reporting off
    b"\x1b[?2004l\x1b[?1049l\x1b[?25h\x1b[0m\r\n"  # paste mode off, main screen, cursor on
)


# --- the host key -------------------------------------------------------------------------


def load_host_key(data_dir: Path) -> asyncssh.SSHKey:
    """The gateway's host key, made on first use and kept (0600) in ``data_dir``."""
    path = data_dir / HOST_KEY_FILE
    if path.exists():
        os.chmod(path, 0o600)
        return asyncssh.read_private_key(path)
    data_dir.mkdir(parents=True, exist_ok=True)
    key = asyncssh.generate_private_key("ssh-ed25519", comment="circle gateway host key")
    data = key.export_private_key("openssh")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return key


def fingerprint(key: asyncssh.SSHKey) -> str:
    """``SHA256:...``, as ``ssh`` shows it when asking to trust a new host."""
    return key.get_fingerprint("sha256")


def ssh_command(address: str, port: int, room: str) -> str:
    """The exact line a member types (compression helps a full-screen client a lot)."""
    return f"ssh -C -p {port} {room}@{address}"


# --- what the composer provides -------------------------------------------------------------


class PlainChannel(Protocol):
    """What a plain-mode runner needs from an SSH session."""

    url: str
    name: str
    passcode: str
    resume: object | None
    """Credentials kept from this seat's last session (opaque to the gateway)."""

    async def readline(self) -> str | None: ...

    def write(self, line: str) -> None: ...

    def keep(self, name: str, credentials: object) -> None:
        """Remember how to resume this seat if the session drops."""


PlainRunner = Callable[[PlainChannel], Awaitable[None]]


@dataclass(frozen=True)
class GatewayConfig:
    child_module: str = CHILD_MODULE
    child_argv: Callable[[str, str], list[str]] | None = None
    """Replace the child's command line ``(url, name) -> argv`` (tests use a tiny child)."""
    mouse: bool = False
    """Mouse reporting left on by a dropped session garbles the member's terminal."""
    keepalive_interval: float = 15.0
    keepalive_count_max: int = 4
    login_timeout: float = 120.0
    max_sessions: int = 200


# --- seats kept across dropped sessions ----------------------------------------------------


@dataclass
class _Kept:
    credentials: object
    at: float


class Seats:
    """Resume credentials of SSH members by room and name, for the grace period."""

    def __init__(self, grace: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._grace = grace
        self._clock = clock
        self._kept: dict[tuple[str, str], _Kept] = {}

    def put(self, room: str, name: str, credentials: object) -> None:
        self._kept[(room, name.casefold())] = _Kept(credentials, self._clock())

    def get(self, room: str, name: str) -> object | None:
        now = self._clock()
        for key in [k for k, v in self._kept.items() if now - v.at > self._grace * 2]:
            del self._kept[key]
        kept = self._kept.get((room, name.casefold()))
        return kept.credentials if kept is not None else None


# --- sessions ---------------------------------------------------------------------------------


@dataclass
class SessionStats:
    mode: str
    room: str
    started: float = field(default_factory=time.monotonic)
    bytes_out: int = 0
    """Bytes written to the SSH channel (before SSH's own compression)."""
    pid: int | None = None
    """The child process, for PTY sessions."""


class _Session(asyncssh.SSHServerSession):  # type: ignore[type-arg]
    """One SSH session channel: a PTY child or a plain-mode loop."""

    def __init__(self, gateway: SSHGateway, room: str, name: str, passcode: str) -> None:
        self._gateway = gateway
        self.room = room
        self.name = name
        self.passcode = passcode
        self._chan: asyncssh.SSHServerChannel[bytes] | None = None
        self._term = ""
        self._size = (80, 24, 0, 0)
        self._pty = False
        self._plain_asked = False
        self._closed = False
        self._paused = False
        self.stats = SessionStats("plain", room)
        # PTY
        self._master = -1
        self._process: asyncio.subprocess.Process | None = None
        self._report = -1
        self._to_child = bytearray()
        # plain
        self._task: asyncio.Task[None] | None = None
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._typed = ""

    # --- asyncssh callbacks --------------------------------------------------------------

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self._chan = chan

    def pty_requested(
        self, term_type: str, term_size: tuple[int, int, int, int], term_modes: object
    ) -> bool:
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
        self._gateway.sessions.add(self)
        if self._pty and not self._plain_asked and self._term.lower() not in DUMB_TERMS:
            self.stats.mode = "tui"
            self._task = asyncio.get_running_loop().create_task(self._run_child())
        else:
            self._task = asyncio.get_running_loop().create_task(self._run_plain())

    def data_received(self, data: bytes, datatype: int | None) -> None:
        if self.stats.mode == "tui":
            self._to_child += data
            self._flush_to_child()
        else:
            self._typed_in(self._decoder.decode(data))

    def eof_received(self) -> bool:
        if self.stats.mode != "tui":
            self._lines.put_nowait(None)
        return True  # Keep our half open to say goodbye.

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self._size = (width, height, pixwidth, pixheight)
        if self._master >= 0:
            _set_size(self._master, self._size)
            if self._process is not None and self._process.returncode is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self._process.pid, signal.SIGWINCH)

    def pause_writing(self) -> None:
        self._paused = True
        if self._master >= 0:
            asyncio.get_running_loop().remove_reader(self._master)

    def resume_writing(self) -> None:
        self._paused = False
        if self._master >= 0 and not self._closed:
            asyncio.get_running_loop().add_reader(self._master, self._from_child)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._gateway.sessions.discard(self)
        if self._task is not None:
            self._task.cancel()

    # --- writing -------------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        if self._chan is None or self._closed:
            return
        self.stats.bytes_out += len(data)
        with contextlib.suppress(OSError):  # Closing already: connection_lost follows.
            self._chan.write(data)

    def _finish(self, status: int) -> None:
        if self._chan is not None and not self._closed:
            with contextlib.suppress(OSError, asyncssh.Error):
                self._chan.exit(status)

    # --- plain mode ------------------------------------------------------------------------

    def _typed_in(self, text: str) -> None:
        if not self._pty:
            # No PTY: the member's own terminal edits the line and echoes it.
            buffered = self._typed + text
            *lines, self._typed = buffered.split("\n")
            for line in lines:
                self._lines.put_nowait(line.rstrip("\r"))
            return
        # A PTY with a dumb terminal: echo and a little line editing, no cursor moves.
        for ch in text:
            if ch in "\r\n":
                self._send(b"\r\n")
                self._lines.put_nowait(self._typed)
                self._typed = ""
            elif ch in "\x7f\x08":
                if self._typed:
                    self._typed = self._typed[:-1]
                    self._send(b"\x08 \x08")
            elif ch == "\x15":  # Ctrl-U: start the line again.
                self._typed = ""
                self._send(b"\r\n")
            elif ch == "\x03":  # Ctrl-C: forget the line.
                self._typed = ""
                self._send(b"^C\r\n")
            elif ch == "\x04":  # Ctrl-D on an empty line: end of input.
                if not self._typed:
                    self._lines.put_nowait(None)
            elif ch.isprintable():
                self._typed += ch
                self._send(ch.encode())

    def write_line(self, line: str) -> None:
        if self._pty:
            # Start on a fresh line if the member was typing, then give their words back.
            prefix = "\r\n" if self._typed else ""
            self._send(f"{prefix}{line}\r\n{self._typed}".encode())
        else:
            self._send(f"{line}\n".encode())

    async def _run_plain(self) -> None:
        channel = _PlainChannel(self, self._gateway)
        status = 0
        try:
            await self._gateway.plain(channel)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("plain session in %s failed", self.room)
            status = 1
        self._finish(status)

    # --- PTY: the Textual client in a child process ------------------------------------------

    async def _run_child(self) -> None:
        gateway = self._gateway
        url = gateway.room_url(self.room)
        argv = gateway.child_argv(url, self.name)
        master, slave = os.openpty()
        report_r, report_w = os.pipe()
        self._master, self._report = master, report_r
        _set_size(slave, self._size)
        env = self._child_env(gateway.seats.get(self.room, self.name), report_w)
        try:
            self._process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=env,
                pass_fds=(report_w,),
                start_new_session=True,
            )
        except OSError:
            log.exception("could not start the client for %s", self.room)
            self._close_fds()
            self.write_line("Sorry: the circle could not be opened here. Please tell the host.")
            self._finish(1)
            return
        finally:
            # The child has its own copies; ours would keep the PTY and the pipe open.
            os.close(slave)
            os.close(report_w)
        self.stats.pid = self._process.pid
        os.set_blocking(master, False)
        loop = asyncio.get_running_loop()
        loop.add_reader(master, self._from_child)
        loop.add_reader(report_r, self._from_report)
        self._flush_to_child()  # Keys typed while the child was starting.
        try:
            status = await self._process.wait()
        except asyncio.CancelledError:
            await self._kill_child()
            raise
        else:
            self._drain_child()  # Its last words: usually restoring the member's terminal.
        finally:
            self._close_fds()
        self._finish(status if status >= 0 else 1)

    def _child_env(self, resume: object | None, report_fd: int) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in _NOT_INHERITED and not k.startswith(("TEXTUAL", "TMUX", "CIRCLE_"))
        }
        client_env = self._chan.get_environment() if self._chan is not None else {}
        term = self._term or "xterm-256color"
        env["TERM"] = term
        colorterm = client_env.get("COLORTERM", "")
        if colorterm:
            env["COLORTERM"] = colorterm
        elif term.endswith("-direct") or "truecolor" in term or "24bit" in term:
            env["COLORTERM"] = "truecolor"
        if "NO_COLOR" in client_env:
            env["NO_COLOR"] = client_env["NO_COLOR"]
        env.setdefault("LANG", "C.UTF-8")
        env["CIRCLE_PASSCODE"] = self.passcode
        env["CIRCLE_REPORT_FD"] = str(report_fd)
        if not self._gateway.config.mouse:
            env["CIRCLE_NO_MOUSE"] = "1"
        if isinstance(resume, str):
            env["CIRCLE_RESUME"] = resume
        return env

    def _from_child(self) -> None:
        try:
            data = os.read(self._master, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""  # EIO: the child closed its side.
        if not data:
            asyncio.get_running_loop().remove_reader(self._master)
            return
        self._send(data)

    def _drain_child(self) -> None:
        while True:
            try:
                data = os.read(self._master, READ_SIZE)
            except OSError:  # Nothing more (EAGAIN), or the other side is gone (EIO).
                return
            if not data:
                return
            self._send(data)

    def _flush_to_child(self) -> None:
        loop = asyncio.get_running_loop()
        if self._master < 0:
            return
        try:
            written = os.write(self._master, self._to_child)
        except BlockingIOError:
            written = 0
        except OSError:
            self._to_child.clear()
            return
        del self._to_child[:written]
        if self._to_child:
            loop.add_writer(self._master, self._flush_to_child)
        else:
            loop.remove_writer(self._master)

    def _from_report(self) -> None:
        try:
            data = os.read(self._report, 4096)
        except OSError:
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(self._report)
            return
        for line in data.decode("utf-8", "replace").splitlines():
            _, _, name = line.split(" ", 2) if line.count(" ") >= 2 else ("", "", "")
            if name:
                self._gateway.seats.put(self.room, name, line + "\n")

    async def _kill_child(self) -> None:
        process = self._process
        if process is None or process.returncode is not None:
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

    def _close_fds(self) -> None:
        loop = asyncio.get_running_loop()
        for fd in (self._master, self._report):
            if fd >= 0:
                loop.remove_reader(fd)
                loop.remove_writer(fd)
                os.close(fd)
        self._master = self._report = -1

    async def close(self) -> None:
        """End this session (the host is leaving): the child is killed, the channel closed."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self._kill_child()
        if self.stats.mode == "tui":
            # The child had no chance to restore the member's terminal; do it for it.
            self._send(TERMINAL_RESET)
        if self._chan is not None and not self._closed:
            self._chan.close()


_NOT_INHERITED = frozenset(
    {"TERM", "COLORTERM", "NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES", "TERM_PROGRAM"}
)


def _set_size(fd: int, size: tuple[int, int, int, int]) -> None:
    width, height, pixwidth, pixheight = size
    winsize = struct.pack("HHHH", max(1, height), max(1, width), pixwidth, pixheight)
    with contextlib.suppress(OSError):
        fcntl.ioctl(fd, termios.TIOCSWINSZ, winsize)


class _PlainChannel:
    """A ``PlainChannel`` over one SSH session."""

    def __init__(self, session: _Session, gateway: SSHGateway) -> None:
        self._session = session
        self._gateway = gateway
        self.url = gateway.room_url(session.room)
        self.name = session.name
        self.passcode = session.passcode
        self.resume = gateway.seats.get(session.room, session.name)

    async def readline(self) -> str | None:
        return await self._session._lines.get()

    def write(self, line: str) -> None:
        self._session.write_line(line)

    def keep(self, name: str, credentials: object) -> None:
        self._gateway.seats.put(self._session.room, name, credentials)


# --- authentication --------------------------------------------------------------------------


class _Server(asyncssh.SSHServer):
    """One SSH connection: which room, the passcode, then the name."""

    def __init__(self, gateway: SSHGateway) -> None:
        self._gateway = gateway
        self._address = "?"
        self._room = ""
        self._passcode = ""
        self._passcode_ok = False
        self._name = ""
        self._failures = 0
        self._seated = False
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        peer = conn.get_extra_info("peername")
        self._address = str(peer[0]) if peer else "?"
        self._gateway.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._gateway.connections.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        return True  # Always ask: the passcode and the name.

    def password_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return True

    def get_kbdint_challenge(
        self, username: str, lang: str, submethods: str
    ) -> asyncssh.auth.KbdIntChallenge:
        gateway = self._gateway
        room = gateway.relay.room(username) if ROOM_NAME.match(username) else None
        # Nothing to try again for: say so once, then the next failure hangs up.
        if room is None:
            self._failures = MAX_AUTH_FAILURES - 1
            return _message(f"There is no room called {clean_line(username)!r} here.")
        self._room = room.name
        wait = gateway.passcode_wait(self._address)
        if wait is not None:
            self._failures = MAX_AUTH_FAILURES - 1
            return _message(_too_many(wait))
        if room.record.needs_passcode and not self._passcode_ok:
            return _ask(f"Circle: {room.name}", "", "Passcode: ", echo=False)
        return _ask(f"Circle: {room.name}", "", "Your name in the circle: ", echo=True)

    async def validate_kbdint_response(
        self, username: str, responses: asyncssh.auth.KbdIntResponse
    ) -> asyncssh.auth.KbdIntChallenge:
        answer = await self._validate(responses)
        if answer is False:
            self._failures += 1
            if self._failures >= MAX_AUTH_FAILURES and self._conn is not None:
                # Like sshd's MaxAuthTries: a client that keeps trying is shown the door.
                asyncio.get_running_loop().call_soon(
                    self._conn.disconnect,
                    asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE,
                    "Too many failed attempts.",
                )
        return answer

    async def _validate(
        self, responses: asyncssh.auth.KbdIntResponse
    ) -> asyncssh.auth.KbdIntChallenge:
        gateway = self._gateway
        room = gateway.relay.room(self._room) if self._room else None
        if room is None or not responses:
            return False
        title = f"Circle: {room.name}"
        if room.record.needs_passcode and not self._passcode_ok:
            wait = gateway.passcode_wait(self._address)
            if wait is not None:
                return False
            passcode = responses[0]
            if not await gateway.check_passcode(room.name, passcode, self._address):
                wait = gateway.passcode_wait(self._address)
                if wait is not None:
                    return False
                message = "That passcode is not right; check it with the facilitator."
                return _ask(title, message, "Passcode: ", echo=False)
            self._passcode, self._passcode_ok = passcode, True
            return _ask(title, "", "Your name in the circle: ", echo=True)
        try:
            name = checked_name(responses[0])
        except Refused as refused:
            return _ask(title, refused.message, "Your name in the circle: ", echo=True)
        problem = gateway.name_problem(room.name, name)
        if problem:
            return _ask(title, problem, "Your name in the circle: ", echo=True)
        self._name = name
        return True

    def session_requested(self) -> _Session | bool:
        # One seat per connection: a second channel would be a second member.
        if not self._room or not self._name or self._seated:
            return False
        self._seated = True
        if len(self._gateway.sessions) >= self._gateway.config.max_sessions:
            return False
        return _Session(self._gateway, self._room, self._name, self._passcode)


def _ask(title: str, message: str, prompt: str, *, echo: bool) -> asyncssh.auth.KbdIntChallenge:
    return (title, message, "", [(prompt, echo)])


def _message(text: str) -> asyncssh.auth.KbdIntChallenge:
    return ("Circle", text, "", [])


def _too_many(wait: float) -> str:
    return f"Too many wrong passcodes; try again in {max(1, round(wait))} s."


# --- the gateway ----------------------------------------------------------------------------------


class SSHGateway:
    """An SSH server in front of ``relay``. ``await start()``, ``await close()``."""

    def __init__(
        self,
        relay: Relay,
        host_key: asyncssh.SSHKey,
        plain: PlainRunner,
        *,
        relay_url: str = "",
        config: GatewayConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.relay = relay
        self.host_key = host_key
        self.plain = plain
        self.config = config or GatewayConfig()
        self._relay_url = relay_url
        self._clock = clock
        relay_config: RelayConfig = relay.config
        self.seats = Seats(relay_config.grace_period)
        self.sessions: set[_Session] = set()
        self.connections: set[asyncssh.SSHServerConnection] = set()
        self._server: asyncssh.SSHAcceptor | None = None
        self._buckets: dict[str, TokenBucket] = {}
        self._good: set[tuple[str, str]] = set()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.host_key)

    async def start(self, host: str = "127.0.0.1", port: int = 2222) -> None:
        self._server = await asyncssh.create_server(
            lambda: _Server(self),
            host,
            port,
            server_host_keys=[self.host_key],
            encoding=None,
            line_editor=False,
            keepalive_interval=self.config.keepalive_interval,
            keepalive_count_max=self.config.keepalive_count_max,
            login_timeout=self.config.login_timeout,
            config=None,
            allow_scp=False,
            agent_forwarding=False,
            x11_forwarding=False,
        )

    @property
    def port(self) -> int:
        assert self._server is not None, "call start() first"
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening and end every session (children are killed)."""
        if self._server is not None:
            self._server.close()
        sessions = list(self.sessions)
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
        for conn in list(self.connections):
            conn.close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 3.0)

    # --- what sessions need ------------------------------------------------------------------

    def room_url(self, room: str) -> str:
        base = self._relay_url or f"ws://127.0.0.1:{self.relay.port}"
        return f"{base}/{room}"

    def child_argv(self, url: str, name: str) -> list[str]:
        if self.config.child_argv is not None:
            return self.config.child_argv(url, name)
        return [sys.executable, "-m", self.config.child_module, url, "--name", name]

    def passcode_wait(self, address: str) -> float | None:
        bucket = self._buckets.get(address)
        return bucket.peek(self._clock()) if bucket is not None else None

    async def check_passcode(self, room: str, passcode: str, address: str) -> bool:
        record = self.relay.store.room(room)
        if record is None:
            return False
        fingerprint = (room, hash_secret(record.passcode_hash + "\0" + passcode))
        if fingerprint in self._good:
            return True
        # scrypt is slow on purpose; keep it off the event loop.
        if await asyncio.to_thread(check_passcode, passcode, record.passcode_hash):
            self._good.add(fingerprint)
            return True
        now = self._clock()
        bucket = self._buckets.get(address)
        if bucket is None:
            bucket = self._buckets[address] = TokenBucket(self.relay.config.passcode_rate, now)
        bucket.take(now)
        return False

    def name_problem(self, room_name: str, name: str) -> str:
        """Why ``name`` cannot be used to join ``room_name`` now, or ""."""
        room = self.relay.room(room_name)
        if room is None:
            return "That room has closed."
        if name.casefold() in room.removed:
            return "That name was removed from this meeting."
        member = room.state.find_name(name)
        if member is None:
            return ""
        kept = self.seats.get(room_name, member.name)
        if member.presence is Presence.AWAY and kept is not None:
            return ""  # Their own seat, kept while they were away: they resume.
        return f"Someone here is already called {member.name}; pick another name."

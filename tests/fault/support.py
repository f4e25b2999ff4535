"""What the fault tests share: how to reach a relay, child processes, the relay's log.

The first section is the one place that knows how a test reaches a relay and
how ``circle serve`` is started: plain ``ws://`` (``--no-tls``, ``tls=False``),
as a relay behind a TLS-terminating proxy speaks, because the chaos proxy and
the bare-websocket attackers read and write frames. TLS has tests of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import asyncssh

from circle_room.protocol.codec import decode
from circle_room.protocol.messages import Event, EventFrame, StickGiven, StickReleased
from circle_room.server.config import RelayConfig
from circle_room.server.live_room import LiveRoom
from circle_room.tui.client.connection import CircleClient
from tests.server.support import ROOM, MakeRelay, RunningRelay, addressed_to

CIRCLE = Path(sys.executable).parent / "circle"
REPO = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"Circle relay listening on wss?://\S+?:(\d+)/ROOM")
START_TIMEOUT = 30.0
"""Seconds a child process may take to say it is listening (imports on a busy machine)."""

# --- reaching a relay: the one place to change for TLS ------------------------------------


def relay_url(port: int, room: str = ROOM) -> str:
    """The address members use for ``room`` on a relay listening on ``port``."""
    return f"ws://127.0.0.1:{port}/{room}"


def serve_argv(data_dir: Path, port: int = 0, *extra: str) -> list[str]:
    """The ``circle serve`` command line every test here runs."""
    return [
        str(CIRCLE),
        *("serve", "--data-dir", str(data_dir), "--host", "127.0.0.1", "--port", str(port)),
        "--no-tls",
        *extra,
    ]


def new_client(url: str, name: str, **kwargs: Any) -> CircleClient:
    """A member's client for ``url`` (not connected yet); reconnects quickly."""
    kwargs.setdefault("backoff_cap", 0.5)
    return CircleClient(url, name=name, **kwargs)


async def start_relay(
    make_relay: MakeRelay, config: RelayConfig | None = None, *, passcode: str = ""
) -> RunningRelay:
    """An in-process relay (``tests/conftest.py``) speaking plain ``ws://``.

    As behind a TLS-terminating proxy: the chaos proxy and the bare-websocket
    attackers speak plain websockets.
    """
    return await make_relay(config, passcode=passcode, tls=False)


def add_room(data_dir: Path, passcode: str = "") -> str:
    """Create the room with the real CLI and return its facilitator key."""
    import subprocess

    argv = [str(CIRCLE), "room", "add", ROOM, "--data-dir", str(data_dir)]
    if passcode:
        argv += ["--passcode", passcode]
    result = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=60)
    match = re.search(r"keep it private\): (\S+)", result.stdout)
    assert match, result.stdout
    return match.group(1)


def unlimited_cores() -> None:
    """``ulimit -c unlimited`` for a child (``preexec_fn``): a core is its own doing."""
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


# --- child processes -----------------------------------------------------------------------


@dataclass
class Spawned:
    """A child process; its stdout and stderr (merged) are read all along, line by line."""

    proc: asyncio.subprocess.Process
    argv: Sequence[str]
    lines: list[str] = field(default_factory=list)
    port: int = 0
    """For a relay: the port it said it listens on."""
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _reader: asyncio.Task[None] | None = None

    def start_reading(self) -> None:
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))
            self._changed.set()
        self._changed.set()

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    @property
    def url(self) -> str:
        return relay_url(self.port)

    async def wait_for(self, pattern: str, timeout: float = START_TIMEOUT) -> re.Match[str]:
        """The first output line matching ``pattern`` (a regex), waiting for it if need be."""
        regex = re.compile(pattern)

        async def find() -> re.Match[str]:
            seen = 0
            while True:
                self._changed.clear()
                for line in self.lines[seen:]:
                    match = regex.search(line)
                    if match:
                        return match
                seen = len(self.lines)
                if self._reader is not None and self._reader.done():
                    ended = f"{self.argv[:3]} ended without {pattern!r}"
                    raise AssertionError(f"{ended}:\n{self.output}")
                await self._changed.wait()

        try:
            return await asyncio.wait_for(find(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"no {pattern!r} in {timeout} s:\n{self.output}") from None

    def rss(self) -> int:
        """Resident memory of the process, in bytes (Linux)."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        assert match, status
        return int(match.group(1)) * 1024

    async def signal(self, signum: int) -> int:
        """Send ``signum`` and return the exit status once the process is gone."""
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signum)
        return await asyncio.wait_for(self.proc.wait(), START_TIMEOUT)

    async def finish(self) -> None:
        """Wait until all of its output has been read."""
        if self._reader is not None:
            await asyncio.wait_for(self._reader, START_TIMEOUT)


class Spawner:
    """Starts child processes and kills whatever is left of them at the end."""

    def __init__(self) -> None:
        self.started: list[Spawned] = []

    async def start(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        stdin: int | None = asyncio.subprocess.DEVNULL,
        **popen: Any,
    ) -> Spawned:
        """Start ``argv``; ``popen`` goes to ``subprocess.Popen`` (``preexec_fn``, ``user``)."""
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=stdin,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=cwd or REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            **popen,
        )
        spawned = Spawned(proc, list(argv))
        self.started.append(spawned)
        spawned.start_reading()
        return spawned

    async def serve(self, data_dir: Path, port: int = 0, **kwargs: Any) -> Spawned:
        """``circle serve`` on ``data_dir``; returns once it says where it listens."""
        served = await self.start(serve_argv(data_dir, port), **kwargs)
        served.port = int((await served.wait_for(LISTENING.pattern)).group(1))
        return served

    async def relay_process(self, data_dir: Path, **config: Any) -> Spawned:
        """``tests/fault/relay_process.py``: a relay with test limits, in its own process."""
        import json

        argv = [sys.executable, "-m", "tests.fault.relay_process", str(data_dir)]
        served = await self.start([*argv, json.dumps(config)])
        served.port = int((await served.wait_for(LISTENING.pattern)).group(1))
        return served

    async def close(self) -> None:
        for spawned in self.started:
            if spawned.proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    spawned.proc.kill()
            await spawned.proc.wait()
            with contextlib.suppress(asyncio.TimeoutError):
                await spawned.finish()


def key_of(spawned: Spawned) -> str:
    """The facilitator key a ``relay_process`` printed."""
    return next(line.split()[-1] for line in spawned.lines if line.startswith("key "))


# --- logging in over SSH --------------------------------------------------------------------


class Answers(asyncssh.SSHClient):
    """Answers keyboard-interactive prompts from a script; keeps what the gateway said."""

    def __init__(self, answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.instructions: list[str] = []

    def kbdint_auth_requested(self) -> str:
        return ""

    def kbdint_challenge_received(
        self, name: str, instructions: str, lang: str, prompts: Sequence[tuple[str, bool]]
    ) -> list[str] | None:
        if instructions:
            self.instructions.append(instructions)
        if not prompts:
            return []
        if len(self.answers) < len(prompts):
            return None  # Give up, as a person would.
        out, self.answers = self.answers[: len(prompts)], self.answers[len(prompts) :]
        return out


async def ssh_login(
    port: int, *answers: str, user: str = ROOM, address: str = "127.0.0.1"
) -> tuple[asyncssh.SSHClientConnection | None, Answers]:
    """Log in to the gateway on ``port`` from ``address``, answering its prompts in order.

    The connection is None if the gateway refused; what it said is in the ``Answers``.
    """
    client = Answers(answers)
    try:
        conn, _ = await asyncssh.create_connection(
            lambda: client,
            "127.0.0.1",
            port,
            username=user,
            known_hosts=None,
            client_keys=None,
            preferred_auth="keyboard-interactive",
            config=None,
            local_addr=(address, 0),
        )
    except asyncssh.PermissionDenied:
        return None, client
    except asyncssh.DisconnectError as exc:
        client.instructions.append(exc.reason)
        return None, client
    return conn, client


# --- the relay's log, as members should have received it ----------------------------------


def expected_events(room: LiveRoom, member_id: int, after: int) -> list[tuple[int, Event]]:
    """(seq, event) of every logged event after ``after`` that ``member_id`` may see.

    The relay's log is the truth a member's view is checked against: the
    audience rules (``tests.server.support.addressed_to``) filter it.
    """
    member = room.state.members[member_id]
    out: list[tuple[int, Event]] = []
    for entry in room.log:
        if entry.seq > after and addressed_to(entry, member):
            frame = decode(entry.data)
            assert isinstance(frame, EventFrame)
            out.append((entry.seq, frame.event))
    return out


def as_logged(
    got: list[tuple[int, Event]], want: list[tuple[int, Event]]
) -> list[tuple[int, Event]]:
    """``got`` with each hand-over's time as the log has it, where it is that time rounded down.

    A version-3 client gets a hand-over as one ``HandOver`` frame whose time is
    in whole seconds; nothing else may differ from the log.
    """
    logged = dict(want)
    out: list[tuple[int, Event]] = []
    for seq, event in got:
        there = logged.get(seq)
        if isinstance(event, (StickReleased, StickGiven)) and type(there) is type(event):
            assert isinstance(there, (StickReleased, StickGiven))
            if event == replace(there, at=float(math.floor(there.at))):
                event = there
        out.append((seq, event))
    return out


def latest_seq(room: LiveRoom) -> int:
    """The relay's newest seq in ``room``."""
    return room.seq


# --- figures -------------------------------------------------------------------------------


@dataclass
class Timings:
    """Round trips in seconds, summarised in milliseconds for the printed figures."""

    what: str
    samples: list[float] = field(default_factory=list)

    def summary(self) -> str:
        ms = sorted(s * 1000 for s in self.samples)
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        return (
            f"{self.what}: n={len(ms)} median {statistics.median(ms):.1f} ms, "
            f"p95 {p95:.1f} ms, max {ms[-1]:.1f} ms"
        )


def report(line: str) -> None:
    """Print a figure for the record (``pytest -s`` shows it; so does a failure)."""
    print(f"[fault] {line}", file=sys.stderr, flush=True)

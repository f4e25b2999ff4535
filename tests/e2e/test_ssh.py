"""End to end over SSH: the real OpenSSH client against ``circle serve --ssh-port 0``.

The relay and gateway run as a subprocess (the real command line); the
facilitator is a ``CircleClient`` in the test; the member types into the real
``ssh`` running in tmux: passcode, name, the join screen, a raised hand, the
stick, a share, a window resize, a dropped link and a resume. ``ssh -T`` gets
plain mode, driven through a pipe (prompts answered by an askpass script).
Every wait polls with a deadline; nothing sleeps for a fixed time.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from circle_room.protocol.messages import Shared
from circle_room.protocol.model import Presence
from circle_room.server.store import Store
from circle_room.tui.client.connection import CircleClient
from tests.server.support import Peer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("ssh") is None, reason="the OpenSSH client is not installed"),
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

ROOM = "tuesday"
PASSCODE = "blue-kettle"
DEADLINE = 20.0
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Served:
    process: subprocess.Popen[str]
    relay_port: int
    ssh_port: int
    fingerprint: str
    pin: str
    """The relay's TLS fingerprint, from the join line ``circle serve`` prints."""
    key: str
    tmp: Path

    @property
    def url(self) -> str:
        return f"wss://127.0.0.1:{self.relay_port}/{ROOM}#{self.pin}"

    def ssh(self, *extra: str) -> list[str]:
        # ssh keeps the first value given for an option: the caller's come first.
        return [
            "ssh",
            "-F",
            "/dev/null",
            *extra,
            "-p",
            str(self.ssh_port),
            "-o",
            f"UserKnownHostsFile={self.tmp / 'known_hosts'}",
            "-o",
            "StrictHostKeyChecking=accept-new",
            "-o",
            "PreferredAuthentications=keyboard-interactive",
            "-o",
            "PubkeyAuthentication=no",
            "-o",
            "LogLevel=ERROR",
            f"{ROOM}@127.0.0.1",
        ]


async def serve(data: Path, key: str, tmp: Path) -> Served:
    """Run ``circle serve --port 0 --ssh-port 0`` and read back its ports."""
    command = [sys.executable, "-m", "circle_room.tui", "serve", "--port", "0", "--ssh-port", "0"]
    process = subprocess.Popen(
        [*command, "--data-dir", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    relay_port = ssh_port = 0
    fingerprint = pin = ""
    seen = []
    while not fingerprint:
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), DEADLINE)
        seen.append(line)
        assert line, f"circle serve ended early: {seen}"
        if found := re.search(r"circle join HOST:(\d+)/ROOM#(\S+)", line):
            relay_port, pin = int(found[1]), found[2]
        elif found := re.search(r"SSH gateway listening on port (\d+)", line):
            ssh_port = int(found[1])
        elif found := re.search(r"SSH  (SHA256:\S+)", line):
            fingerprint = found[1]
    return Served(process, relay_port, ssh_port, fingerprint, pin, key, tmp)


def stop(served: Served) -> None:
    served.process.send_signal(signal.SIGTERM)
    try:
        served.process.wait(10)
    except subprocess.TimeoutExpired:
        served.process.kill()
        served.process.wait()


def make_room(data: Path) -> str:
    store = Store(data)
    key = store.add_room(ROOM, PASSCODE)
    store.close()
    return key


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    data = tmp_path / "data"
    running = await serve(data, make_room(data), tmp_path)
    yield running
    stop(running)


@pytest.fixture
async def facilitator(served: Served) -> AsyncIterator[Peer]:
    client = CircleClient(served.url, name="Sam", key=served.key, backoff_cap=0.5)
    peer = Peer(client, await client.connect())
    yield peer
    await peer.stop()


class Tmux:
    """A private tmux server; each session is one terminal running one command."""

    def __init__(self) -> None:
        self.socket = f"circle-ssh-{uuid.uuid4().hex[:8]}"

    def run(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout

    def start(self, name: str, command: list[str]) -> None:
        shell = f"{shlex.join(command)}; echo EXITED $?; sleep 600"
        self.run(
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            "100",
            "-y",
            "30",
            "-e",
            "TERM=xterm-256color",
            shell,
        )

    def screen(self, name: str) -> str:
        return self.run("capture-pane", "-p", "-t", name)

    def keys(self, name: str, *keys: str) -> None:
        self.run("send-keys", "-t", name, *keys)

    def type(self, name: str, text: str) -> None:
        self.run("send-keys", "-t", name, "-l", text)

    def pane_pid(self, name: str) -> int:
        return int(self.run("list-panes", "-t", name, "-F", "#{pane_pid}").split()[0])

    async def wait_for(self, name: str, pattern: str) -> str:
        """Poll the screen of ``name`` until ``pattern`` (a regex) appears; return the screen."""
        screen = ""

        def found() -> bool:
            nonlocal screen
            screen = self.screen(name)
            return re.search(pattern, screen) is not None

        if not await until(found):
            raise AssertionError(f"{pattern!r} never appeared on {name}'s screen:\n{screen}")
        return screen

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    terminals = Tmux()
    yield terminals
    terminals.kill()


async def until(predicate: Callable[[], bool], deadline: float = DEADLINE) -> bool:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if predicate():
            return True
        await asyncio.sleep(0.05)  # Polling a screen or a process: nothing to wait on.
    return predicate()


def processes() -> list[tuple[int, int, list[str]]]:
    """(pid, parent pid, command line) of every process we can see, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # Gone while we looked.
        found.append((int(entry.name), parent, [a.decode(errors="replace") for a in argv if a]))
    return found


def seat_processes(served: Served) -> list[int]:
    """Pids of the gateway's Textual children for this test's relay."""
    url = f"wss://127.0.0.1:{served.relay_port}/"
    return [
        pid
        for pid, _, argv in processes()
        if "circle_room.tui.app.ssh_child" in argv and any(a.startswith(url) for a in argv)
    ]


def ssh_pid(tmux: Tmux, name: str) -> int:
    shell = tmux.pane_pid(name)
    [pid] = [pid for pid, parent, argv in processes() if parent == shell and argv[:1] == ["ssh"]]
    return pid


async def log_in(tmux: Tmux, name: str, who: str, seat_code: str = "") -> None:
    await tmux.wait_for(name, r"Passcode:")
    tmux.type(name, PASSCODE)
    tmux.keys(name, "Enter")
    await tmux.wait_for(name, r"Your name in the circle:")
    tmux.type(name, who)
    tmux.keys(name, "Enter")
    if seat_code:
        await tmux.wait_for(name, r"Seat code:")
        tmux.type(name, seat_code)
        tmux.keys(name, "Enter")
        return  # Their seat, agreements accepted when it was first taken: straight in.
    # ssh asked for the passcode and the name: the client asks for neither again.
    join_box = (await tmux.wait_for(name, r"I accept the agreements")).split("Joining", 1)[-1]
    assert f"You join as {who}." in join_box
    assert "Your name in the circle:" not in join_box
    assert "passcode" not in join_box.lower()
    tmux.keys(name, "Enter")


async def test_a_member_joins_over_ssh_shares_resizes_drops_and_resumes(
    served: Served, facilitator: Peer, tmux: Tmux
) -> None:
    sam = facilitator
    tmux.start("dana", served.ssh("-t"))
    await log_in(tmux, "dana", "Dana")
    await tmux.wait_for("dana", r"Connected to tuesday")
    # The seat code is shown when the seat opens: it is what takes the seat back.
    found = re.search(r"seat code\W+(\d{6})", await tmux.wait_for("dana", r"seat code\W+\d{6}"))
    assert found is not None
    seat_code = found[1]
    await sam.wait(lambda: sam.state.find_name("Dana") is not None, "Dana to join")
    dana = sam.state.find_name("Dana")
    assert dana is not None
    [child] = seat_processes(served)
    assert (served.tmp / "known_hosts").read_text().count("ssh-ed25519") == 1

    await sam.client.take_stick()
    await tmux.wait_for("dana", r"Sam")
    tmux.keys("dana", "C-r")
    await sam.wait(lambda: dana.id in sam.state.queue, "Dana's hand")
    await sam.client.yield_stick()
    await sam.wait(lambda: sam.state.holder == dana.id, "Dana to hold the stick")
    await tmux.wait_for("dana", r"You hold the stick")
    tmux.type("dana", "Hello from a terminal far away")
    tmux.keys("dana", "Enter")
    await sam.wait(lambda: "Hello from a terminal far away" in sam.shares(), "the share")
    assert [e.member_id for e in sam.events(Shared)] == [dana.id]

    # The window follows the member's terminal.
    screen = tmux.screen("dana")
    assert max(len(line) for line in screen.splitlines()) == 100
    tmux.run("resize-window", "-t", "dana", "-x", "72", "-y", "22")

    def narrow() -> bool:
        lines = tmux.screen("dana").splitlines()
        corner = lines[1].rstrip()[-1:] if len(lines) > 1 else ""
        return len(lines) == 22 and max(len(line) for line in lines) == 72 and corner in ("╮", "╗")

    assert await until(narrow), tmux.screen("dana")
    await tmux.wait_for("dana", r"You hold the stick")

    # The link dies: the child goes, Dana is away, and the stick waits for her.
    os.kill(ssh_pid(tmux, "dana"), signal.SIGKILL)
    assert await until(lambda: child not in seat_processes(served)), "the child was not killed"
    await sam.wait(lambda: sam.state.members[dana.id].presence is Presence.AWAY, "away")
    assert sam.state.holder == dana.id

    tmux.start("again", served.ssh("-t"))
    await log_in(tmux, "again", "Dana", seat_code)
    await sam.wait(lambda: sam.state.members[dana.id].presence is Presence.PRESENT, "back")
    assert sam.state.holder == dana.id, "resumed with her seat and the stick"
    await tmux.wait_for("again", r"You hold the stick")
    tmux.keys("again", "C-x")  # Quiet exit ends the session.
    await tmux.wait_for("again", r"EXITED 0")
    await sam.wait(lambda: dana.id not in sam.state.members, "Dana to leave")
    assert await until(lambda: not seat_processes(served))


def askpass(tmp: Path, passcode: str, name: str) -> dict[str, str]:
    """An environment in which ssh asks a script, not a terminal, for the answers."""
    script = tmp / f"askpass-{uuid.uuid4().hex[:6]}.sh"
    script.write_text(
        "#!/bin/sh\n"
        f'case "$1" in *Passcode*) echo {shlex.quote(passcode)} ;; '
        f"*name*) echo {shlex.quote(name)} ;; *) echo ;; esac\n"
    )
    script.chmod(0o700)
    env = dict(os.environ)
    env.update(SSH_ASKPASS=str(script), SSH_ASKPASS_REQUIRE="force", DISPLAY=":0")
    return env


async def test_plain_mode_over_ssh_dash_t(served: Served, facilitator: Peer) -> None:
    sam = facilitator
    process = await asyncio.create_subprocess_exec(
        *served.ssh("-T"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=askpass(served.tmp, PASSCODE, "Robin"),
        start_new_session=True,  # No controlling terminal: askpass it is.
    )
    assert process.stdin is not None and process.stdout is not None
    lines: list[str] = []

    async def expect(wanted: str) -> None:
        async def read() -> None:
            assert process.stdout is not None
            while True:
                raw = await process.stdout.readline()
                assert raw, f"ssh ended before {wanted!r}: {lines}"
                lines.append(raw.decode().rstrip("\n"))
                if wanted in lines[-1]:
                    return

        await asyncio.wait_for(read(), DEADLINE)

    def send(line: str) -> None:
        assert process.stdin is not None
        process.stdin.write(f"{line}\n".encode())

    await expect("Type yes to accept them and join, or /quit to leave.")
    send("yes")
    await expect("You are in the tuesday circle as Robin, with 2 people present.")
    await sam.client.pause("Let's take a breath")
    await expect("The facilitator paused the circle: Let's take a breath")
    await sam.client.resume()
    await expect("The circle resumed.")
    send("/hand")
    await expect("You have the stick.")
    send("Plain words, one line each.")
    await expect("You: Plain words, one line each.")
    send("/quit")
    await expect("You left the circle. Take care.")
    assert await asyncio.wait_for(process.wait(), DEADLINE) == 0
    assert not any("\x1b" in line for line in lines), "plain mode never sends escape sequences"


async def test_a_wrong_passcode_is_refused(served: Served) -> None:
    result = await asyncio.to_thread(
        subprocess.run,
        served.ssh("-T"),
        input="",
        capture_output=True,
        text=True,
        env=askpass(served.tmp, "not-the-passcode", "Robin"),
        start_new_session=True,
        timeout=DEADLINE,
        check=False,
    )
    assert result.returncode == 255
    assert "Permission denied" in result.stderr or "Too many" in result.stderr, result.stderr


async def plain_session(served: Served, *ssh_options: str) -> list[str]:
    """Join in plain mode, answer the agreements, leave; return what was shown."""
    result = await asyncio.to_thread(
        subprocess.run,
        served.ssh("-T", *ssh_options),
        input="yes\n/who\n",
        capture_output=True,
        text=True,
        env=askpass(served.tmp, PASSCODE, "Robin"),
        start_new_session=True,
        timeout=DEADLINE,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


async def test_an_honest_login_gets_through_200_idle_connections(served: Served) -> None:
    # Issue 11: idle connections that never logged in held every pre-login slot
    # of their address, so the real ssh from the same address was turned away.
    idle = [await asyncio.open_connection("127.0.0.1", served.ssh_port) for _ in range(200)]
    try:
        shown = await plain_session(served)
        assert any("You are in the tuesday circle as Robin" in line for line in shown), shown
    finally:
        for _, writer in idle:
            writer.close()


async def test_the_host_key_outlives_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    key = make_room(data)
    alias = ("-o", "HostKeyAlias=circle-test")  # The port changes; the key must not.
    first = await serve(data, key, tmp_path)
    try:
        assert "In the circle: Robin (you)." in await plain_session(first, *alias)
    finally:
        stop(first)
    second = await serve(data, key, tmp_path)
    try:
        assert second.fingerprint == first.fingerprint
        strict = (*alias, "-o", "StrictHostKeyChecking=yes")
        assert "In the circle: Robin (you)." in await plain_session(second, *strict)
    finally:
        stop(second)

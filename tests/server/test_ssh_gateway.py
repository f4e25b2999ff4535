"""The SSH gateway in-process, driven by asyncssh's own client on 127.0.0.1, port 0.

PTY sessions here run a tiny stand-in child instead of the Textual client, so
the PTY plumbing (controlling terminal, window size, resizes, the process
group killed on disconnect, TERM and COLORTERM) is checked quickly and
exactly; tests/e2e/test_ssh.py runs the real client under the real ``ssh``.
"""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import asyncssh
import pytest

from protocol.model import Presence
from server.config import Rate, RelayConfig
from server.ssh_gateway import GatewayConfig, SSHGateway, fingerprint, load_host_key
from tests.server.support import ROOM, TIMEOUT, JoinFn, MakeRelay, Peer, RunningRelay
from tui.plain import serve_ssh

PASSCODE = "blue kettle"

CHILD = r"""
import fcntl, os, signal, sys, termios
fcntl.ioctl(0, termios.TIOCSCTTY, 0)
def size(*_):
    cols, rows = os.get_terminal_size(0)
    print(f"size {cols}x{rows}", flush=True)
signal.signal(signal.SIGWINCH, size)
leader = os.getsid(0) == os.getpid() and os.tcgetpgrp(0) == os.getpgrp()
print(f"pid {os.getpid()} leader {leader}", flush=True)
print(f"term {os.environ.get('TERM')} colorterm {os.environ.get('COLORTERM', '-')}", flush=True)
print(f"passcode {os.environ.get('CIRCLE_PASSCODE') == sys.argv[3]}", flush=True)
size()
os.write(int(os.environ["CIRCLE_REPORT_FD"]), f"tok-{sys.argv[2]} ep {sys.argv[2]}\n".encode())
for line in sys.stdin:
    print(f"got {line.strip()}", flush=True)
    if line.strip() == "bye":
        sys.exit(3)
"""


def child_argv(url: str, name: str) -> list[str]:
    return [sys.executable, "-c", CHILD, url, name, PASSCODE]


class Answers(asyncssh.SSHClient):
    """Answers keyboard-interactive prompts from a script; records the instructions."""

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


async def ssh(gateway: SSHGateway, *answers: str, user: str = ROOM) -> asyncssh.SSHClientConnection:
    conn, _ = await connect(gateway, *answers, user=user)
    return conn


async def connect(
    gateway: SSHGateway, *answers: str, user: str = ROOM
) -> tuple[asyncssh.SSHClientConnection, Answers]:
    client = Answers(answers)
    conn, _ = await asyncssh.create_connection(
        lambda: client,
        "127.0.0.1",
        gateway.port,
        username=user,
        known_hosts=None,
        client_keys=None,
        preferred_auth="keyboard-interactive",
        config=None,
    )
    return conn, client


async def refused(gateway: SSHGateway, *answers: str, user: str = ROOM) -> Answers:
    client = Answers(answers)
    with pytest.raises(asyncssh.PermissionDenied):
        await asyncssh.create_connection(
            lambda: client,
            "127.0.0.1",
            gateway.port,
            username=user,
            known_hosts=None,
            client_keys=None,
            preferred_auth="keyboard-interactive",
            config=None,
        )
    return client


class Screen:
    """What an SSH process printed, read line by line until a wanted line shows up."""

    def __init__(self, process: asyncssh.SSHClientProcess[str]) -> None:
        self.process = process
        self.lines: list[str] = []

    async def expect(self, wanted: str, timeout: float = TIMEOUT) -> str:
        async def read() -> str:
            while True:
                line = await self.process.stdout.readline()
                if not line:
                    raise AssertionError(f"EOF before {wanted!r}; saw {self.lines[-10:]}")
                line = line.rstrip("\r\n")
                self.lines.append(line)
                if wanted in line:
                    return line

        try:
            return await asyncio.wait_for(read(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"never saw {wanted!r}; saw {self.lines[-10:]}") from None

    def type(self, line: str) -> None:
        self.process.stdin.write(line + "\n")


@pytest.fixture
async def running(make_relay: MakeRelay) -> RunningRelay:
    config = RelayConfig(passcode_rate=Rate(burst=3, per_second=1 / 60))
    return await make_relay(config, passcode=PASSCODE)


@pytest.fixture
async def gateway(running: RunningRelay, tmp_path: Path) -> AsyncIterator[SSHGateway]:
    key = load_host_key(tmp_path / "ssh")
    config = GatewayConfig(child_argv=child_argv)
    gateway = SSHGateway(running.relay, key, serve_ssh, config=config)
    await gateway.start("127.0.0.1", 0)
    yield gateway
    await gateway.close()


# --- the host key ------------------------------------------------------------------------------


def test_the_host_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    first = load_host_key(tmp_path)
    path = tmp_path / "ssh_host_ed25519_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_host_key(tmp_path)
    assert fingerprint(again) == fingerprint(first)
    assert fingerprint(first).startswith("SHA256:")


# --- authentication ------------------------------------------------------------------------------


async def test_wrong_passcodes_are_refused_and_limited_per_address(gateway: SSHGateway) -> None:
    client = await refused(gateway, "teapot", "kettle", "blue teapot")
    assert (
        client.instructions.count("That passcode is not right; check it with the facilitator.") == 2
    )
    # The bucket (3 at once) is empty: even the right passcode waits now.
    client = await refused(gateway, PASSCODE, "Dana")
    [message] = client.instructions
    assert message.startswith("Too many wrong passcodes; try again in")


async def test_an_unknown_room_is_refused(gateway: SSHGateway) -> None:
    client = await refused(gateway, PASSCODE, "Dana", user="nosuchroom")
    assert client.instructions == ["There is no room called 'nosuchroom' here."]


async def test_a_name_in_use_is_asked_again(
    gateway: SSHGateway, join: JoinFn, running: RunningRelay
) -> None:
    await join(running.url, "Dana", passcode=PASSCODE)
    conn, client = await connect(gateway, PASSCODE, "dana", "  ", "Robin\u202e")
    assert client.instructions == [
        "Someone here is already called Dana; pick another name.",
        "Please choose a name with at least one visible character.",
    ]
    process = await conn.create_process(term_type=None)
    await Screen(process).expect("Type yes to accept them and join")
    [session] = gateway.sessions
    assert session.name == "Robin"
    conn.close()


# --- plain mode without a PTY ---------------------------------------------------------------------


async def test_plain_mode_drop_and_exact_resume(
    gateway: SSHGateway, join: JoinFn, running: RunningRelay
) -> None:
    sam: Peer = await join(running.url, "Sam", key=running.key)
    lee: Peer = await join(running.url, "Lee", passcode=PASSCODE)
    conn = await ssh(gateway, PASSCODE, "Robin")
    process = await conn.create_process(term_type=None)
    screen = Screen(process)
    await screen.expect("Type yes to accept them and join")
    screen.type("yes")
    await screen.expect("You are in the circle tuesday as Robin, with 3 people present.")
    screen.type("/hand")
    await screen.expect("You have the stick.")
    screen.type("Thank you all for being here.")
    await screen.expect("You: Thank you all for being here.")
    await lee.client.me_too()
    await screen.expect("1 person said me too.")
    robin = running.room.state.find_name("Robin")
    assert robin is not None

    conn.abort()  # The link dies: no goodbye.
    await sam.wait(lambda: sam.state.members[robin.id].presence is Presence.AWAY, "away")
    await sam.client.me_too()
    await sam.client.pause("Let's take a breath")

    conn = await ssh(gateway, PASSCODE, "Robin")
    process = await conn.create_process(term_type=None)
    screen = Screen(process)
    await screen.expect("Welcome back. Here is what happened while you were away.")
    await screen.expect("2 people said me too.")
    await screen.expect("The facilitator paused the circle: Let's take a breath")
    await sam.wait(lambda: sam.state.members[robin.id].presence is Presence.PRESENT, "back")
    assert sam.state.holder == robin.id
    screen.type("/quit")
    await screen.expect("You left the circle. Take care.")
    await asyncio.wait_for(process.wait_closed(), TIMEOUT)
    await sam.wait(lambda: robin.id not in sam.state.members, "Robin to leave")
    conn.close()


async def test_a_dumb_terminal_gets_plain_mode_with_echo(gateway: SSHGateway) -> None:
    conn = await ssh(gateway, PASSCODE, "Robin")
    process = await conn.create_process(term_type="dumb", term_size=(80, 24))
    screen = Screen(process)
    await screen.expect("Type yes to accept them and join")
    process.stdin.write("yes\r")
    await screen.expect("yes")  # Echoed, as a terminal in raw mode needs.
    await screen.expect("You are in the circle tuesday as Robin")
    process.stdin.write("/whx\x7fo\r")
    await screen.expect("In the circle: Robin (you).")
    assert all("\x1b" not in line for line in screen.lines)
    conn.close()


# --- PTY sessions ---------------------------------------------------------------------------


async def test_a_pty_child_owns_its_terminal_follows_resizes_and_dies_with_the_session(
    gateway: SSHGateway,
) -> None:
    conn = await ssh(gateway, PASSCODE, "Robin")
    process = await conn.create_process(
        term_type="xterm-256color", term_size=(90, 30), env={"COLORTERM": "truecolor"}
    )
    screen = Screen(process)
    line = await screen.expect("leader")
    pid = int(line.split()[1])
    assert line.endswith("leader True")
    await screen.expect("term xterm-256color colorterm truecolor")
    await screen.expect("passcode True")
    await screen.expect("size 90x30")
    process.change_terminal_size(120, 40)
    await screen.expect("size 120x40")
    process.stdin.write("hello\r")
    await screen.expect("got hello")
    [session] = gateway.sessions
    assert session.stats.mode == "tui" and session.stats.pid == pid
    assert session.stats.bytes_out > 0
    assert gateway.seats.get(ROOM, "robin") == "tok-Robin ep Robin\n"

    conn.abort()
    await _gone(pid)
    assert not gateway.sessions


async def test_the_child_exit_status_ends_the_session(gateway: SSHGateway) -> None:
    conn = await ssh(gateway, PASSCODE, "Robin")
    process = await conn.create_process(term_type="xterm", term_size=(80, 24))
    screen = Screen(process)
    await screen.expect("term xterm colorterm -")  # Not claimed for a plain xterm.
    await screen.expect("size 80x24")
    process.stdin.write("bye\r")
    await asyncio.wait_for(process.wait_closed(), TIMEOUT)
    assert process.exit_status == 3
    conn.close()


async def test_closing_the_gateway_ends_every_session(gateway: SSHGateway) -> None:
    conn = await ssh(gateway, PASSCODE, "Robin")
    process = await conn.create_process(term_type="xterm", term_size=(80, 24))
    line = await Screen(process).expect("leader")
    await gateway.close()
    await _gone(int(line.split()[1]))
    await asyncio.wait_for(process.wait_closed(), TIMEOUT)


async def _gone(pid: int) -> None:
    async def wait() -> None:
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            await asyncio.sleep(0.02)  # Polling a pid: there is nothing to wait on.

    await asyncio.wait_for(wait(), TIMEOUT)

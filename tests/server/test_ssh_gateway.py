"""The SSH gateway in-process, driven by asyncssh's own client on 127.0.0.1, port 0.

PTY sessions here run a tiny stand-in child instead of the Textual client, so
the PTY plumbing (controlling terminal, window size, resizes, the process
group killed on disconnect, TERM and COLORTERM) is checked quickly and
exactly; tests/e2e/test_ssh.py runs the real client under the real ``ssh``.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
import sys
from collections.abc import AsyncIterator, Awaitable, Sequence
from pathlib import Path
from typing import Any, Protocol

import asyncssh
import pytest

from circle_room.protocol.model import Presence
from circle_room.server import passcode_cache
from circle_room.server.config import Rate, RelayConfig
from circle_room.server.ssh_auth import NAME_PROMPT, WRONG_PASSCODE, LoginServer
from circle_room.server.ssh_gateway import (
    Credentials,
    GatewayConfig,
    Mode,
    SSHGateway,
    fingerprint,
    load_host_key,
)
from circle_room.server.ssh_session import Session
from circle_room.server.ssh_startups import MaxStartups
from circle_room.tui.app import ssh_child
from circle_room.tui.client.connection import CircleClient, JoinRefused
from circle_room.tui.plain.session import serve_ssh
from tests.server.support import ROOM, TIMEOUT, JoinFn, MakeRelay, Peer, RunningRelay

PASSCODE = "blue kettle"

CHILD = r"""
import fcntl, json, os, signal, sys, termios
fcntl.ioctl(0, termios.TIOCSCTTY, 0)
with os.fdopen(int(os.environ["CIRCLE_SECRETS_FD"]), "rb") as pipe:
    secrets = json.loads(pipe.read())
def size(*_):
    # os.write, not print: a handler that runs inside another print would
    # re-enter the buffered stdout and raise.
    cols, rows = os.get_terminal_size(0)
    os.write(1, f"size {cols}x{rows}\n".encode())
signal.signal(signal.SIGWINCH, size)
leader = os.getsid(0) == os.getpid() and os.tcgetpgrp(0) == os.getpgrp()
print(f"pid {os.getpid()} leader {leader}", flush=True)
print(f"term {os.environ.get('TERM')} colorterm {os.environ.get('COLORTERM', '-')}", flush=True)
print(f"ticket {secrets['ticket'].startswith('ticket:')} code {secrets['seat_code']}", flush=True)
print(f"resume {secrets['resume'].split(' ')[0] or '-'}", flush=True)
print(f"raw {not termios.tcgetattr(0)[3] & termios.ICANON}", flush=True)
print(f"environ {sorted(k for k in os.environ if 'CIRCLE' in k)}", flush=True)
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
        self.titles: list[str] = []

    def kbdint_auth_requested(self) -> str:
        return ""

    def kbdint_challenge_received(
        self, name: str, instructions: str, lang: str, prompts: Sequence[tuple[str, bool]]
    ) -> list[str] | None:
        if instructions:
            self.instructions.append(instructions)
        if name:
            self.titles.append(name)
        if not prompts:
            return []
        if len(self.answers) < len(prompts):
            return None  # Give up, as a person would.
        out, self.answers = self.answers[: len(prompts)], self.answers[len(prompts) :]
        return out


async def ssh(
    gateway: SSHGateway, *answers: str, user: str = ROOM, source: str = "127.0.0.1"
) -> asyncssh.SSHClientConnection:
    conn, _ = await connect(gateway, *answers, user=user, source=source)
    return conn


async def connect(
    gateway: SSHGateway, *answers: str, user: str = ROOM, source: str = "127.0.0.1"
) -> tuple[asyncssh.SSHClientConnection, Answers]:
    """Log in from ``source`` (any 127.0.0.x is this machine, each its own address)."""
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
        local_addr=(source, 0),
    )
    return conn, client


async def refused(
    gateway: SSHGateway, *answers: str, user: str = ROOM, source: str = "127.0.0.1"
) -> Answers:
    client = Answers(answers)
    with pytest.raises(asyncssh.PermissionDenied):
        await connect_as(client, gateway, user, source)
    return client


async def connect_as(
    client: Answers, gateway: SSHGateway, user: str, source: str
) -> asyncssh.SSHClientConnection:
    conn, _ = await asyncssh.create_connection(
        lambda: client,
        "127.0.0.1",
        gateway.port,
        username=user,
        known_hosts=None,
        client_keys=None,
        preferred_auth="keyboard-interactive",
        config=None,
        local_addr=(source, 0),
    )
    return conn


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


class MakeGateway(Protocol):
    def __call__(self, **config: Any) -> Awaitable[SSHGateway]: ...


@pytest.fixture
async def make_gateway(
    running: RunningRelay, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[MakeGateway]:
    monkeypatch.setenv("CIRCLE_HOST_ONLY", "not for children")
    gateways: list[SSHGateway] = []

    async def make(**config: Any) -> SSHGateway:
        key = load_host_key(tmp_path / "ssh")
        settings = GatewayConfig(**{"child_argv": child_argv, **config})
        relay_url = running.url.replace(f"/{ROOM}", "")  # Seats pin the relay's certificate.
        gateway = SSHGateway(running.relay, key, serve_ssh, relay_url=relay_url, config=settings)
        await gateway.start("127.0.0.1", 0)
        gateways.append(gateway)
        return gateway

    yield make
    for gateway in gateways:
        await gateway.close()


@pytest.fixture
async def gateway(make_gateway: MakeGateway) -> SSHGateway:
    return await make_gateway()


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


async def test_the_ssh_and_websocket_doors_share_one_budget_per_address(
    gateway: SSHGateway, running: RunningRelay
) -> None:
    # Issue 11: each door kept its own limit, so together they allowed twice as many.
    client = await refused(gateway, "teapot", "kettle")
    assert client.instructions.count(WRONG_PASSCODE) == 2
    with pytest.raises(JoinRefused) as wrong:
        await CircleClient(running.url, name="Guess", passcode="blue teapot").connect()
    assert wrong.value.code == "wrong_passcode"
    with pytest.raises(JoinRefused) as locked:
        await CircleClient(running.url, name="Guess", passcode=PASSCODE).connect()
    assert locked.value.code == "too_many_attempts"
    [message] = (await refused(gateway, PASSCODE, "Dana")).instructions
    assert message.startswith("Too many wrong passcodes; try again in")
    assert gateway.guard is running.relay.guard, "one guard for both doors"


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


async def test_the_room_is_named_once_not_above_every_prompt(
    gateway: SSHGateway, join: JoinFn, running: RunningRelay
) -> None:
    await join(running.url, "Dana", passcode=PASSCODE)
    conn, client = await connect(gateway, "teapot", PASSCODE, "Dana", "Robin")
    assert client.titles == [f"Circle: {ROOM}"]  # Four prompts, one title.
    assert len(client.instructions) == 2  # The wrong passcode and the name taken still say so.
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
    code = seat_code(await screen.expect("If you are disconnected, reconnect and give the name"))
    await screen.expect("You are in the tuesday circle as Robin, with 3 people present.")
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

    conn = await ssh(gateway, PASSCODE, "Robin", code)
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
    await screen.expect("You are in the tuesday circle as Robin")
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
    await screen.expect("ticket True code ")
    await screen.expect("raw True")  # No echo before the client sets its own modes.
    # Secrets came on a pipe; the host's own variables stayed behind.
    await screen.expect("environ ['CIRCLE_NO_MOUSE', 'CIRCLE_REPORT_FD', 'CIRCLE_SECRETS_FD']")
    await screen.expect("size 90x30")
    process.change_terminal_size(120, 40)
    await screen.expect("size 120x40")
    process.stdin.write("hello\n")  # Raw: no CR-to-NL translation.
    await screen.expect("got hello")
    [session] = gateway.sessions
    assert session.stats.mode is Mode.TUI and session.stats.pid == pid
    assert session.stats.bytes_out > 0
    assert session.seat.credentials == Credentials("Robin", "tok-Robin")

    conn.abort()
    await _gone(pid)
    assert not gateway.sessions


async def test_the_child_exit_status_ends_the_session(gateway: SSHGateway) -> None:
    conn = await ssh(gateway, PASSCODE, "Robin")
    process = await conn.create_process(term_type="xterm", term_size=(80, 24))
    screen = Screen(process)
    await screen.expect("term xterm colorterm -")  # Not claimed for a plain xterm.
    await screen.expect("size 80x24")
    process.stdin.write("bye\n")
    await asyncio.wait_for(process.wait_closed(), TIMEOUT)
    assert process.exit_status == 3
    conn.close()


async def test_closing_the_gateway_ends_every_session(gateway: SSHGateway) -> None:
    conn = await ssh(gateway, PASSCODE, "Robin")
    process = await conn.create_process(term_type="xterm", term_size=(80, 24))
    screen = Screen(process)
    line = await screen.expect("leader")
    await gateway.close()
    await _gone(int(line.split()[1]))
    # The member's terminal is put back (cursor on, main screen) and told why,
    # before the connection goes.
    ended = await screen.expect("The meeting has ended.")
    assert "\x1b[?25h" in "".join(screen.lines) + ended
    await asyncio.wait_for(process.wait_closed(), TIMEOUT)


def seat_code(line: str) -> str:
    found = re.search(r"the seat code (\d{6}) ", line)
    assert found, line
    return found[1]


async def _gone(pid: int) -> None:
    async def wait() -> None:
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            await asyncio.sleep(0.02)  # Polling a pid: there is nothing to wait on.

    await asyncio.wait_for(wait(), TIMEOUT)


# --- hardening ----------------------------------------------------------------------------------


async def test_an_away_seat_is_not_taken_by_its_name_alone(
    gateway: SSHGateway, join: JoinFn, running: RunningRelay
) -> None:
    sam: Peer = await join(running.url, "Sam", key=running.key)
    conn = await ssh(gateway, PASSCODE, "Robin")
    screen = Screen(await conn.create_process(term_type=None))
    await screen.expect("Type yes to accept them and join")
    screen.type("yes")
    code = seat_code(await screen.expect("the seat code"))
    await screen.expect("You are in the tuesday circle as Robin")
    robin = running.room.state.find_name("Robin")
    assert robin is not None
    conn.abort()
    await sam.wait(lambda: sam.state.members[robin.id].presence is Presence.AWAY, "away")

    wrong = "000000" if code != "000000" else "111111"
    taken = "The name Robin is taken for now; please choose another name."
    away = "Robin is away. If this is your seat, give its seat code; "
    for guess in (wrong, ""):
        conn, client = await connect(gateway, PASSCODE, "Robin", guess, "Mallory")
        assert [i.startswith(away) for i in client.instructions] == [True, False]
        assert client.instructions[-1] == taken
        screen = Screen(await conn.create_process(term_type=None))
        await screen.expect("Type yes to accept them and join")
        [session] = [s for s in gateway.sessions if s.name == "Mallory"]
        assert session.seat.code != code
        conn.close()
        await asyncio.wait_for(process_gone(gateway, session), TIMEOUT)
    assert sam.state.members[robin.id].presence is Presence.AWAY, "Robin's seat is untouched"


async def process_gone(gateway: SSHGateway, session: object) -> None:
    while session in gateway.sessions:
        await asyncio.sleep(0.01)  # Polling a set: nothing to wait on.


async def test_ssh_seats_do_not_share_the_relays_loopback_passcode_limit(
    gateway: SSHGateway, running: RunningRelay
) -> None:
    # Someone on this machine guesses at the relay until 127.0.0.1 is locked out ...
    for n in range(3):
        with pytest.raises(JoinRefused):
            await CircleClient(running.url, name="Guess", passcode=f"guess {n}").connect()
    with pytest.raises(JoinRefused) as locked:
        await CircleClient(running.url, name="Guess", passcode=PASSCODE).connect()
    assert locked.value.code == "too_many_attempts"
    # ... and SSH members from elsewhere, whose passcode the gateway checked, still
    # join: their seats reach the relay from 127.0.0.1 too, with a ticket.
    conn = await ssh(gateway, PASSCODE, "Robin", source="127.0.0.2")
    screen = Screen(await conn.create_process(term_type=None))
    await screen.expect("Type yes to accept them and join")
    screen.type("yes")
    await screen.expect("You are in the tuesday circle as Robin")
    conn.close()


async def test_parallel_passcode_guesses_are_counted_before_they_are_checked(
    make_gateway: MakeGateway, monkeypatch: pytest.MonkeyPatch
) -> None:

    # Twelve at once, all of them let in to guess: no early drop here.
    room = MaxStartups(start=20, rate=30, full=40)
    gateway = await make_gateway(max_startups=room, max_startups_per_address=20)
    checked: list[str] = []
    real = passcode_cache.check_passcode

    def counting(passcode: str, stored: str) -> bool:
        checked.append(passcode)
        return real(passcode, stored)

    monkeypatch.setattr(passcode_cache, "check_passcode", counting)
    await asyncio.gather(*(refused(gateway, f"guess {n}") for n in range(12)))
    assert 1 <= len(checked) <= 3  # The bucket holds three.


async def test_approval_does_not_survive_a_change_of_user_name(
    gateway: SSHGateway, running: RunningRelay
) -> None:
    running.relay.store.add_room("friday", "another passcode")
    login = LoginServer(gateway)
    login.begin_auth(ROOM)
    assert login.get_kbdint_challenge(ROOM, "", "")[3] == [("Passcode: ", False)]
    answer = await login.validate_kbdint_response(ROOM, [PASSCODE])
    assert answer is not True and answer is not False and answer[3] == [(NAME_PROMPT, True)]
    login.begin_auth("friday")  # SSH lets a client change its user name mid-login.
    assert login.get_kbdint_challenge("friday", "", "")[3] == [("Passcode: ", False)]
    assert await login.validate_kbdint_response("friday", ["Robin"]) is not True


async def test_bad_terminal_names_fall_back_and_leak_nothing(gateway: SSHGateway) -> None:
    before = open_fds()
    conn = await ssh(gateway, PASSCODE, "Robin")
    process = await conn.create_process(
        term_type="xterm\0evil", term_size=(80, 24), env={"COLORTERM": "true\x1bcolor"}
    )
    screen = Screen(process)
    line = await screen.expect("leader")
    await screen.expect("term xterm-256color colorterm -")
    conn.close()
    await conn.wait_closed()
    await _gone(int(line.split()[1]))
    await asyncio.wait_for(no_sessions(gateway), TIMEOUT)
    assert open_fds() <= before


async def test_a_session_dropped_while_its_child_starts_leaks_nothing(
    gateway: SSHGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = asyncio.create_subprocess_exec
    spawning, go_on = asyncio.Event(), asyncio.Event()
    started: list[asyncio.subprocess.Process] = []

    async def slow(*args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
        spawning.set()
        await go_on.wait()
        started.append(await real(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(asyncio, "create_subprocess_exec", slow)
    before = open_fds()
    conn = await ssh(gateway, PASSCODE, "Robin")
    await conn.create_process(term_type="xterm", term_size=(80, 24))
    await asyncio.wait_for(spawning.wait(), TIMEOUT)
    conn.abort()
    await asyncio.wait_for(no_sessions(gateway), TIMEOUT)
    go_on.set()
    await asyncio.wait_for(until_started(started), TIMEOUT)
    await _gone(started[0].pid)
    await asyncio.wait_for(started[0].wait(), TIMEOUT)
    await asyncio.wait_for(fds_back_to(before), TIMEOUT)


async def test_a_child_that_cannot_start_ends_the_session_with_status_1(
    make_gateway: MakeGateway,
) -> None:
    gateway = await make_gateway(child_argv=lambda url, name: ["/nonexistent/circle-child"])
    before = open_fds()
    conn = await ssh(gateway, PASSCODE, "Robin")
    process = await conn.create_process(term_type="xterm", term_size=(80, 24))
    await Screen(process).expect("Sorry: the circle could not be opened here.")
    await asyncio.wait_for(process.wait_closed(), TIMEOUT)
    assert process.exit_status == 1
    conn.close()
    await conn.wait_closed()
    await asyncio.wait_for(no_sessions(gateway), TIMEOUT)
    assert open_fds() <= before


def test_a_name_starting_with_a_dash_reaches_the_seat_whole(gateway: SSHGateway) -> None:
    real = SSHGateway(gateway.relay, gateway.host_key, serve_ssh)
    argv = real.child_argv("ws://127.0.0.1:1/tuesday", "-Dana")
    assert ssh_child.parse_args(argv[3:]).name == "-Dana"


async def idle_connections(gateway: SSHGateway, sources: list[str]) -> list[asyncio.StreamReader]:
    """Open a connection from each of ``sources`` that never says a word."""
    readers = []
    for source in sources:
        reader, _ = await asyncio.open_connection("127.0.0.1", gateway.port, local_addr=(source, 0))
        readers.append(reader)
    return readers


async def test_an_honest_login_gets_through_200_idle_connections_from_its_address(
    gateway: SSHGateway,
) -> None:
    # Issue 11: 100 idle connections that never logged in kept an honest login
    # from the same address out until they closed (up to 120 s).
    await idle_connections(gateway, ["127.0.0.1"] * 200)
    conn = await ssh(gateway, PASSCODE, "Robin")
    # The flood made room for the honest one, not the other way round.
    assert gateway.logins() <= gateway.config.max_startups_per_address
    process = await conn.create_process(term_type=None)
    await Screen(process).expect("Type yes to accept them and join")
    conn.close()


async def test_idle_connections_from_many_addresses_make_room_too(
    gateway: SSHGateway,
) -> None:
    # Issue 11: about 64 addresses kept the whole gateway out.
    sources = [f"127.0.1.{n}" for n in range(1, 21)] * 10
    await idle_connections(gateway, sources)
    assert gateway.logins() <= gateway.config.max_startups.full
    conn = await ssh(gateway, PASSCODE, "Robin", source="127.0.2.1")
    conn.close()


async def test_a_connection_that_does_not_ask_to_log_in_is_ended_soon(
    make_gateway: MakeGateway,
) -> None:
    gateway = await make_gateway(login_grace=0.2)
    [idle] = await idle_connections(gateway, ["127.0.0.1"])
    await asyncio.wait_for(logins(gateway, 1), TIMEOUT)
    # The gateway's own version line, then nothing: it hangs up by itself.
    await asyncio.wait_for(idle.read(), TIMEOUT)
    assert idle.at_eof()
    await asyncio.wait_for(logins(gateway, 0), TIMEOUT)

    # Asking to log in stops that clock: a person may take their time with the questions.
    person = Patient([PASSCODE, "Robin"])
    login = asyncio.ensure_future(connect_as(person, gateway, ROOM, "127.0.0.1"))
    await asyncio.wait_for(person.asked.wait(), TIMEOUT)
    [later] = await idle_connections(gateway, ["127.0.0.1"])
    await asyncio.wait_for(later.read(), TIMEOUT)  # A grace has passed since they were asked.
    person.ready.set()
    conn = await asyncio.wait_for(login, TIMEOUT)
    conn.close()


class Patient(Answers):
    """Answers like ``Answers``, but only once ``ready`` is set."""

    def __init__(self, answers: Sequence[str]) -> None:
        super().__init__(answers)
        self.asked = asyncio.Event()
        self.ready = asyncio.Event()

    async def kbdint_challenge_received(  # type: ignore[override]
        self, name: str, instructions: str, lang: str, prompts: Sequence[tuple[str, bool]]
    ) -> list[str] | None:
        self.asked.set()
        await self.ready.wait()
        return super().kbdint_challenge_received(name, instructions, lang, prompts)


async def test_session_slots_are_reserved_when_requested(make_gateway: MakeGateway) -> None:
    gateway = await make_gateway(max_sessions=1)
    first = await ssh(gateway, PASSCODE, "Robin")
    second = await ssh(gateway, PASSCODE, "Lee")
    opened = await asyncio.gather(
        first.create_process(term_type=None),
        second.create_process(term_type=None),
        return_exceptions=True,
    )
    assert sum(isinstance(o, asyncssh.ChannelOpenError) for o in opened) == 1
    first.close()
    second.close()


async def test_beyond_the_full_screen_limit_members_get_plain_mode(
    make_gateway: MakeGateway,
) -> None:
    gateway = await make_gateway(max_full_screen=0)
    conn = await ssh(gateway, PASSCODE, "Robin")
    process = await conn.create_process(term_type="xterm-256color", term_size=(80, 24))
    screen = Screen(process)
    await screen.expect("The full-screen view is full here (0 seats), so you are in plain")
    await screen.expect("Type yes to accept them and join")
    conn.close()


async def test_a_last_line_without_a_newline_is_read_at_eof(gateway: SSHGateway) -> None:
    conn = await ssh(gateway, PASSCODE, "Robin")
    process = await conn.create_process(term_type=None)
    screen = Screen(process)
    await screen.expect("Type yes to accept them and join")
    process.stdin.write("yes\n/quit quiet")
    process.stdin.write_eof()
    await screen.expect("You left quietly. Take care.")
    conn.close()


# --- plain sessions, driven directly ------------------------------------------------------


class FakeChannel:
    """Enough of an SSH channel to watch a session's flow control."""

    def __init__(self) -> None:
        self.paused = False
        self.written = bytearray()
        self.closed = asyncio.Event()

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closed.set()

    def get_environment(self) -> dict[str, str]:
        return {}


def direct_session(gateway: SSHGateway) -> tuple[Session, FakeChannel]:
    session = gateway.open_session(ROOM, "Robin", None)
    assert session is not None
    chan = FakeChannel()
    session.connection_made(chan)  # type: ignore[arg-type]
    return session, chan


async def test_typed_lines_pile_up_only_so_far(make_gateway: MakeGateway) -> None:
    gateway = await make_gateway(max_lines=4, max_line=100)
    session, chan = direct_session(gateway)
    session.data_received(b"line\n" * 4, None)
    assert not chan.paused
    session.data_received(b"line\n", None)
    assert chan.paused, "more than max_lines waiting: stop reading"
    for _ in range(3):
        assert await session.plain.readline() == "line"
    assert not chan.paused, "drained to half: read again"
    session.data_received(b"y" * 1000 + b"\n", None)
    while (line := await session.plain.readline()) == "line":
        pass
    assert line == "y" * 100
    assert b"only its first 100 characters were kept" in chan.written
    session.connection_lost(None)


async def test_keys_for_a_busy_child_pile_up_only_so_far(make_gateway: MakeGateway) -> None:
    gateway = await make_gateway(max_to_child=1000)
    session, chan = direct_session(gateway)
    session.stats.mode = Mode.TUI  # Its child is still starting: keys wait.
    session.data_received(b"k" * 1000, None)
    assert not chan.paused
    session.data_received(b"k", None)
    assert chan.paused
    session.connection_lost(None)


async def test_plain_output_blocked_too_long_ends_the_session(make_gateway: MakeGateway) -> None:
    gateway = await make_gateway(max_stall=0.05)
    session, chan = direct_session(gateway)
    session.pause_writing()
    session.resume_writing()
    session.pause_writing()
    await asyncio.wait_for(chan.closed.wait(), TIMEOUT)
    session.connection_lost(None)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def no_sessions(gateway: SSHGateway) -> None:
    while gateway.sessions:
        await asyncio.sleep(0.01)  # Polling a set: nothing to wait on.


async def logins(gateway: SSHGateway, count: int) -> None:
    while gateway.logins() != count:
        await asyncio.sleep(0.01)  # Polling a count: nothing to wait on.


async def until_started(started: list[asyncio.subprocess.Process]) -> None:
    while not started:
        await asyncio.sleep(0.01)  # Polling a list: nothing to wait on.


async def fds_back_to(count: int) -> None:
    while open_fds() > count:
        await asyncio.sleep(0.01)  # Polling /proc: nothing to wait on.


async def test_a_passcode_the_relay_found_right_is_not_hashed_again_at_login(
    gateway: SSHGateway, join: JoinFn, running: RunningRelay, monkeypatch: pytest.MonkeyPatch
) -> None:
    await join(running.url, "Dana", passcode=PASSCODE)  # scrypt runs once, here.
    hashed: list[str] = []
    monkeypatch.setattr(passcode_cache, "check_passcode", lambda p, s: bool(hashed.append(p)))
    conn = await ssh(gateway, PASSCODE, "Robin")
    conn.close()
    assert hashed == []
    assert gateway.relay.passcodes is running.relay.passcodes

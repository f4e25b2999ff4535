"""The ``circle`` command as installed, run as a real process."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
from asyncio.subprocess import PIPE
from pathlib import Path

from circle_room.protocol.keepalive import RELAY
from circle_room.server.store import Store, check_passcode, check_secret
from circle_room.tui.cli.main import build_parser
from tests.server.support import MakeRelay

CIRCLE = Path(sys.executable).parent / "circle"
KEY_LINE = re.compile(r"^Facilitator key \(shown only this once; keep it private\): (\S+)$", re.M)


def circle(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CIRCLE), *args], capture_output=True, text=True, check=False, timeout=30
    )


def test_version() -> None:
    result = circle("--version")
    assert result.returncode == 0
    assert re.fullmatch(r"circle \d+\.\d+\.\d+\S*\n", result.stdout), result.stdout


def test_room_add_prints_the_key_once_and_list_shows_the_room(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    empty = circle("room", "list", "--data-dir", data)
    assert empty.returncode == 0 and "No rooms yet" in empty.stdout

    added = circle("room", "add", "tuesday", "--passcode", "sesame", "--data-dir", data)
    assert added.returncode == 0, added.stderr
    match = KEY_LINE.search(added.stdout)
    assert match, added.stdout
    key = match.group(1)
    assert added.stdout.count(key) == 1
    assert "sesame" not in added.stdout

    circle("room", "add", "open-room", "--data-dir", data).check_returncode()
    listed = circle("room", "list", "--data-dir", data)
    assert listed.returncode == 0
    assert listed.stdout.splitlines() == ["open-room\topen", "tuesday\tpasscode"]
    assert key not in listed.stdout

    store = Store(Path(data))
    try:
        record = store.room("tuesday")
        assert record is not None
        assert check_secret(key, record.key_hash)
        assert check_passcode("sesame", record.passcode_hash)
    finally:
        store.close()


def test_adding_a_room_twice_fails_clearly(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    circle("room", "add", "tuesday", "--data-dir", data).check_returncode()
    again = circle("room", "add", "tuesday", "--data-dir", data)
    assert again.returncode == 2
    assert again.stdout == ""  # no new key is shown for a room that was not made
    assert again.stderr == "circle: A room called 'tuesday' already exists.\n"


def test_a_bad_room_name_fails_clearly(tmp_path: Path) -> None:
    bad = circle("room", "add", "Tuesday Night", "--data-dir", str(tmp_path / "data"))
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.startswith("circle: Room names use lowercase letters")


def test_no_command_is_a_usage_error() -> None:
    result = circle()
    assert result.returncode == 2
    assert "usage: circle" in result.stderr


# --- start-up problems: one sentence that says what to do, exit status 2, no traceback ----


def said_once(result: subprocess.CompletedProcess[str], *wanted: str) -> None:
    """``result`` failed as a person should see it: status 2, one ``circle:`` line."""
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("circle: "), result.stderr
    for words in wanted:
        assert words in lines[0], lines[0]


def test_ports_out_of_range_are_refused_before_anything_starts(tmp_path: Path) -> None:
    for flag, value in (("--port", "99999"), ("--ssh-port", "70000"), ("--port", "-1")):
        result = circle("host", flag, value, "--data-dir", str(tmp_path))
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert result.stderr.splitlines() == [
            f"circle host: argument {flag}: {value} is not a port number; "
            "use one from 1 to 65535, or 0 for any free port.",
            "Run `circle host --help` for the options.",
        ]
    assert not (tmp_path / "circle.db").exists()  # Nothing was started or made.


def test_a_port_in_use_suggests_another(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data = ("--data-dir", str(tmp_path))
        host = circle("host", "--host", "127.0.0.1", "--port", str(port), "--no-ssh", *data)
        said_once(host, f"Port {port} is already in use", "--port 0")
        serve = circle("serve", "--port", str(port), *data)
        said_once(serve, f"Port {port} is already in use", "--port 0")
        gateway = circle("serve", "--port", "0", "--ssh-port", str(port), *data)
        assert gateway.returncode == 2 and "Traceback" not in gateway.stderr
        assert gateway.stderr.startswith(f"circle: Port {port} is already in use")
        assert "--ssh-port 0" in gateway.stderr


def test_an_address_that_is_not_this_machines_is_named(tmp_path: Path) -> None:
    result = circle("host", "--host", "192.0.2.1", "--port", "0", "--data-dir", str(tmp_path))
    said_once(result, "192.0.2.1 is not an address of this machine", "--host")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_join_says_what_is_wrong_with_the_address(tmp_path: Path) -> None:
    port = free_port()
    for plain in ((), ("--plain",)):
        said_once(
            circle("join", *plain, f"127.0.0.1:{port}/tuesday"),
            f"Nothing is listening at 127.0.0.1:{port}",
            "check the address and port",
        )
        said_once(circle("join", *plain, "127.0.0.1:99999/tuesday"), "is not a number from 1")
        said_once(circle("join", *plain, "http://example.org/tuesday"), "ws://")
        said_once(circle("join", *plain, "127.0.0.1:8765"), "needs a room name")
        said_once(
            circle("join", *plain, "nosuch.invalid:8765/tuesday"),
            "cannot find a machine called 'nosuch.invalid'",
        )


async def test_join_names_an_unknown_room_and_a_server_that_is_not_a_relay(
    make_relay: MakeRelay,
) -> None:
    running = await make_relay()

    async def run(*args: str) -> subprocess.CompletedProcess[str]:
        process = await asyncio.create_subprocess_exec(
            str(CIRCLE), *args, stdout=PIPE, stderr=PIPE, stdin=subprocess.DEVNULL
        )
        out, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode is not None
        return subprocess.CompletedProcess(args, process.returncode, out.decode(), err.decode())

    wrong_room = f"127.0.0.1:{running.port}/nowhere"
    for plain in ((), ("--plain",)):
        said_once(
            await run("join", *plain, wrong_room),
            f"There is no room called 'nowhere' at 127.0.0.1:{running.port}",
            "check the room name",
        )

    async def not_a_relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n")  # Someone gave the SSH port instead.
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(not_a_relay, "127.0.0.1", 0)
    other = server.sockets[0].getsockname()[1]
    try:
        said_once(
            await run("join", f"127.0.0.1:{other}/tuesday"),
            f"127.0.0.1:{other} did not answer as a Circle relay",
            "check the address and port",
        )
    finally:
        server.close()
        await server.wait_closed()


def test_the_relay_keepalive_is_an_option_for_short_nat_timeouts() -> None:
    parser = build_parser()
    assert parser.parse_args(["serve"]).keepalive == RELAY.idle
    assert parser.parse_args(["serve", "--keepalive", "45"]).keepalive == 45.0
    assert parser.parse_args(["host", "--keepalive", "50"]).keepalive == 50.0
    bad = circle("serve", "--keepalive", "0")
    assert bad.returncode == 2
    assert "'0' is not a positive number of seconds" in bad.stderr

"""Issue 11, point 6: connections that never log in crowd out the ones that would.

Idle connections open the TCP connection and read the gateway's version
line, then say nothing. An honest member logging in meanwhile, trying again
a few times as a person would, must get in (a fix drops pre-login
connections at random past a threshold, as OpenSSH's MaxStartups does, and
gives a short login grace). Before that fix the per-address and overall
slots filled up and stayed full for the whole login timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from circle_room.server.ssh_gateway import SSHGateway
from circle_room.tui.cli.gateway import open_gateway
from tests.fault.support import report, ssh_login, start_relay
from tests.server.support import TIMEOUT, MakeRelay

pytestmark = [pytest.mark.fault]

PASSCODE = "blue kettle"
TRIES = 10
"""Login attempts an honest member makes before giving up."""


@pytest.fixture
async def gateway(make_relay: MakeRelay, tmp_path: Path) -> AsyncIterator[SSHGateway]:
    running = await start_relay(make_relay, passcode=PASSCODE)
    base = running.url.rsplit("/", 1)[0]
    opened = await open_gateway(running.relay, tmp_path / "ssh", "127.0.0.1", 0, base)
    yield opened
    await opened.close()


async def idle(port: int, address: str) -> asyncio.StreamWriter:
    """A connection that reads the gateway's version line and never says a word."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(address, 0))
    await asyncio.wait_for(reader.readline(), TIMEOUT)
    return writer


async def honest_login(port: int, name: str, address: str = "127.0.0.1") -> int:
    """Attempts it took to log in; fails the test after ``TRIES``."""
    said: list[str] = []
    for attempt in range(1, TRIES + 1):
        conn, answers = await ssh_login(port, PASSCODE, name, address=address)
        if conn is not None:
            conn.close()
            return attempt
        said += answers.instructions
    raise AssertionError(f"{name} could not log in {TRIES} times; told {said[-2:]}")


async def test_an_honest_login_gets_past_200_idle_ones_from_its_own_address(
    gateway: SSHGateway,
) -> None:
    crowd = [await idle(gateway.port, "127.0.0.1") for _ in range(200)]
    try:
        attempts = await honest_login(gateway.port, "Robin")
        report(f"ssh: honest login past 200 idle pre-login connections in {attempts} attempts")
    finally:
        for writer in crowd:
            writer.close()


@pytest.mark.timeout(120)
async def test_an_honest_login_gets_past_idle_ones_from_70_addresses(gateway: SSHGateway) -> None:
    crowd = [await idle(gateway.port, f"127.0.3.{n}") for n in range(1, 71) for _ in range(4)]
    try:
        attempts = await honest_login(gateway.port, "Robin", address="127.0.4.1")
        report(f"ssh: honest login past 280 idle connections from 70 addresses: {attempts}")
    finally:
        for writer in crowd:
            writer.close()

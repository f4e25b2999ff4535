"""Issue 11, point 5: guessing limits that leak (two doors, no total, the key) and lock out.

Guessers here use bare websockets bound to chosen loopback addresses
(127.0.0.0/8 is all this machine's), the SSH gateway through asyncssh, and
the real client for honest members; ``test_what_guessers_get`` prints
the figures.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from circle_room.protocol import PROTOCOL_VERSIONS
from circle_room.protocol.codec import decode, encode
from circle_room.protocol.messages import Error, Greeting, Hello, Welcome
from circle_room.server.ssh_gateway import SSHGateway
from circle_room.tui.cli.gateway import open_gateway
from circle_room.tui.client.connection import JoinRefused
from tests.fault.support import new_client, report, ssh_login, start_relay
from tests.server.support import TIMEOUT, MakeRelay, RunningRelay

pytestmark = pytest.mark.fault

PASSCODE = "blue kettle"


async def guess(url: str, *, passcode: str = "", key: str = "", address: str = "127.0.0.1") -> str:
    """One join attempt from ``address``: the refusal code, or "welcome"."""
    async with connect(url, compression=None, open_timeout=TIMEOUT, local_addr=(address, 0)) as ws:
        greeting = decode(await asyncio.wait_for(ws.recv(), TIMEOUT))
        assert isinstance(greeting, Greeting)
        hello = Hello(PROTOCOL_VERSIONS[-1], "guesser", passcode, key, True)
        await ws.send(encode(hello))
        try:
            reply = decode(await asyncio.wait_for(ws.recv(), TIMEOUT * 4))
        except ConnectionClosed:
            return "closed"
        if isinstance(reply, Welcome):
            return "welcome"
        assert isinstance(reply, Error), reply
        return reply.code


async def guesses(url: str, count: int, **kwargs: str) -> Counter[str]:
    return Counter([await guess(url, passcode=f"wrong {n}", **kwargs) for n in range(count)])


async def gateway_for(running: RunningRelay, tmp_path: Path) -> SSHGateway:
    base = running.url.rsplit("/", 1)[0]
    return await open_gateway(running.relay, tmp_path / "ssh", "127.0.0.1", 0, base)


async def ssh_guess(gateway: SSHGateway, passcode: str, address: str = "127.0.0.1") -> bool:
    """One wrong passcode over SSH; True if the gateway said there were too many."""
    conn, answers = await ssh_login(gateway.port, passcode, address=address)
    assert conn is None, "a wrong passcode logged in"
    return any(said.startswith("Too many wrong passcodes") for said in answers.instructions)


# --- what holds, and the figures ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_what_guessers_get(make_relay: MakeRelay, tmp_path: Path) -> None:
    running = await start_relay(make_relay, passcode=PASSCODE)
    gateway = await gateway_for(running, tmp_path)
    try:
        one = await guesses(running.url, 12, address="127.0.0.2")
        assert one["too_many_attempts"] > 0, "one address guesses without limit"
        ssh = [await ssh_guess(gateway, f"wrong {n}", "127.0.0.2") for n in range(8)]
        keys = [await guess(running.url, key=f"not it {n}", address="127.0.0.3") for n in range(30)]
        many = Counter(
            await asyncio.gather(
                *(guess(running.url, passcode="no", address=f"127.0.1.{n}") for n in range(1, 41))
            )
        )
    finally:
        await gateway.close()
    report(
        f"guessing from one address, in a burst: websocket {one['wrong_passcode']} of 12 "
        f"judged; then SSH from the same address {ssh.count(True)} of 8 told too many (one "
        f"budget for both doors); facilitator key {keys.count('wrong_key')} of 30 judged; the "
        f"same wrong passcode from 40 addresses at once: {many['wrong_passcode']} of 40 told "
        "wrong (one guess, checked once)"
    )


# --- point 5: the budget ------------------------------------------------------------------


async def test_right_passcodes_from_one_address_at_once_are_all_let_in(
    make_relay: MakeRelay,
) -> None:
    """Members behind one router (or one TLS proxy) arriving together."""
    running = await start_relay(make_relay, passcode=PASSCODE)
    clients = [new_client(running.url, f"member {n}", passcode=PASSCODE) for n in range(8)]
    results = await asyncio.gather(*(c.connect() for c in clients), return_exceptions=True)
    try:
        refused = [r.code for r in results if isinstance(r, JoinRefused)]
        assert refused == [], f"right passcodes refused: {refused}"
        assert all(isinstance(r, Welcome) for r in results), results
    finally:
        await asyncio.gather(*(c.leave(quiet=True) for c in clients))


async def test_the_websocket_and_ssh_doors_share_one_budget(
    make_relay: MakeRelay, tmp_path: Path
) -> None:
    running = await start_relay(make_relay, passcode=PASSCODE)
    gateway = await gateway_for(running, tmp_path)
    try:
        spent = await guesses(running.url, 8)
        assert spent["too_many_attempts"] > 0, "the websocket budget is not spent yet"
        assert await ssh_guess(gateway, "one more guess"), "SSH has a budget of its own"
    finally:
        await gateway.close()


async def test_facilitator_key_guesses_are_limited(make_relay: MakeRelay) -> None:
    running = await start_relay(make_relay)
    codes = Counter([await guess(running.url, key=f"not the key {n}") for n in range(30)])
    assert codes["too_many_attempts"] > 0, codes


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_guesses_from_many_addresses_meet_a_room_wide_cap(make_relay: MakeRelay) -> None:
    running = await start_relay(make_relay, passcode=PASSCODE)
    # 60 addresses, 3 guesses each: within every address's own budget. Every
    # guess differs: the same guess arriving together is judged once, as it
    # tells a guesser nothing new.
    codes: Counter[str] = Counter()
    for round_ in range(3):
        codes.update(
            await asyncio.gather(
                *(
                    guess(running.url, passcode=f"wrong {round_}.{n}", address=f"127.0.2.{n}")
                    for n in range(1, 61)
                )
            )
        )
    assert codes["too_many_attempts"] > 0, f"all 180 guesses were judged: {codes}"

"""What plain mode says about the link: not encrypted, or a relay new to the member."""

from __future__ import annotations

import asyncio

import pytest

from circle_room.tui.cli.hosting import lan_address
from tests.server.support import TIMEOUT, MakeRelay
from tests.tui.plain.test_session import Script, start_plain


async def test_a_plain_link_is_said_before_anything_is_asked(unused_tcp_port: int) -> None:
    address = lan_address()
    if address.startswith("127."):
        pytest.skip("this machine has no address but loopback")
    script = Script()
    task = await start_plain(f"ws://{address}:{unused_tcp_port}/tuesday", script)
    assert await asyncio.wait_for(task, TIMEOUT) == 1  # nothing listens there
    assert "not encrypted" in script.lines[0] and "passcode" in script.lines[0]
    assert script.lines[1].startswith("Nothing is listening at 192.0.2.2")


async def test_a_relay_new_to_the_member_is_named_by_its_fingerprint(
    make_relay: MakeRelay,
) -> None:
    running = await make_relay()
    address, _, pin = running.url.partition("#")
    script = Script()
    task = await start_plain(address, script, name="Dana", agreed=True)
    await script.expect(
        f"Encrypted. First time here: the relay's fingerprint {pin} is remembered now. "
        "Ask the host whether it is theirs."
    )
    script.type("/quit")
    assert await asyncio.wait_for(task, TIMEOUT) == 0
    assert not any("not encrypted" in line for line in script.lines)

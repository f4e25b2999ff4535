"""The relay's log: quiet about what is expected, one line for each thing that happens to a seat.

After a flood from peers that then vanish, asyncio used to log "socket.send()
raised exception." for every reply written to a dead connection: hundreds of
lines. Now the relay answers nothing more on a connection it is hanging up
on, skips connections that are closing, and lets the event loop notice a
dead one between two frames.
"""

from __future__ import annotations

import logging

import pytest

from circle_room.protocol.messages import MemberAway, MemberJoined
from circle_room.server.config import Rate, RelayConfig
from tests.server.support import JoinFn, MakeRelay, raw_join

MARKER = "the blue heron over the quarry"
"""Shared in the meeting; must reach no log line."""


def loud(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{r.name} {r.levelname}: {r.getMessage()}"
        for r in caplog.records
        if r.levelno >= logging.WARNING
    ]


@pytest.mark.parametrize("frames", [90, 300], ids=["flood", "flood-past-max-strikes"])
async def test_a_flood_from_peers_that_vanish_logs_no_warning(
    make_relay: MakeRelay, join: JoinFn, caplog: pytest.LogCaptureFixture, frames: int
) -> None:
    caplog.set_level(logging.INFO)
    running = await make_relay()  # TLS, as by default.
    fran = await join(running.url, "Fran", key=running.key)
    for n in range(5):
        ws, _ = await raw_join(running.url, f"Flood {n}")
        for _ in range(frames):
            await ws.send(b"\xc1 not msgpack")
        ws.transport.abort()
    await fran.wait(lambda: len(fran.events(MemberAway)) == 5, "every flooder gone")
    assert len(fran.events(MemberJoined)) == 5
    assert loud(caplog) == []


async def test_the_log_says_what_happened_to_whom_in_one_line_each(
    make_relay: MakeRelay, join: JoinFn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="circle_room")
    config = RelayConfig(share_rate=Rate(burst=10, per_second=10))
    running = await make_relay(config)
    fran = await join(running.url, "Fran", key=running.key)
    ana = await join(running.url, "Ana")
    ben = await join(running.url, "Ben")
    with pytest.raises(Exception, match="facilitator key"):
        await join(running.url, "Mallory", key="not the key")
    await fran.client.take_stick()
    await fran.client.share(MARKER)
    await ana.wait(lambda: MARKER in ana.shares(), "the share")
    await fran.client.remove(ben.id)
    await fran.wait(lambda: ben.id not in fran.state.members, "Ben removed")
    await ana.client.leave()
    await fran.wait(lambda: ana.id not in fran.state.members, "Ana gone")
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("circle_room")]
    said = "\n".join(lines)
    assert all("\n" not in line for line in lines)
    for expected in (
        f"#{fran.id} joined as FACILITATOR from 127.0.0.1",
        f"#{ana.id} joined as MEMBER from 127.0.0.1",
        "refused 127.0.0.1: wrong_key (close 4003)",
        f"#{ben.id} left (REMOVED)",
        f"#{ana.id} left (LEFT)",
    ):
        assert expected in said, f"no line says {expected!r}:\n{said}"
    assert MARKER not in said
    for name in ("Fran", "Ana", "Ben", "Mallory"):
        assert name not in said, "members are named by id in the log"
    assert loud(caplog) == []

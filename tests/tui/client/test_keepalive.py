"""The client's keepalive over real sockets: a relay gone silent is noticed in
time, and the member resumes their seat with nothing lost once the network
is back. The link runs through ``tests.server.proxy``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from circle_room.protocol.keepalive import CLIENT, QuietLink
from circle_room.protocol.messages import HandRaised
from circle_room.server.config import RelayConfig
from circle_room.tui.client.connection import CircleClient, Status
from tests.server.proxy import PING, TO_RELAY, MakePlainRelay, Proxy, plain_relays
from tests.server.support import ROOM, JoinFn

SLACK = 1.0
"""What a busy machine may add to a deadline; far more than an idle one needs."""


@pytest.fixture
async def relays(tmp_path: Path) -> AsyncIterator[MakePlainRelay]:
    """Relays on plain ws://; listed before ``join``, so they close after the members."""
    async with plain_relays(tmp_path) as make:
        yield make


@pytest.fixture
async def proxies() -> AsyncIterator[list[Proxy]]:
    opened: list[Proxy] = []
    yield opened
    for proxy in opened:
        await proxy.close()


def test_the_client_keeps_the_protocols_defaults() -> None:
    assert CircleClient("ws://localhost:8765/circle")._keepalive == CLIENT
    assert CircleClient("ws://localhost:8765/circle", ping_interval=None)._keepalive is None


async def test_a_silent_relay_is_noticed_and_the_seat_resumed(
    relays: MakePlainRelay, join: JoinFn, proxies: list[Proxy]
) -> None:
    # The relay does not watch its links here: only the client can notice.
    relay = await relays(RelayConfig(ping_interval=None))
    proxy = await Proxy(relay.port).start()
    proxies.append(proxy)
    link = QuietLink(0.2, 0.3)
    fran = await join(relay.url, "Fran", key=relay.key)
    alice = await join(proxy.url(ROOM), "alice", ping_interval=link.idle, ping_timeout=link.timeout)
    seat = alice.id
    loop = asyncio.get_running_loop()

    # Stop the client from reconnecting until the test has seen it give up.
    gate = asyncio.Event()
    reopen = alice.client._open

    async def gated(resume: object) -> object:
        await gate.wait()
        return await reopen(resume)  # type: ignore[arg-type]

    alice.client._open = gated  # type: ignore[method-assign]
    proxy.freeze()
    silent_since = loop.time()
    await alice.wait(
        lambda: alice.client.status is Status.RECONNECTING,
        "alice gives the link up",
        timeout=link.limit + SLACK,
    )
    noticed = loop.time() - silent_since
    assert noticed <= link.limit + SLACK
    assert proxy.count(TO_RELAY, PING) == 1, "one ping into the silence, then give up"

    # Meanwhile the room goes on; then the network is back (new links work).
    await fran.client.raise_hand()
    await fran.wait(lambda: len(fran.events(HandRaised)) == 1, "fran's hand")
    gate.set()
    await alice.wait(lambda: alice.client.status is Status.CONNECTED, "alice back")
    await alice.wait(lambda: len(alice.events(HandRaised)) == 1, "what alice missed")
    assert alice.id == seat

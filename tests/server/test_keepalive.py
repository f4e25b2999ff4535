"""The relay's keepalive over real sockets: it pings only quiet links, and lets
a member whose link went silent go, within the time it was given.

Times here are short (tenths of a second) so the tests are quick; the link
between member and relay runs through ``tests.server.proxy``, which sees the
frames on the wire and can go silent like a dead network.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from circle_room.protocol.keepalive import CLIENT, RELAY
from circle_room.protocol.messages import HandLowered, HandRaised, LowerHand
from circle_room.protocol.model import Presence
from circle_room.server.config import Rate, RelayConfig
from circle_room.server.keepalive import RESOLUTION
from circle_room.tui.client.connection import Status
from tests.server.proxy import PING, PONG, TO_CLIENT, TO_RELAY, MakePlainRelay, Proxy, plain_relays
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


def test_the_defaults_keep_an_idle_hour_cheap_and_notice_the_dead_in_four_minutes() -> None:
    segments_per_exchange = 3  # ping, pong (carrying the ACK of the ping), ACK
    assert segments_per_exchange * 3600 / RELAY.idle <= 60
    assert RELAY.limit + RESOLUTION <= 240
    assert CLIENT.limit <= 240
    # On an idle link the relay's ping reaches the client before the client's own is due.
    assert CLIENT.idle > RELAY.idle + RESOLUTION + 10
    assert RelayConfig().keepalive == RELAY
    assert RelayConfig(ping_interval=None).keepalive is None


async def test_an_idle_link_is_pinged_by_the_relay_alone(
    relays: MakePlainRelay, join: JoinFn, proxies: list[Proxy]
) -> None:
    relay = await relays(RelayConfig(ping_interval=0.1, ping_timeout=1.0))
    proxy = await Proxy(relay.port).start()
    proxies.append(proxy)
    alice = await join(proxy.url(ROOM), "alice", ping_interval=1.0, ping_timeout=1.0)

    await proxy.wait(lambda: proxy.count(TO_CLIENT, PING) >= 5, "five pings from the relay")
    await proxy.wait(lambda: proxy.count(TO_RELAY, PONG) >= 5, "five pongs")
    assert proxy.count(TO_RELAY, PING) == 0, "the client pinged a link the relay keeps alive"
    assert alice.client.status is Status.CONNECTED


async def test_an_active_link_is_never_pinged(
    relays: MakePlainRelay, join: JoinFn, proxies: list[Proxy]
) -> None:
    fast = Rate(10_000, 10_000)
    config = RelayConfig(ping_interval=0.5, ping_timeout=1.0, hand_rate=fast, frame_rate=fast)
    relay = await relays(config)
    proxy = await Proxy(relay.port).start()
    proxies.append(proxy)
    fran = await join(relay.url, "Fran", key=relay.key)
    await fran.client.take_stick()  # so that a raised hand waits in the queue
    await fran.wait(lambda: fran.state.turn is not None, "fran holds the stick")
    alice = await join(proxy.url(ROOM), "alice", ping_interval=0.5, ping_timeout=1.0)
    loop = asyncio.get_running_loop()

    # Traffic both ways, without a pause, for three times the quiet time.
    end = loop.time() + 1.5
    rounds = 0
    while loop.time() < end:
        rounds += 1
        await alice.client.raise_hand()
        await alice.wait(lambda n=rounds: len(alice.events(HandRaised)) == n, "hand up")
        await alice.client.send(LowerHand())
        await alice.wait(lambda n=rounds: len(alice.events(HandLowered)) == n, "hand down")

    assert rounds > 10
    assert proxy.count(TO_CLIENT, PING) == 0
    assert proxy.count(TO_RELAY, PING) == 0


async def test_the_relay_lets_a_silent_member_go_in_time(
    relays: MakePlainRelay, join: JoinFn, proxies: list[Proxy]
) -> None:
    relay = await relays(RelayConfig(ping_interval=0.2, ping_timeout=0.3))
    link = relay.relay.config.keepalive
    assert link is not None
    proxy = await Proxy(relay.port).start()
    proxies.append(proxy)
    fran = await join(relay.url, "Fran", key=relay.key)
    # Alice's client does not watch its link: only the relay can notice.
    alice = await join(proxy.url(ROOM), "alice", ping_interval=None)
    await fran.wait(lambda: alice.id in fran.state.members, "alice in")
    loop = asyncio.get_running_loop()

    proxy.freeze()
    silent_since = loop.time()
    await fran.wait(
        lambda: fran.state.members[alice.id].presence is Presence.AWAY,
        "alice away",
        timeout=link.limit + SLACK,
    )
    noticed = loop.time() - silent_since

    assert noticed <= link.limit + SLACK
    assert proxy.count(TO_CLIENT, PING) >= 1, "the relay gave up without asking"
    assert alice.client.status is Status.CONNECTED  # Nothing told her: the network is dead.

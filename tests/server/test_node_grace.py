"""A change of owner keeps each away member's grace: the new owner gives what is left.

Every node's replica notes when a member's ``MemberAway`` came by; the node
that takes the lease arms the member's timer for the rest of it. The nodes'
clock is the test's, so "most of the grace" passes without waiting for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from circle_room.protocol.messages import MemberAway, MemberLeft
from circle_room.protocol.model import LeaveReason
from circle_room.server.config import RelayConfig
from circle_room.server.node_relay import NodeRelay
from circle_room.server.node_room import NodeRoom
from circle_room.server.store import Store
from tests.server.conftest import MakeNode
from tests.server.node_processes import until
from tests.server.redis_support import RedisServer
from tests.server.support import ROOM, JoinFn, raw_join

GRACE = 60.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def clocked(
    nodes: tuple[MakeNode, str], redis_server: RedisServer, tmp_path: Path
) -> AsyncIterator[tuple[NodeRelay, NodeRelay, Clock]]:
    """Two nodes on the test's clock, sharing the ``nodes`` fixture's store and Redis."""
    clock = Clock()
    config = RelayConfig(grace_period=GRACE)
    relays = [NodeRelay(Store(tmp_path / "data"), redis_server.url, config, clock) for _ in "ab"]
    for relay in relays:
        await relay.start("127.0.0.1", 0)
    yield relays[0], relays[1], clock
    for relay in reversed(relays):
        await relay.close()
        relay.store.close()


async def test_a_member_away_most_of_their_grace_is_released_on_time_by_a_new_owner(
    nodes: tuple[MakeNode, str], join: JoinFn, clocked: tuple[NodeRelay, NodeRelay, Clock]
) -> None:
    _, key = nodes
    a, b, clock = clocked
    url_a, url_b = (f"ws://127.0.0.1:{r.port}/{ROOM}" for r in (a, b))
    await join(url_a, "Host", key=key)  # A opens the room: A decides.
    cy = await join(url_b, "Cy")
    bea_ws, bea = await raw_join(url_b, "Bea")
    await cy.wait(lambda: bea.member_id in cy.state.members, "Bea in")
    await bea_ws.close()  # Her connection drops: the owner marks her away at 1000.
    await cy.wait(lambda: bool(cy.events(MemberAway)), "Bea away")
    room = b.rooms[ROOM]
    assert isinstance(room, NodeRoom)
    place = room.core.places.get(bea.member_id)
    assert place is not None and place.grace_ends == 1000.0 + GRACE
    clock.now = 1000.0 + GRACE - 0.5
    await a.close()  # The owner goes; B takes the lease and must not start her grace anew.
    await until(lambda: room.owner is not None, "B to decide")
    await cy.wait(lambda: bool(cy.events(MemberLeft)), "Bea's grace to end", timeout=10)
    assert cy.events(MemberLeft) == [MemberLeft(bea.member_id, LeaveReason.TIMED_OUT)]

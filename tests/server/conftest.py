"""Fixtures for relays of several nodes: a real redis-server, and nodes sharing a store."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import NamedTuple, Protocol

import pytest

from circle_room.server.config import RelayConfig
from circle_room.server.node_relay import NodeRelay
from circle_room.server.store import Store
from tests.server.redis_support import RedisServer, start_redis
from tests.server.support import ROOM


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (.ci/run installs it)")
    server = start_redis(tmp_path / "redis")
    yield server
    server.stop()


class Node(NamedTuple):
    relay: NodeRelay
    url: str


class MakeNode(Protocol):
    async def __call__(self, config: RelayConfig | None = None) -> Node: ...


@pytest.fixture
async def nodes(tmp_path: Path, redis_server: RedisServer) -> AsyncIterator[tuple[MakeNode, str]]:
    """``make()`` starts one more node on port 0 over one shared store; plus the facilitator key."""
    data_dir = tmp_path / "data"
    key = Store(data_dir).add_room(ROOM)
    running: list[NodeRelay] = []

    async def make(config: RelayConfig | None = None) -> Node:
        relay = NodeRelay(Store(data_dir), redis_server.url, config or RelayConfig())
        await relay.start("127.0.0.1", 0)
        running.append(relay)
        return Node(relay, f"ws://127.0.0.1:{relay.port}/{ROOM}")

    yield make, key
    for relay in reversed(running):
        await relay.close()
        relay.store.close()

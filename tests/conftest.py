"""Fixtures shared by the relay, client and CLI tests: a relay on a free port, members."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from circle_room.server.config import RelayConfig
from circle_room.server.relay import Relay
from circle_room.server.store import Store
from circle_room.tui.client.connection import CircleClient
from tests.server.support import ROOM, JoinFn, MakeRelay, Peer, RunningRelay


@pytest.fixture(autouse=True)
def own_state_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The user state folder (``known_relays``) for this test alone, never the real one."""
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    return state / "circle"


@pytest.fixture
async def make_relay(tmp_path: Path) -> AsyncIterator[MakeRelay]:
    """Start relays on 127.0.0.1, port 0, each on its own store; all closed at the end."""
    running: list[RunningRelay] = []

    async def make(
        config: RelayConfig | None = None,
        *,
        passcode: str = "",
        clock: Callable[[], float] = time.time,
    ) -> RunningRelay:
        store = Store(tmp_path / f"relay-{len(running)}")
        key = store.add_room(ROOM, passcode)
        relay = Relay(store, config or RelayConfig(), clock)
        await relay.start("127.0.0.1", 0)
        started = RunningRelay(relay, f"ws://127.0.0.1:{relay.port}/{ROOM}", key)
        running.append(started)
        return started

    yield make
    for started in reversed(running):
        await started.relay.close()
        started.relay.store.close()


@pytest.fixture
async def relay(make_relay: MakeRelay) -> RunningRelay:
    """One relay with default settings and an open room (no passcode)."""
    return await make_relay()


@pytest.fixture
async def join(make_relay: MakeRelay) -> AsyncIterator[JoinFn]:
    """``await join(url, name, key=..., passcode=...)``: a connected, recorded member.

    Every member is closed before any relay is (this fixture depends on
    ``make_relay``, so it is torn down first).
    """
    peers: list[Peer] = []

    async def join(url: str, name: str, **kwargs: Any) -> Peer:
        kwargs.setdefault("backoff_cap", 0.5)
        client = CircleClient(url, name=name, **kwargs)
        welcome = await client.connect()
        peer = Peer(client, welcome)
        peers.append(peer)
        return peer

    yield join
    for peer in reversed(peers):
        await peer.stop()

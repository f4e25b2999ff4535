"""Fixtures of the fault suite (the relay and member fixtures are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fault.support import Spawner, start_relay
from tests.server.support import MakeRelay, RunningRelay


@pytest.fixture
async def spawner() -> AsyncIterator[Spawner]:
    """Child processes (relays, attackers, members); all killed at the end."""
    started = Spawner()
    yield started
    await started.close()


@pytest.fixture
async def relay(make_relay: MakeRelay) -> RunningRelay:
    """One in-process relay with default settings and an open room, on plain ws://."""
    return await start_relay(make_relay)

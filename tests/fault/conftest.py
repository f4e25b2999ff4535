"""Fixtures of the fault suite (the relay and member fixtures are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fault.support import Spawner


@pytest.fixture
async def spawner() -> AsyncIterator[Spawner]:
    """Child processes (relays, attackers, members); all killed at the end."""
    started = Spawner()
    yield started
    await started.close()

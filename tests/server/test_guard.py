"""Guess limits: tokens taken before checking, one check per address, IPv6 by /64."""

from __future__ import annotations

import asyncio

import pytest

from circle_room.server.config import Rate
from circle_room.server.guard import PRUNE_EVERY, Guard, TooManyAttempts, address_key
from circle_room.server.tickets import Tickets

RATE = Rate(burst=2, per_second=1 / 60)


def make_guard(now: list[float]) -> Guard:
    return Guard(RATE, lambda: now[0], asyncio.Semaphore(2))


def test_ipv6_addresses_count_by_their_64() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert address_key("192.0.2.7") == "192.0.2.7"


async def test_right_guesses_cost_nothing_and_wrong_ones_are_limited() -> None:
    guard = make_guard([0.0])
    for _ in range(10):
        assert await guard.check("192.0.2.7", lambda: True)
    assert not await guard.check("192.0.2.7", lambda: False)
    assert not await guard.check("192.0.2.7", lambda: False)
    with pytest.raises(TooManyAttempts):
        await guard.check("192.0.2.7", lambda: True)
    assert guard.wait("192.0.2.7") is not None
    assert await guard.check("192.0.2.8", lambda: True)


async def test_one_slow_check_per_address_at_a_time() -> None:
    guard = make_guard([0.0])
    started, release = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()

    def slow() -> bool:
        loop.call_soon_threadsafe(started.set)
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result()
        return False

    first = asyncio.ensure_future(guard.check("2001:db8::1", slow, slow=True))
    await started.wait()
    with pytest.raises(TooManyAttempts):
        await guard.check("2001:db8::2", lambda: True)  # Same /64, while one is in flight.
    release.set()
    assert await first is False


async def test_full_buckets_are_forgotten() -> None:
    now = [0.0]
    guard = make_guard(now)
    for n in range(PRUNE_EVERY):
        await guard.check(f"192.0.2.{n % 250}", lambda: False)
    assert len(guard) > 0
    now[0] = 10_000.0
    for _ in range(PRUNE_EVERY):
        await guard.check("198.51.100.1", lambda: True)
    assert len(guard) == 1


def test_tickets_are_bound_to_room_and_name_and_expire() -> None:
    tickets = Tickets()
    ticket = tickets.mint("tuesday", "Dana", now=0.0, lifetime=10.0)
    assert tickets.valid(ticket, "tuesday", "dana", 5.0)
    assert not tickets.valid(ticket, "tuesday", "Robin", 5.0)
    assert not tickets.valid(ticket, "friday", "Dana", 5.0)
    assert not tickets.valid(ticket, "tuesday", "Dana", 10.0)
    assert not tickets.valid("ticket:guess", "tuesday", "Dana", 5.0)
    tickets.revoke(ticket)
    assert not tickets.valid(ticket, "tuesday", "Dana", 5.0)

"""Guess limits: one budget per address and one per room; only wrong guesses count;
the same guess in flight is checked once; IPv6 by /64."""

from __future__ import annotations

import asyncio
import threading
from contextlib import nullcontext

import pytest

from circle_room.server.config import Rate
from circle_room.server.guard import PRUNE_EVERY, Guard, TooManyAttempts, address_key
from circle_room.server.tickets import Tickets

PER_ADDRESS = Rate(burst=2, per_second=1 / 60)
PER_ROOM = Rate(burst=5, per_second=1 / 60)
ROOM = "tuesday"


def make_guard(now: list[float]) -> Guard:
    return Guard(PER_ADDRESS, PER_ROOM, lambda: now[0], asyncio.Semaphore(2))


def wrong() -> bool:
    return False


def right() -> bool:
    return True


def test_ipv6_addresses_count_by_their_64() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert address_key("192.0.2.7") == "192.0.2.7"


async def test_right_guesses_cost_nothing_and_wrong_ones_are_limited() -> None:
    guard = make_guard([0.0])
    for _ in range(10):
        assert await guard.check("192.0.2.7", ROOM, right)
    assert not await guard.check("192.0.2.7", ROOM, wrong)
    assert not await guard.check("192.0.2.7", ROOM, wrong)
    with pytest.raises(TooManyAttempts) as limited:
        await guard.check("192.0.2.7", ROOM, right)
    assert "try again in 60 s" in limited.value.message
    assert guard.wait("192.0.2.7", ROOM) == pytest.approx(60.0)
    assert await guard.check("192.0.2.8", ROOM, right)


async def test_one_budget_per_address_for_every_room_and_door() -> None:
    guard = make_guard([0.0])
    assert not await guard.check("192.0.2.7", "tuesday", wrong)  # a passcode
    assert not await guard.check("192.0.2.7", "friday", wrong, strong=True)  # a key
    with pytest.raises(TooManyAttempts):
        await guard.check("192.0.2.7", "sunday", wrong)  # a seat code


async def test_one_budget_per_room_for_every_address() -> None:
    now = [0.0]
    guard = make_guard(now)
    for n in range(int(PER_ROOM.burst)):
        assert not await guard.check(f"192.0.2.{n}", ROOM, wrong)
    with pytest.raises(TooManyAttempts) as limited:
        await guard.check("198.51.100.1", ROOM, wrong)
    assert "at this room" in limited.value.message
    assert guard.wait("198.51.100.1", ROOM) is not None
    assert guard.wait("198.51.100.1", "friday") is None
    # The room's host is not kept out by guessers: a key is no guess anyone can make.
    assert await guard.check("198.51.100.1", ROOM, right, strong=True)
    now[0] += 60
    assert await guard.check("198.51.100.1", ROOM, right)


async def test_the_same_guess_in_flight_is_checked_once_and_costs_one_token() -> None:
    guard = make_guard([0.0])
    release = threading.Event()
    checks = 0

    def slow_right() -> bool:
        nonlocal checks
        checks += 1
        release.wait(5)
        return True

    same = guard.same("passcode", "stored", "blue kettle")
    joins = [
        asyncio.ensure_future(guard.check("192.0.2.7", ROOM, slow_right, slow=True, same=same))
        for _ in range(20)
    ]
    # One turn of the loop: each task above runs to its first await, so all
    # twenty have arrived while the first is being checked.
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*joins) == [True] * 20
    assert checks == 1
    # All twenty were one right guess: the budget is untouched.
    assert guard.wait("192.0.2.7", ROOM) is None
    assert not await guard.check("192.0.2.7", ROOM, wrong)
    assert not await guard.check("192.0.2.7", ROOM, wrong)


async def test_the_same_guess_rides_along_even_when_its_check_took_the_last_token() -> None:
    guard = make_guard([0.0])
    for _ in range(int(PER_ADDRESS.burst) - 1):
        assert not await guard.check("192.0.2.7", ROOM, wrong)
    release = threading.Event()

    def slow_right() -> bool:
        release.wait(5)
        return True

    same = guard.same("passcode", "stored", "blue kettle")
    joins = [
        asyncio.ensure_future(guard.check("192.0.2.7", ROOM, slow_right, slow=True, same=same))
        for _ in range(5)
    ]
    await asyncio.sleep(0)  # One turn: the first took the last token; the rest wait on it.
    release.set()
    assert await asyncio.gather(*joins) == [True] * 5


async def test_different_guesses_in_flight_each_take_a_token() -> None:
    guard = make_guard([0.0])
    release = threading.Event()

    def slow_wrong() -> bool:
        release.wait(5)
        return False

    first = [
        asyncio.ensure_future(
            guard.check("192.0.2.7", ROOM, slow_wrong, slow=True, same=guard.same(str(n)))
        )
        for n in range(int(PER_ADDRESS.burst))
    ]
    await asyncio.sleep(0)  # One turn: both are being checked.
    with pytest.raises(TooManyAttempts):
        await guard.check("192.0.2.7", ROOM, right, same=guard.same("another"))
    release.set()
    assert await asyncio.gather(*first) == [False] * int(PER_ADDRESS.burst)


async def test_a_guess_whose_check_was_cancelled_is_checked_by_the_next() -> None:
    guard = make_guard([0.0])
    started, release = asyncio.Event(), threading.Event()
    loop = asyncio.get_running_loop()

    def slow() -> bool:
        loop.call_soon_threadsafe(started.set)
        release.wait(5)
        return True

    same = guard.same("x")
    leader = asyncio.ensure_future(guard.check("192.0.2.7", ROOM, slow, slow=True, same=same))
    await started.wait()
    follower = asyncio.ensure_future(guard.check("192.0.2.7", ROOM, right, same=same))
    await asyncio.sleep(0)  # One turn: the follower waits for the leader's answer.
    leader.cancel()
    release.set()
    assert await follower
    with pytest.raises(asyncio.CancelledError):
        await leader


async def test_full_buckets_are_forgotten() -> None:
    now = [0.0]
    guard = make_guard(now)
    for n in range(PRUNE_EVERY):
        with pytest.raises(TooManyAttempts) if n >= PER_ROOM.burst * 50 else nullcontext():
            await guard.check(f"192.0.2.{n % 250}", f"room{n % 50}", wrong)
    assert len(guard) > 0
    now[0] = 10_000.0
    for _ in range(PRUNE_EVERY):
        await guard.check("198.51.100.1", ROOM, right)
    assert len(guard) == 2  # That address and that room.


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

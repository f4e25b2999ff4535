"""One guessing budget for every node: a guesser who tries each node in turn gains nothing.

The budgets live in Redis (``server.redis_budget``) at a single relay's
rates. If Redis cannot be reached, a wrong guess is refused as if the budget
were spent, and a right one still gets in.
"""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from circle_room.server.config import Rate, RelayConfig
from circle_room.server.guard import Guard, Spend, Spent, TooManyAttempts
from circle_room.server.redis_budget import RedisBudget
from tests.server.conftest import MakeNode
from tests.server.redis_support import RedisServer, free_port
from tests.server.support import hello

PER_ADDRESS = Rate(burst=3, per_second=1 / 60)
PER_ROOM = Rate(burst=5, per_second=1 / 60)
ROOM = "tuesday"


def wrong() -> bool:
    return False


def right() -> bool:
    return True


def guard_on(redis: aioredis.Redis) -> Guard:
    """A node's guard: its own buckets, and the budget shared through ``redis``."""
    budget = RedisBudget(redis, PER_ADDRESS, PER_ROOM)
    return Guard(PER_ADDRESS, PER_ROOM, lambda: 0.0, asyncio.Semaphore(2), budget)


async def test_two_nodes_allow_one_budget_of_wrong_guesses_per_address_and_per_room(
    redis_server: RedisServer,
) -> None:
    redis = aioredis.Redis.from_url(redis_server.url)
    a, b = guard_on(redis), guard_on(redis)
    try:
        for node in (a, b, a):
            assert not await node.check("192.0.2.7", ROOM, wrong)
        for node in (b, a):  # Each node alone still has tokens of its own.
            with pytest.raises(TooManyAttempts) as limited:
                await node.check("192.0.2.7", ROOM, right)
            assert limited.value.wait == pytest.approx(60, abs=1)
        # The room's budget too: two more addresses, two more wrong guesses, then none.
        assert not await b.check("192.0.2.8", ROOM, wrong)
        assert not await a.check("192.0.2.9", ROOM, wrong)
        with pytest.raises(TooManyAttempts, match="at this room"):
            await b.check("192.0.2.10", ROOM, wrong)
        assert b.wait("192.0.2.10", ROOM) == pytest.approx(60, abs=1)
    finally:
        await redis.aclose()


async def test_right_guesses_give_their_shared_tokens_back(redis_server: RedisServer) -> None:
    redis = aioredis.Redis.from_url(redis_server.url)
    a, b = guard_on(redis), guard_on(redis)
    try:
        for _ in range(5):
            assert await a.check("192.0.2.7", ROOM, right)
            assert await b.check("192.0.2.7", ROOM, right)
        for node in (a, b, a):
            assert not await node.check("192.0.2.7", ROOM, wrong)
        with pytest.raises(TooManyAttempts):
            await b.check("192.0.2.7", ROOM, wrong)
    finally:
        await redis.aclose()


async def test_without_redis_wrong_guesses_are_refused_and_right_ones_get_in() -> None:
    # Nothing listens on this port: every call fails at once, with no retries.
    redis = aioredis.Redis(port=free_port(), retry=Retry(NoBackoff(), 0))
    guard = guard_on(redis)
    try:
        with pytest.raises(TooManyAttempts):
            await guard.check("192.0.2.7", ROOM, wrong)
        assert await guard.check("192.0.2.7", ROOM, right)
        assert await guard.check("192.0.2.8", ROOM, right)
    finally:
        await redis.aclose()


async def test_a_guesser_trying_each_node_gets_one_budget(nodes: tuple[MakeNode, str]) -> None:
    make, _ = nodes
    config = RelayConfig(passcode_rate=PER_ADDRESS, room_guess_rate=PER_ROOM)
    a, b = await make(config), await make(config)
    codes = [await hello(node.url, key="not-the-key") for node in (a, b, a, b)]
    assert codes == ["wrong_key"] * 3 + ["too_many_attempts"]


class SlowBudget:
    """A shared budget that answers only when the test says so, and counts its takes."""

    def __init__(self) -> None:
        self.takes = 0
        self.taking = asyncio.Event()
        self.answer = asyncio.Event()

    async def take(self, address: str, room: str, strong: bool) -> Spent:
        self.takes += 1
        self.taking.set()
        await self.answer.wait()
        return Spent(Spend.TAKEN, room=True)

    async def give_back(self, address: str, room: str | None) -> None:
        pass


async def test_the_same_guess_arriving_while_the_shared_budget_answers_takes_nothing() -> None:
    budget = SlowBudget()
    guard = Guard(PER_ADDRESS, PER_ROOM, lambda: 0.0, asyncio.Semaphore(2), budget)
    same = guard.same("passcode", ROOM, "the passcode")
    checks = [
        asyncio.ensure_future(guard.check("192.0.2.7", ROOM, right, same=same)) for _ in range(10)
    ]
    # The first check waits for the budget; the other nine, started before this
    # line runs again, wait for its answer.
    await budget.taking.wait()
    budget.answer.set()
    assert await asyncio.gather(*checks) == [True] * 10
    assert budget.takes == 1

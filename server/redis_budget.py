"""The guessing budgets of ``server.guard`` held in Redis, shared by every relay node.

The threat: a guesser who can reach several nodes (one address in front of
them, or each node's own) would get each node's budget in turn. Here the
token buckets live in Redis, one hash per address and one per room, with the
same rates as a single relay's, and each take is one Lua script that refills
by Redis's own clock (the nodes' clocks need not agree), checks both buckets
and takes from both, so guesses sent to several nodes at once cannot all pass
before the first is counted.

``guess:{guard}:a:<address key>`` and ``guess:{guard}:r:<room>``: hashes of
``tokens`` and ``at`` (Redis time); each expires once it would be full again,
so a quiet budget takes no memory. One hash tag, so the script's two keys sit
on one shard of a Redis Cluster.

If Redis does not answer, ``take`` says ``UNREACHABLE`` rather than raise:
the guard then refuses wrong guesses and lets right ones in.
"""

from __future__ import annotations

import logging
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from circle_room.server.config import Rate
from circle_room.server.guard import Spend, Spent
from circle_room.server.limits import MIN_WAIT

log = logging.getLogger(__name__)

# Lua numbers come back from Redis as integers: waits go out as strings.
_LEVEL = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local function level(key, burst, rate)
  local v = redis.call('HMGET', key, 'tokens', 'at')
  local tokens, at = tonumber(v[1]), tonumber(v[2])
  if not tokens then return burst end
  return math.min(burst, tokens + math.max(0, now - at) * rate)
end
local function store(key, tokens, burst, rate)
  redis.call('HSET', key, 'tokens', string.format('%.6f', tokens), 'at', string.format('%.6f', now))
  redis.call('PEXPIRE', key, math.ceil((burst - tokens) / rate * 1000) + 1000)
end
"""

_TAKE = (
    _LEVEL
    + """
local ab, ar, rb, rr = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local a = level(KEYS[1], ab, ar)
if a < 1 then return {'address', string.format('%.3f', (1 - a) / ar)} end
local r = level(KEYS[2], rb, rr)
if r < 1 and ARGV[5] ~= '1' then return {'room', string.format('%.3f', (1 - r) / rr)} end
store(KEYS[1], a - 1, ab, ar)
if r >= 1 then
  store(KEYS[2], r - 1, rb, rr)
  return {'taken', '1'}
end
return {'taken', '0'}
"""
)

_GIVE_BACK = (
    _LEVEL
    + """
for i = 1, #KEYS do
  local burst, rate = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  store(KEYS[i], math.min(burst, level(KEYS[i], burst, rate) + 1), burst, rate)
end
return 1
"""
)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisBudget:
    """A ``server.guard.SharedBudget`` in Redis, at the rates of a single relay."""

    def __init__(self, redis: aioredis.Redis, per_address: Rate, per_room: Rate) -> None:
        self._rates = (per_address, per_room)
        self._take = redis.register_script(_TAKE)
        self._give_back = redis.register_script(_GIVE_BACK)

    @staticmethod
    def keys(address: str, room: str) -> tuple[str, str]:
        """The two buckets' keys (``address`` is an ``address_key``)."""
        return f"guess:{{guard}}:a:{address}", f"guess:{{guard}}:r:{room}"

    async def take(self, address: str, room: str, strong: bool) -> Spent:
        a, r = self._rates
        args = [a.burst, a.per_second, r.burst, r.per_second, "1" if strong else "0"]
        try:
            kind, value = await self._take(keys=list(self.keys(address, room)), args=args)
        except RedisError as exc:
            log.warning("cannot reach the shared guessing budget: %s", exc)
            return Spent(Spend.UNREACHABLE)
        outcome = Spend(_text(kind))
        if outcome is Spend.TAKEN:
            return Spent(outcome, room=_text(value) == "1")
        return Spent(outcome, max(MIN_WAIT, float(_text(value))))

    async def give_back(self, address: str, room: str | None) -> None:
        a, r = self._rates
        address_bucket, room_bucket = self.keys(address, room or "")
        keys, args = [address_bucket], [a.burst, a.per_second]
        if room is not None:
            keys.append(room_bucket)
            args += [r.burst, r.per_second]
        try:
            await self._give_back(keys=keys, args=args)
        except RedisError as exc:
            # The honest member is in; their token comes back as the bucket refills.
            log.warning("cannot give a token back to the shared guessing budget: %s", exc)

"""Token buckets for rate limits; time is passed in so tests control it."""

from __future__ import annotations

from circle_room.server.config import Rate

MIN_WAIT = 0.01
"""The shortest wait a bucket reports: members are told hundredths of a second,
and a bucket short of a token must never say "retry in 0 s"."""


class TokenBucket:
    def __init__(self, rate: Rate, now: float) -> None:
        self._rate = rate
        self._tokens = rate.burst
        self._updated = now

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self._rate.burst, self._tokens + elapsed * self._rate.per_second)
        self._updated = max(self._updated, now)

    def take(self, now: float) -> float | None:
        """Spend one token; return None if there was one, else seconds until there is."""
        self._refill(now)
        if self._tokens >= 1:
            self._tokens -= 1
            return None
        return max(MIN_WAIT, (1 - self._tokens) / self._rate.per_second)

    def give_back(self) -> None:
        """Return the token ``take`` spent (the attempt it paid for turned out fine)."""
        self._tokens = min(self._rate.burst, self._tokens + 1)

    def full(self, now: float) -> bool:
        """True when the bucket has refilled completely: it remembers nothing worth keeping."""
        self._refill(now)
        return self._tokens >= self._rate.burst

    def peek(self, now: float) -> float | None:
        """Like ``take`` without spending: None if a token is available."""
        self._refill(now)
        if self._tokens >= 1:
            return None
        return max(MIN_WAIT, (1 - self._tokens) / self._rate.per_second)

"""Limits on guessing secrets (passcodes, seat codes), per source address.

Both doors into a room use this: the relay's ``Hello`` and the SSH gateway's
login. The rules close the holes a naive "count the failures" check leaves:

- a token is taken *before* a guess is checked and given back if the guess
  was right, so guesses sent in parallel cannot all be checked before the
  first failure is counted;
- one check per address is in flight at a time (a second one waits its turn
  by being refused with a short retry);
- the slow hash (scrypt) runs in a thread, at most ``max_hashing`` at once for
  the whole process, so guessers cannot take every core;
- an IPv6 address counts by its /64 (one host usually owns the whole prefix);
- buckets that have refilled are forgotten, so memory stays bounded.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable

from circle_room.protocol.errors import Refused
from circle_room.server.config import Rate
from circle_room.server.limits import TokenBucket

PRUNE_EVERY = 256
"""Attempts between sweeps of full buckets."""
MAX_HASHING = 2
"""Slow hashes (scrypt) in flight at once for the whole process."""
BUSY_WAIT = 1.0
"""Seconds a second simultaneous guess from one address is told to wait."""


class TooManyAttempts(Refused):
    """No guess allowed from this address now; try again in ``wait`` seconds.

    A refusal like any other (code ``too_many_attempts``, ``retry_after`` set),
    so the relay sends it to the client as it is.
    """

    def __init__(self, wait: float) -> None:
        message = f"Too many wrong passcodes; try again in {max(1, round(wait))} s."
        super().__init__("too_many_attempts", message, round(wait, 2))
        self.wait = wait


def address_key(address: str) -> str:
    """The key an address is counted under: itself, or its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class Guard:
    """Guesses per address: ``await guard.check(address, verify)``.

    ``verify`` says whether the guess is right; ``slow=True`` runs it in a
    thread under ``hashing``, a semaphore shared by every guard of the process
    (``MAX_HASHING`` at once). ``check`` raises
    ``TooManyAttempts`` when the address has no token or a check in flight.
    """

    def __init__(self, rate: Rate, clock: Callable[[], float], hashing: asyncio.Semaphore) -> None:
        self._rate = rate
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._busy: set[str] = set()
        self._hashing = hashing
        self._since_prune = 0

    def wait(self, address: str) -> float | None:
        """Seconds before ``address`` may guess again, or None if it may now."""
        key = address_key(address)
        if key in self._busy:
            return BUSY_WAIT
        bucket = self._buckets.get(key)
        return bucket.peek(self._clock()) if bucket is not None else None

    async def check(self, address: str, verify: Callable[[], bool], *, slow: bool = False) -> bool:
        key = address_key(address)
        if key in self._busy:
            raise TooManyAttempts(BUSY_WAIT)
        now = self._clock()
        self._prune(now)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self._rate, now)
        wait = bucket.take(now)
        if wait is not None:
            raise TooManyAttempts(wait)
        self._busy.add(key)
        try:
            right = await self._run(verify) if slow else verify()
        finally:
            self._busy.discard(key)
        if right:
            bucket.give_back()
        return right

    async def _run(self, verify: Callable[[], bool]) -> bool:
        async with self._hashing:
            # scrypt is slow on purpose; keep it off the event loop.
            return await asyncio.to_thread(verify)

    def _prune(self, now: float) -> None:
        self._since_prune += 1
        if self._since_prune < PRUNE_EVERY:
            return
        self._since_prune = 0
        for key in [k for k, b in self._buckets.items() if k not in self._busy and b.full(now)]:
            del self._buckets[key]

    def __len__(self) -> int:
        """Addresses remembered (for tests and stats)."""
        return len(self._buckets)

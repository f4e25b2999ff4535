"""Limits on guessing a room's secrets, from one address and at one room.

Every door into a room asks this one guard: the relay's ``Hello`` (passcode
and facilitator key) and the SSH gateway's login (passcode and seat code).
The threat is online guessing; the rules close the holes a naive "count the
failures" check leaves, without locking out the people who know the secret:

- one budget per source address for every door and every room, and one per
  room for every address (``passcode_rate``, ``room_guess_rate``): a guesser
  cannot add up the doors, nor spread over many addresses without limit;
- a token is taken *before* a guess is checked and given back if the guess
  was right, so only wrong guesses count, and guesses sent in parallel cannot
  all be checked before the first failure is counted;
- the same guess arriving while it is being checked is not checked again: it
  waits for that answer and needs no token, even if that check took the last.
  So the members of a meeting joining at the same moment with its passcode
  (behind one router or proxy, or from anywhere) are all let in: their
  guesses are one guess;
- the facilitator key is a long random secret, not a guess anyone can make:
  its checks count against the address, but a room whose budget others used
  up does not keep its host out;
- the slow hash (scrypt) runs in a thread, at most ``MAX_HASHING`` at once
  for the whole process, so guessers cannot take every core;
- an IPv6 address counts by its /64 (one host usually owns the whole prefix);
- buckets that have refilled are forgotten, so memory stays bounded;
- relay nodes sharing rooms (``circle serve --redis``) share the budgets too
  (a ``SharedBudget``, ``server.redis_budget``), so N nodes do not allow N
  times the guesses. Each node's own buckets stay as a floor under it. If the
  shared budget cannot be reached, the guess is still checked (against the
  node's own budget): a right one gets in, a wrong one is refused as if the
  budget were spent. Fail closed for wrong guesses, never for the member who
  knows the secret.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import hmac
import ipaddress
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from circle_room.protocol.errors import Refused
from circle_room.server.config import Rate
from circle_room.server.limits import TokenBucket

log = logging.getLogger(__name__)

PRUNE_EVERY = 256
"""Attempts between sweeps of full buckets."""
MAX_HASHING = 2
"""Slow hashes (scrypt) in flight at once for the whole process."""
UNREACHABLE_WAIT = 10.0
"""Seconds a wrong guess is told to wait when the shared budget cannot be reached."""


class TooManyAttempts(Refused):
    """No guess allowed now, from this address or at this room; try again in ``wait`` seconds.

    A refusal like any other (code ``too_many_attempts``, ``retry_after`` set),
    so the relay sends it to the client as it is.
    """

    def __init__(self, wait: float, *, room: bool = False) -> None:
        where = " at this room lately" if room else ""
        message = f"Too many wrong passcodes{where}; try again in {max(1, round(wait))} s."
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


class Spend(enum.Enum):
    """What a ``SharedBudget`` made of a request for a guess's tokens."""

    TAKEN = "taken"
    """The address's token is taken, and the room's if it had one (``Spent.room``)."""
    ADDRESS_EMPTY = "address"
    ROOM_EMPTY = "room"
    UNREACHABLE = "unreachable"
    """Nothing could be counted: the shared store did not answer."""


@dataclass(frozen=True)
class Spent:
    outcome: Spend
    wait: float = 0.0
    """Seconds until a token, when a budget was empty."""
    room: bool = False
    """Whether the room's token was taken (a strong secret may go on without one)."""


class SharedBudget(Protocol):
    """Buckets of the same rates held where several relay nodes share them."""

    async def take(self, address: str, room: str, strong: bool) -> Spent:
        """Take one token from ``address``'s bucket and ``room``'s; never raises.

        ``address`` is already an ``address_key``. Nothing is taken unless the
        address has a token and, unless ``strong``, the room has one too.
        """

    async def give_back(self, address: str, room: str | None) -> None:
        """Return the tokens a right guess took (``room`` None: it took none there)."""


class _Check:
    """A guess being checked now; the same guess arriving meanwhile waits for its answer."""

    def __init__(self) -> None:
        self.done = asyncio.Event()
        self.right: bool | None = None
        """None until answered, and if the check never finished (cancelled)."""


class Guard:
    """Guesses per address and per room: ``await guard.check(address, room, verify)``.

    ``verify`` says whether the guess is right; ``slow=True`` runs it in a
    thread under ``hashing``, a semaphore shared by the whole process.
    ``same`` names the guess (``guard.same(...)``) so that identical guesses
    in flight are checked once. ``strong=True`` is for a long random secret
    (the facilitator key): the room's budget never stops its check.
    """

    def __init__(
        self,
        per_address: Rate,
        per_room: Rate,
        clock: Callable[[], float],
        hashing: asyncio.Semaphore,
        shared: SharedBudget | None = None,
    ) -> None:
        self._rates = {False: per_address, True: per_room}
        self._shared = shared
        self._shared_until: dict[tuple[bool, str], float] = {}
        """What the shared budget last said: (is a room, key) -> time it has a token again."""
        self._clock = clock
        self._buckets: dict[tuple[bool, str], TokenBucket] = {}
        """(is a room, address key or room name) -> its bucket."""
        self._checking: dict[bytes, _Check] = {}
        self._hashing = hashing
        self._key = secrets.token_bytes(32)
        self._since_prune = 0

    def same(self, *parts: str) -> bytes:
        """A name for one guess, e.g. ``same("passcode", room, stored_hash, given)``.

        An HMAC under a key made fresh for each process: equal for equal guesses,
        useless to anyone without the process's memory, never the guess itself.
        """
        return hmac.new(self._key, "\0".join(parts).encode(), hashlib.sha256).digest()

    def wait(self, address: str, room: str) -> float | None:
        """Seconds before a guess from ``address`` at ``room`` is checked, or None if now."""
        now = self._clock()
        waits = [self._wait(address, False, now), self._wait(room, True, now)]
        # The shared budget as this node last heard of it: a hint for the
        # doors that ask before a guess; ``check`` asks the shared budget itself.
        for key in ((False, address_key(address)), (True, room)):
            until = self._shared_until.get(key)
            if until is not None and until > now:
                waits.append(until - now)
        return max((w for w in waits if w is not None), default=None)

    async def check(
        self,
        address: str,
        room: str,
        verify: Callable[[], bool],
        *,
        slow: bool = False,
        same: bytes | None = None,
        strong: bool = False,
    ) -> bool:
        """Whether the guess is right; raise ``TooManyAttempts`` if it may not be checked now."""
        checking = self._checking.get(same) if same is not None else None
        if checking is not None:
            # The same guess is being checked, with tokens of its own: its answer
            # tells nobody anything more, so this one needs none, even when that
            # check took the last.
            await checking.done.wait()
            if checking.right is not None:
                return checking.right
            # That check never finished: this guess is checked on its own.
            return await self.check(address, room, verify, slow=slow, same=same, strong=strong)
        now = self._clock()
        self._prune(now)
        by_address = self._bucket(address_key(address), False, now)
        by_room = self._bucket(room, True, now)
        wait = by_address.peek(now)
        if wait is not None:
            raise TooManyAttempts(wait)
        room_wait = by_room.peek(now)
        if room_wait is not None and not strong:
            raise TooManyAttempts(room_wait, room=True)
        by_address.take(now)
        took_room = by_room.take(now) is None
        checking = _Check()
        if same is not None:
            # Before the shared budget is asked: the same guess arriving while it
            # answers waits here instead of taking tokens of its own.
            self._checking[same] = checking
        try:
            spent = await self._spend(address, room, strong, now)
            if spent is not None and spent.outcome in (Spend.ADDRESS_EMPTY, Spend.ROOM_EMPTY):
                # Not checked: this node's tokens go back, the guess was not made.
                by_address.give_back()
                if took_room:
                    by_room.give_back()
                raise TooManyAttempts(spent.wait, room=spent.outcome is Spend.ROOM_EMPTY)
            right = await self._run(verify) if slow else verify()
            checking.right = right
        finally:
            if same is not None:
                del self._checking[same]
            checking.done.set()
        if right:
            by_address.give_back()
            if took_room:
                by_room.give_back()
            if spent is not None and spent.outcome is Spend.TAKEN:
                await self._give_back(address, room if spent.room else None)
        elif spent is not None and spent.outcome is Spend.UNREACHABLE:
            # Uncounted where the other nodes would see it: refuse as if spent.
            raise TooManyAttempts(UNREACHABLE_WAIT)
        return right

    async def _spend(self, address: str, room: str, strong: bool, now: float) -> Spent | None:
        """Take the guess's tokens from the shared budget, if there is one."""
        if self._shared is None:
            return None
        key = address_key(address)
        spent = await self._shared.take(key, room, strong)
        if spent.outcome is Spend.ADDRESS_EMPTY:
            self._shared_until[(False, key)] = now + spent.wait
        elif spent.outcome is Spend.ROOM_EMPTY:
            self._shared_until[(True, room)] = now + spent.wait
        elif spent.outcome is Spend.UNREACHABLE:
            log.warning("the shared guessing budget is unreachable: wrong guesses are refused")
        return spent

    async def _give_back(self, address: str, room: str | None) -> None:
        assert self._shared is not None
        await self._shared.give_back(address_key(address), room)

    async def _run(self, verify: Callable[[], bool]) -> bool:
        async with self._hashing:
            # scrypt is slow on purpose; keep it off the event loop.
            return await asyncio.to_thread(verify)

    def _bucket(self, key: str, room: bool, now: float) -> TokenBucket:
        bucket = self._buckets.get((room, key))
        if bucket is None:
            bucket = self._buckets[(room, key)] = TokenBucket(self._rates[room], now)
        return bucket

    def _wait(self, key: str, room: bool, now: float) -> float | None:
        bucket = self._buckets.get((room, key if room else address_key(key)))
        return bucket.peek(now) if bucket is not None else None

    def _prune(self, now: float) -> None:
        self._since_prune += 1
        if self._since_prune < PRUNE_EVERY:
            return
        self._since_prune = 0
        for key in [k for k, b in self._buckets.items() if b.full(now)]:
            del self._buckets[key]
        for key in [k for k, until in self._shared_until.items() if until <= now]:
            del self._shared_until[key]

    def __len__(self) -> int:
        """Addresses and rooms remembered (for tests and stats)."""
        return len(self._buckets)

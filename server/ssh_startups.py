"""Connections still logging in to the SSH gateway, and which to drop when there are too many.

The threat: connections that open and never log in. Each holds a slot until
its grace runs out, so a hundred of them from one address kept an honest
member at that address out, and about sixty-four addresses kept out
everyone. Refusing newcomers past a limit is exactly what such a flood
wants, so this keeps room for them instead:

- **Random early drop**, as OpenSSH's ``MaxStartups start:rate:full``: past
  ``start`` connections still logging in, each new one makes the gateway
  drop one, with a chance of ``rate`` per cent rising to 100 at ``full``.
- **The one dropped is the oldest connection that has not begun to log in**
  (not yet sent a user name: a real client does that within a second of
  connecting), **from the address that holds the most such**. A newcomer
  from anywhere gets its chance to begin; a flood from one address mostly
  replaces itself. Connections already answering questions are never
  dropped: when every other one is, the newcomer is the one turned away
  (their number is bounded by ``full`` and their time by the login timeout).
- **No address holds more than ``per_address``**: past it, its own oldest
  not-yet-begun connection goes.

With the short grace for beginning to log in (``GatewayConfig.login_grace``),
idle connections go by themselves soon after. Randomness comes in as a
function, so tests choose it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)


@dataclass(frozen=True)
class MaxStartups:
    """OpenSSH's ``MaxStartups start:rate:full``."""

    start: int = 10
    rate: int = 30
    """Per cent chance of a drop when ``start`` connections are logging in."""
    full: int = 100
    """From here on, every newcomer makes the gateway drop one."""

    def drop_chance(self, logging_in: int) -> float:
        """The chance that a newcomer makes a drop, with ``logging_in`` already there."""
        if logging_in < self.start:
            return 0.0
        if logging_in >= self.full:
            return 1.0
        rising = (100 - self.rate) * (logging_in - self.start) / (self.full - self.start)
        return (self.rate + rising) / 100


OPENSSH_MAX_STARTUPS = MaxStartups(start=10, rate=30, full=100)
"""OpenSSH's default, 10:30:100."""


@dataclass
class _Entry:
    address: str
    begun: bool = False


class Startups(Generic[T]):
    """Connections logging in, oldest first: ``arrive``, ``begin``, ``leave``."""

    def __init__(self, limits: MaxStartups, per_address: int, random: Callable[[], float]) -> None:
        self._limits = limits
        self._per_address = per_address
        self._random = random
        self._entries: dict[T, _Entry] = {}
        """In order of arrival: the first is the oldest."""

    def arrive(self, handle: T, address: str) -> list[T]:
        """Count a new connection from ``address``; return the ones to drop to make room.

        What is returned is no longer counted. It may hold ``handle`` itself,
        when every other connection is already answering questions.
        """
        already = len(self._entries)
        self._entries[handle] = _Entry(address)
        if self.from_address(address) > self._per_address:
            return [self._drop(address)]
        chance = self._limits.drop_chance(already)
        if chance and (chance >= 1 or self._random() < chance):
            return [self._drop()]
        return []

    def begin(self, handle: T) -> None:
        """``handle`` has asked to log in (sent a user name): drop it last."""
        entry = self._entries.get(handle)
        if entry is not None:
            entry.begun = True

    def leave(self, handle: T) -> None:
        """``handle`` logged in or went away: no longer counted."""
        self._entries.pop(handle, None)

    def from_address(self, address: str) -> int:
        return sum(1 for e in self._entries.values() if e.address == address)

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, address: str | None = None) -> T:
        """The oldest not yet begun (of ``address``, or of the address with the most such).

        There is always one: the newcomer. It is no longer counted.
        """
        idle = [
            (h, e.address)
            for h, e in self._entries.items()
            if not e.begun and address in (None, e.address)
        ]
        counts = Counter(a for _, a in idle)
        most = max(counts.values())
        victim = next(h for h, a in idle if counts[a] == most)
        del self._entries[victim]
        return victim

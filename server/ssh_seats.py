"""Seats of SSH members, kept across dropped sessions and guarded by a seat code.

A member who joins over SSH loses their client when the session drops (the
gateway kills it). To give them their place back, the gateway keeps the
seat's resume ``Credentials`` for a while. A name alone must not be enough to
take a seat back (anyone with the passcode could claim an away member's
stick, hand, role and private messages), so each seat has a short random
seat code, shown to its member when they join; reclaiming an away seat asks
for it.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from circle_room.protocol.handoff import Credentials

SEAT_CODE_DIGITS = 6


def new_seat_code() -> str:
    """Six digits, e.g. ``402913``: easy to read aloud and type on any keyboard."""
    return f"{secrets.randbelow(10**SEAT_CODE_DIGITS):0{SEAT_CODE_DIGITS}d}"


def seat_code_matches(code: str, given: str) -> bool:
    """Compare in constant time; spaces and dashes a person may add are ignored."""
    cleaned = "".join(ch for ch in given if ch.isdigit())
    return hmac.compare_digest(code.encode(), cleaned.encode())


@dataclass
class Seat:
    """One SSH member's place in one room."""

    room: str
    name: str
    code: str = field(repr=False)
    """Shown to the member; asked for when someone reclaims the seat."""
    credentials: Credentials | None = None
    """How to resume, once a client of this seat has been welcomed."""
    in_use: bool = True
    """A session holds the seat now."""
    released: float = 0.0


class Seats:
    """Seats by room and name. Kept for ``keep`` seconds after their session ends."""

    def __init__(self, keep: float, clock: Callable[[], float]) -> None:
        self._keep = keep
        self._clock = clock
        self._seats: dict[tuple[str, str], Seat] = {}

    def new(self, room: str, name: str) -> Seat:
        """A fresh seat (and code) for ``name``; it replaces any seat kept for that name.

        A seat held by a live session is never replaced: the newcomer's seat is
        then not kept (the relay will refuse the name anyway).
        """
        seat = Seat(room, name, new_seat_code())
        held = self._seats.get((room, name.casefold()))
        if held is None or not held.in_use:
            self._seats[(room, name.casefold())] = seat
        return seat

    def kept(self, room: str, name: str) -> Seat | None:
        """The seat kept for ``name`` while its member is away, if any."""
        now = self._clock()
        for key in [
            k for k, s in self._seats.items() if not s.in_use and now - s.released > self._keep
        ]:
            del self._seats[key]
        seat = self._seats.get((room, name.casefold()))
        return seat if seat is not None and not seat.in_use and seat.credentials else None

    def take(self, seat: Seat) -> None:
        """A session (whose member gave the seat code) holds ``seat`` again."""
        seat.in_use = True

    def release(self, seat: Seat) -> None:
        """The session holding ``seat`` ended: keep it for the member's return."""
        seat.in_use = False
        seat.released = self._clock()

    def __len__(self) -> int:
        return len(self._seats)

"""One-time join tickets: how a seat the SSH gateway let in joins without the passcode.

The gateway runs in the relay's process and has already checked the member's
passcode (under its own per-address limit). Its seats reach the relay over
loopback, all from 127.0.0.1, so sending the real passcode again would put
every SSH member in one wrong-passcode bucket: one person's typos would lock
everyone out. Instead the gateway mints a ticket, and the seat sends it in
``Hello.ticket`` (an optional trailing field: other clients leave it out).
The relay accepts a ticket in place of the passcode when it names the same
room and name, before its expiry, and only once: it is spent when the seat is
welcomed. A hello without a live ticket goes through the ordinary passcode
check and limit, so remote clients gain nothing.

Tickets are 256-bit random strings kept only as hashes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from circle_room.server.store import hash_secret

TICKET_PREFIX = "ticket:"


@dataclass(frozen=True)
class _Ticket:
    room: str
    name: str
    """Casefolded: the only name this ticket may join as."""
    expires: float


class Tickets:
    """Tickets minted by the gateway and redeemed by the relay. Time is passed in."""

    def __init__(self) -> None:
        self._live: dict[str, _Ticket] = {}

    def mint(self, room: str, name: str, now: float, lifetime: float) -> str:
        """A new ticket for ``name`` to join ``room``, valid for ``lifetime`` seconds."""
        self._forget_expired(now)
        ticket = TICKET_PREFIX + secrets.token_urlsafe(32)
        self._live[hash_secret(ticket)] = _Ticket(room, name.casefold(), now + lifetime)
        return ticket

    def valid(self, ticket: str, room: str, name: str, now: float) -> bool:
        """Whether ``ticket`` lets ``name`` into ``room`` now (it is not spent by this)."""
        if not ticket.startswith(TICKET_PREFIX):
            return False
        found = self._live.get(hash_secret(ticket))
        return (
            found is not None
            and found.room == room
            and found.name == name.casefold()
            and now < found.expires
        )

    def spend(self, ticket: str) -> None:
        """The seat was welcomed: the ticket is used up."""
        self._live.pop(hash_secret(ticket), None)

    revoke = spend
    """The session it was minted for ended: it must never be used."""

    def _forget_expired(self, now: float) -> None:
        for key in [k for k, t in self._live.items() if now >= t.expires]:
            del self._live[key]

    def __len__(self) -> int:
        return len(self._live)

"""What the relay observes about people and connections, fed in as commands.

None of these travel on the wire. The relay turns what it sees (a handshake
that passed, a connection that dropped or came back, a grace period that ran
out) into one of these, so that the rule book (``protocol.rules``) judges it
and ``server.decide`` carries it out like any command a member sends: every
change to a room, whoever causes it, goes through the same door.
"""

from __future__ import annotations

from dataclasses import dataclass

from circle_room.protocol.model import Role

MAX_MEMBERS = 500
"""Seats in one room, counting members who are away or waiting (the relay's default)."""


@dataclass(frozen=True)
class Join:
    """A person passed the handshake's credentials check and wants a seat."""

    name: str
    """The name as typed; the rule book cleans and checks it."""
    role: Role = Role.MEMBER
    """FACILITATOR for the holder of the room's key, else MEMBER."""
    agreed: bool = True
    """The person accepted the room's agreements (``Hello.agreed``)."""
    max_members: int = MAX_MEMBERS
    """How many seats the relay gives one room (``RelayConfig.max_members``)."""


@dataclass(frozen=True)
class Disconnect:
    """The member's connection dropped; they may come back within the grace period."""


@dataclass(frozen=True)
class Reconnect:
    """The member resumed on a new connection."""


@dataclass(frozen=True)
class Expire:
    """The grace period ran out while the member was away."""


Observed = Join | Disconnect | Reconnect | Expire

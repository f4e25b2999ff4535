"""Who may take a seat: the rule book's judgement of a ``Join``.

One place decides admission, in the order docs/protocol.md gives: a locked
room (members only), the agreements, a name removed earlier in the meeting
(members only), a full room, then the name itself (not blank, not too long,
not in use). "Removed" and "in use" compare names by how they look
(``protocol.skeleton``), so a lookalike is the same name.
``protocol.rules.why_not`` asks it for every ``Join``; ``server.decide``
seats whoever it admits; the SSH login asks ``name_refusal`` before the rest
of the handshake.

Pure: the room's state and what the relay observed in, a seat or a refusal out.
"""

from __future__ import annotations

from dataclasses import dataclass

from circle_room.protocol.errors import Refused
from circle_room.protocol.model import Presence, Role, RoomState
from circle_room.protocol.observed import Join
from circle_room.protocol.refusals import RefusalCode as Code
from circle_room.protocol.skeleton import looks
from circle_room.protocol.text import checked_name


@dataclass(frozen=True)
class Admission:
    """How a newcomer is seated, once ``admission`` lets them in."""

    name: str
    """Their name, cleaned."""
    presence: Presence
    """WAITING when the room's waiting room holds them, else PRESENT."""


def admission(state: RoomState, join: Join) -> Admission | Refused:
    """Whether ``join`` gets a seat, and how; checked in the documented order.

    Locked (members only), agreements, a name removed earlier (members only),
    room full, then the name itself: not blank or too long, not in use.
    """
    member = join.role is Role.MEMBER
    if member and state.locked:
        return Refused(Code.LOCKED, "The room is locked; ask the facilitator to open it.")
    if state.settings.agreements and not join.agreed:
        return Refused(Code.AGREEMENTS, "Please read and accept the group agreements first.")
    try:
        name = checked_name(join.name)
    except Refused as bad_name:
        # A name that is no name cannot have been removed: only the room being
        # full comes before saying so.
        return _full(state, join) or bad_name
    refused = _removed(state, name, join.role) or _full(state, join) or _taken(state, name)
    if refused is not None:
        return refused
    waiting = state.settings.waiting_room and member
    return Admission(name, Presence.WAITING if waiting else Presence.PRESENT)


def name_refusal(state: RoomState, name: str, role: Role = Role.MEMBER) -> Refused | None:
    """What ``admission`` would say about ``name`` alone: not valid, removed or in use.

    For asking a name before the rest of the handshake (the SSH login does).
    """
    try:
        cleaned = checked_name(name)
    except Refused as bad_name:
        return bad_name
    return _removed(state, cleaned, role) or _taken(state, cleaned)


def _removed(state: RoomState, name: str, role: Role) -> Refused | None:
    if role is Role.MEMBER and not state.removed.isdisjoint(looks(name)):
        return Refused(Code.REMOVED, "You were removed from this meeting.")
    return None


def _full(state: RoomState, join: Join) -> Refused | None:
    if len(state.members) >= join.max_members:
        return Refused(Code.ROOM_FULL, "The room is full.")
    return None


def _taken(state: RoomState, name: str) -> Refused | None:
    taken = state.find_name(name)
    if taken is not None and taken.presence is Presence.AWAY:
        return Refused(
            Code.NAME_TAKEN,
            f"{taken.name}'s seat is being kept for a little while after a dropped connection. "
            "If that is you, your own client takes it back by itself; from a new "
            "terminal, join under another name for now.",
        )
    if taken is not None:
        return Refused(
            # Their name, not the one asked for: a lookalike shows what it looks like.
            Code.NAME_TAKEN,
            f"Someone here is already called {taken.name}; pick another name.",
        )
    return None

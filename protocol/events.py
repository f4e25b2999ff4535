"""Events (tags 40-79): what happened in the room.

An event travels as ``[tag, seq, field...]``; ``seq`` is the room's sequence
number. ``protocol.room.apply`` says how each one changes a ``RoomState``;
``server.audience`` who receives it (every admitted member unless its
docstring says otherwise). ``at`` fields are the relay's clock, seconds since
the Unix epoch: compare them with each other, never with the receiver's clock.
docs/protocol.md, "Events", is the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from circle_room.protocol.model import LeaveReason, Member, Release, Role, Settings, SignalKind, Via


@dataclass(frozen=True)
class MemberJoined:
    """Someone took a seat (presence WAITING if they are in the waiting room).

    The newcomer does not receive their own: their ``Welcome`` holds them.
    """

    TAG: ClassVar[int] = 40
    member: Member
    """The newcomer, with the cleaned name the room knows them by."""


@dataclass(frozen=True)
class MemberAdmitted:
    """A waiting member was let into the circle.

    They receive it too, followed by a ``Snapshot`` with the same seq.
    """

    TAG: ClassVar[int] = 41
    member_id: int
    by: int
    """The facilitator who admitted them."""


@dataclass(frozen=True)
class MemberAway:
    """A member's connection dropped; their seat, hand and stick wait for the grace period."""

    TAG: ClassVar[int] = 42
    member_id: int


@dataclass(frozen=True)
class MemberBack:
    """An away member resumed within the grace period."""

    TAG: ClassVar[int] = 43
    member_id: int


@dataclass(frozen=True)
class MemberLeft:
    """A member is gone for good; they receive it too (before the relay closes them)."""

    TAG: ClassVar[int] = 44
    member_id: int
    reason: LeaveReason
    """Left, a quiet exit, timed out, removed or denied."""
    by: int | None = None
    """The facilitator who released the away seat (reason TIMED_OUT, ended early), else None."""


@dataclass(frozen=True)
class RoleChanged:
    """The host facilitator promoted a member to co-facilitator, or back."""

    TAG: ClassVar[int] = 45
    member_id: int
    role: Role
    by: int
    """The host facilitator."""


@dataclass(frozen=True)
class HandRaised:
    """A member joined the end of the queue."""

    TAG: ClassVar[int] = 46
    member_id: int


@dataclass(frozen=True)
class HandLowered:
    """A member left the queue (not when they got the stick: ``StickGiven`` says that)."""

    TAG: ClassVar[int] = 47
    member_id: int
    by: int
    """Who lowered it: the member themself or a facilitator."""


@dataclass(frozen=True)
class HandsCleared:
    """A facilitator emptied the queue."""

    TAG: ClassVar[int] = 48
    by: int


@dataclass(frozen=True)
class HandMoved:
    """A facilitator moved a raised hand within the queue."""

    TAG: ClassVar[int] = 49
    member_id: int
    position: int
    """The new index, 0 is next; already clamped."""
    by: int


@dataclass(frozen=True)
class StickGiven:
    """A turn begins: the member holds the stick and their hand is lowered."""

    TAG: ClassVar[int] = 50
    member_id: int
    turn_id: int
    """The new turn; ``MeToo``, ``Shared`` and the rest name it."""
    via: Via
    """From the queue, the round, or a facilitator."""
    at: float
    """Relay time the turn began; its share clock starts here unless paused."""
    by: int | None = None
    """The facilitator who gave it, when ``via`` is ``FACILITATOR``."""


@dataclass(frozen=True)
class StickReleased:
    """The holder of turn ``turn_id`` no longer holds the stick."""

    TAG: ClassVar[int] = 51
    member_id: int
    turn_id: int
    reason: Release
    """Yielded, passed, taken by a facilitator, or the holder left."""
    at: float
    """Relay time."""


@dataclass(frozen=True)
class Shared:
    """Words from the holder. Never stored, never part of a snapshot."""

    TAG: ClassVar[int] = 52
    turn_id: int
    member_id: int
    text: str
    """Cleaned by the relay (``protocol.text``)."""


@dataclass(frozen=True)
class MeTooSet:
    """One member's "me too" on turn ``turn_id``, said or taken back.

    Private: only that member receives it, unless the room shows names, and
    then also the speaker and the facilitators.
    """

    TAG: ClassVar[int] = 53
    turn_id: int
    member_id: int
    on: bool
    """Said (True) or taken back (False)."""


@dataclass(frozen=True)
class MeTooCount:
    """How many said "me too" on turn ``turn_id`` now; everyone admitted gets it."""

    TAG: ClassVar[int] = 54
    turn_id: int
    count: int


@dataclass(frozen=True)
class Paused:
    """A facilitator paused the circle; the share clock stops."""

    TAG: ClassVar[int] = 55
    by: int
    message: str
    """Cleaned; never empty (the relay puts in its default)."""
    at: float
    """Relay time."""


@dataclass(frozen=True)
class Resumed:
    """A facilitator ended the pause; the share clock runs again."""

    TAG: ClassVar[int] = 56
    by: int
    at: float
    """Relay time."""


@dataclass(frozen=True)
class RoundStarted:
    """A facilitator started a go-round."""

    TAG: ClassVar[int] = 57
    by: int
    order: tuple[int, ...]
    """Everyone present when it started, the starter included, in circle order."""


@dataclass(frozen=True)
class RoundEnded:
    """The go-round is over."""

    TAG: ClassVar[int] = 58
    by: int | None = None
    """The facilitator who stopped it, or ``None`` when everyone had their turn."""


@dataclass(frozen=True)
class LockChanged:
    """A facilitator locked the room against new members, or opened it."""

    TAG: ClassVar[int] = 59
    locked: bool
    by: int


@dataclass(frozen=True)
class SettingsChanged:
    """A facilitator changed the room's settings (or removed someone: see ``after_removal``)."""

    TAG: ClassVar[int] = 60
    settings: Settings
    """The complete settings now, cleaned."""
    by: int
    after_removal: bool = False
    """The relay turned the waiting room on by itself because ``by`` removed a
    member: from now on newcomers wait, so whoever was removed cannot walk
    back in under a new name. A facilitator may turn it off again."""


@dataclass(frozen=True)
class SignalSent:
    """A private signal; only facilitators and the sender receive it."""

    TAG: ClassVar[int] = 61
    member_id: int
    kind: SignalKind
    at: float
    """Relay time."""


@dataclass(frozen=True)
class SignalSeen:
    """A facilitator answered a member's private signal: "seen".

    Only facilitators and that member receive it.
    """

    TAG: ClassVar[int] = 62
    member_id: int
    """Whose signal."""
    by: int
    """The facilitator who saw it."""


Event = (
    MemberJoined
    | MemberAdmitted
    | MemberAway
    | MemberBack
    | MemberLeft
    | RoleChanged
    | HandRaised
    | HandLowered
    | HandsCleared
    | HandMoved
    | StickGiven
    | StickReleased
    | Shared
    | MeTooSet
    | MeTooCount
    | Paused
    | Resumed
    | RoundStarted
    | RoundEnded
    | LockChanged
    | SettingsChanged
    | SignalSent
    | SignalSeen
)
EVENT_TYPES: tuple[type, ...] = Event.__args__

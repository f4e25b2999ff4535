"""Commands (tags 10-39): what a member asks the room to do.

A command travels as ``[tag, ref, field...]``; ``ref`` lets the sender match
an ``Error``. There is no acknowledgement: success shows up as events. Who may
send which command, and the refusal codes, are docs/protocol.md, "Commands:
who may do what". "Facilitator" below means the host facilitator or a
co-facilitator; "host facilitator" means role FACILITATOR only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from circle_room.protocol.model import Role, Settings, SignalKind


@dataclass(frozen=True)
class Share:
    """Post words to the circle; only the stick holder may, and not while paused."""

    TAG: ClassVar[int] = 10
    text: str
    """The words; the relay cleans them and refuses them if empty or over 4000 characters."""


@dataclass(frozen=True)
class Yield:
    """The holder is done; the stick moves on."""

    TAG: ClassVar[int] = 11


@dataclass(frozen=True)
class Pass:
    """The stick came to you and you would rather not share; no reason needed.

    Only before sharing anything in this turn; afterwards, ``Yield``.
    """

    TAG: ClassVar[int] = 12


@dataclass(frozen=True)
class RaiseHand:
    """Join the end of the queue (not while holding the stick or with a hand up)."""

    TAG: ClassVar[int] = 13


@dataclass(frozen=True)
class LowerHand:
    """Lower your own hand, or (facilitators) someone else's."""

    TAG: ClassVar[int] = 14
    member_id: int | None = None
    """Whose hand; ``None`` (or your own id) means your own."""


@dataclass(frozen=True)
class LowerAllHands:
    """Facilitator: empty the queue."""

    TAG: ClassVar[int] = 15


@dataclass(frozen=True)
class MoveHand:
    """Facilitator: move a raised hand to ``position`` in the queue."""

    TAG: ClassVar[int] = 16
    member_id: int
    """Whose hand."""
    position: int
    """The new index, 0 is next; the relay clamps it to the queue."""


@dataclass(frozen=True)
class MeToo:
    """Say (or unsay) a silent "me too" on the current share; not on your own.

    Asking for the state you are already in changes nothing and is not an
    error, so a client may repeat it after a reconnect.
    """

    TAG: ClassVar[int] = 17
    turn_id: int
    """The turn being answered, so a late click never lands on the next speaker."""
    on: bool = True
    """Say it (True) or take it back (False)."""


@dataclass(frozen=True)
class PauseCircle:
    """Facilitator: freeze the circle with a calm message; the share clock stops."""

    TAG: ClassVar[int] = 18
    message: str = ""
    """At most 200 characters after cleaning; "" means "Let's take a breath."."""


@dataclass(frozen=True)
class ResumeCircle:
    """Facilitator: end the pause; everything is as it was."""

    TAG: ClassVar[int] = 19


@dataclass(frozen=True)
class GiveStick:
    """Facilitator: give the stick to a present member (also while paused).

    Whoever held it loses it (``StickReleased`` TAKEN). During a round this is
    that member's round turn.
    """

    TAG: ClassVar[int] = 20
    member_id: int
    """Who gets the stick."""


@dataclass(frozen=True)
class TakeStick:
    """Facilitator: take the stick back to yourself."""

    TAG: ClassVar[int] = 21


@dataclass(frozen=True)
class StartRound:
    """Facilitator: start a go-round: the stick visits every present member once."""

    TAG: ClassVar[int] = 22


@dataclass(frozen=True)
class StopRound:
    """Facilitator: end the round; the current holder keeps the stick."""

    TAG: ClassVar[int] = 23


@dataclass(frozen=True)
class SendSignal:
    """Tell the facilitators alone how you are."""

    TAG: ClassVar[int] = 24
    kind: SignalKind


@dataclass(frozen=True)
class Leave:
    """Leave the meeting for good (also from the waiting room).

    The relay closes the connection with 1000 after your ``MemberLeft``.
    """

    TAG: ClassVar[int] = 25
    quiet: bool = False
    """A quiet exit: clients show no announcement."""


@dataclass(frozen=True)
class Remove:
    """Facilitator: remove a member; their name cannot rejoin this meeting.

    A co-facilitator cannot remove facilitators or co-facilitators.
    """

    TAG: ClassVar[int] = 26
    member_id: int


@dataclass(frozen=True)
class Lock:
    """Facilitator: lock the room against new members, or open it again."""

    TAG: ClassVar[int] = 27
    locked: bool = True
    """Lock (True) or open (False)."""


@dataclass(frozen=True)
class Admit:
    """Facilitator: let a member in from the waiting room."""

    TAG: ClassVar[int] = 28
    member_id: int


@dataclass(frozen=True)
class Deny:
    """Facilitator: turn a waiting member away; their name cannot rejoin this meeting."""

    TAG: ClassVar[int] = 29
    member_id: int


@dataclass(frozen=True)
class Promote:
    """Host facilitator: make a member a co-facilitator, or (role MEMBER) undo that."""

    TAG: ClassVar[int] = 30
    member_id: int
    role: Role = Role.COFACILITATOR
    """The new role; FACILITATOR comes only with the room's key, so it is refused."""


@dataclass(frozen=True)
class ChangeSettings:
    """Facilitator: replace the room's settings."""

    TAG: ClassVar[int] = 31
    settings: Settings
    """The complete new settings, not a change to merge."""


@dataclass(frozen=True)
class AckSignal:
    """Facilitator: tell a member their private signal was seen.

    Answers the member's latest signal; only the member and the facilitators
    hear of it (``SignalSeen``).
    """

    TAG: ClassVar[int] = 32
    member_id: int
    """Whose signal."""


@dataclass(frozen=True)
class ReleaseSeat:
    """Facilitator: end an away member's grace period now, so their name is free again.

    They leave as if their grace period had run out; only an away seat can be
    released, and a co-facilitator cannot release facilitators or co-facilitators.
    """

    TAG: ClassVar[int] = 33
    member_id: int
    """Whose seat."""


Command = (
    Share
    | Yield
    | Pass
    | RaiseHand
    | LowerHand
    | LowerAllHands
    | MoveHand
    | MeToo
    | PauseCircle
    | ResumeCircle
    | GiveStick
    | TakeStick
    | StartRound
    | StopRound
    | SendSignal
    | Leave
    | Remove
    | Lock
    | Admit
    | Deny
    | Promote
    | ChangeSettings
    | AckSignal
    | ReleaseSeat
)
COMMAND_TYPES: tuple[type, ...] = Command.__args__

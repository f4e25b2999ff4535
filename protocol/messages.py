"""Every message on the wire, as small frozen dataclasses.

Three families share one tag space (``TAG`` on each class):

- control frames (1-9): the handshake and out-of-band replies;
- commands (10-39): what a member asks the room to do, sent as
  ``[tag, ref, field...]`` where ``ref`` lets the member match an ``Error``;
- events (40-79): what happened in the room, sent as ``[tag, seq, field...]``
  where ``seq`` is the room's sequence number.

Fields are encoded positionally in declaration order; a field with a default
may be left off the end of the array, which is how new optional fields are
added without a new protocol version. docs/protocol.md is the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from circle_room.protocol.model import (
    LeaveReason,
    Member,
    Release,
    Role,
    RoomState,
    Settings,
    SignalKind,
    Via,
)

# --- control frames -------------------------------------------------------


@dataclass(frozen=True)
class Greeting:
    """Server -> client, first frame after the websocket opens."""

    TAG: ClassVar[int] = 1
    versions: tuple[int, ...]
    """Protocol versions the server speaks."""
    room: str
    agreements: tuple[str, ...]
    """Group agreements to show and have accepted before sending ``Hello``."""
    needs_passcode: bool
    waiting_room: bool = False
    locked: bool = False
    """No new members are being let in right now (facilitators still may join)."""


@dataclass(frozen=True)
class Resume:
    """Credentials to take back one's place after a dropped connection."""

    token: str
    """The ``token`` from the last ``Welcome``."""
    epoch: str
    """The ``epoch`` from the last ``Welcome``."""
    seq: int
    """The last event ``seq`` this client applied."""


@dataclass(frozen=True)
class Hello:
    """Client -> server, answers ``Greeting``; must arrive within the handshake timeout."""

    TAG: ClassVar[int] = 2
    version: int
    """Chosen from ``Greeting.versions``."""
    name: str = ""
    passcode: str = ""
    key: str = ""
    """The room's facilitator key; empty for members."""
    agreed: bool = False
    """The person accepted the group agreements shown from ``Greeting``."""
    resume: Resume | None = None


@dataclass(frozen=True)
class Welcome:
    """Server -> client: you are in. Events follow, starting after ``seq``."""

    TAG: ClassVar[int] = 3
    version: int
    member_id: int
    token: str
    """Secret for ``Resume``; keep it for this meeting only."""
    epoch: str
    """Identifies this room's event history; changes when history is lost."""
    seq: int
    """Sequence number of the last event folded into ``state``."""
    resumed: bool
    """True: the missed events follow and ``state`` is None; keep your own state.
    False: ``state`` is the room now; anything missed before it is gone for good."""
    state: RoomState | None = None


@dataclass(frozen=True)
class Error:
    """Server -> client: a command was refused or a frame was not understood."""

    TAG: ClassVar[int] = 4
    ref: int
    """The ``ref`` of the command refused, or 0 when not about a command."""
    code: str
    message: str
    retry_after: float | None = None


@dataclass(frozen=True)
class Snapshot:
    """Server -> client: replace your state (sent on admission from the waiting room)."""

    TAG: ClassVar[int] = 5
    seq: int
    state: RoomState


# --- commands -------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    """Post to the circle; only the stick holder may."""

    TAG: ClassVar[int] = 10
    text: str


@dataclass(frozen=True)
class Yield:
    """The holder is done; the stick moves on."""

    TAG: ClassVar[int] = 11


@dataclass(frozen=True)
class Pass:
    """The stick came to you and you would rather not share; no reason needed."""

    TAG: ClassVar[int] = 12


@dataclass(frozen=True)
class RaiseHand:
    TAG: ClassVar[int] = 13


@dataclass(frozen=True)
class LowerHand:
    """Lower your own hand, or (facilitators) someone else's."""

    TAG: ClassVar[int] = 14
    member_id: int | None = None
    """Whose hand; ``None`` means your own."""


@dataclass(frozen=True)
class LowerAllHands:
    TAG: ClassVar[int] = 15


@dataclass(frozen=True)
class MoveHand:
    """Facilitator: move a raised hand to ``position`` (0 is next) in the queue."""

    TAG: ClassVar[int] = 16
    member_id: int
    position: int


@dataclass(frozen=True)
class MeToo:
    """Say (or unsay) a silent "me too" on the current share."""

    TAG: ClassVar[int] = 17
    turn_id: int
    """The turn being answered, so a late click never lands on the next speaker."""
    on: bool = True


@dataclass(frozen=True)
class PauseCircle:
    TAG: ClassVar[int] = 18
    message: str = ""


@dataclass(frozen=True)
class ResumeCircle:
    TAG: ClassVar[int] = 19


@dataclass(frozen=True)
class GiveStick:
    TAG: ClassVar[int] = 20
    member_id: int


@dataclass(frozen=True)
class TakeStick:
    """Facilitator: take the stick back to yourself."""

    TAG: ClassVar[int] = 21


@dataclass(frozen=True)
class StartRound:
    TAG: ClassVar[int] = 22


@dataclass(frozen=True)
class StopRound:
    TAG: ClassVar[int] = 23


@dataclass(frozen=True)
class SendSignal:
    """Tell the facilitators alone how you are."""

    TAG: ClassVar[int] = 24
    kind: SignalKind


@dataclass(frozen=True)
class Leave:
    TAG: ClassVar[int] = 25
    quiet: bool = False


@dataclass(frozen=True)
class Remove:
    """Facilitator: remove a member; they cannot rejoin this meeting."""

    TAG: ClassVar[int] = 26
    member_id: int


@dataclass(frozen=True)
class Lock:
    TAG: ClassVar[int] = 27
    locked: bool = True


@dataclass(frozen=True)
class Admit:
    TAG: ClassVar[int] = 28
    member_id: int


@dataclass(frozen=True)
class Deny:
    TAG: ClassVar[int] = 29
    member_id: int


@dataclass(frozen=True)
class Promote:
    """Facilitator: make a member a co-facilitator, or (role MEMBER) undo that."""

    TAG: ClassVar[int] = 30
    member_id: int
    role: Role = Role.COFACILITATOR


@dataclass(frozen=True)
class ChangeSettings:
    TAG: ClassVar[int] = 31
    settings: Settings


# --- events ---------------------------------------------------------------


@dataclass(frozen=True)
class MemberJoined:
    TAG: ClassVar[int] = 40
    member: Member


@dataclass(frozen=True)
class MemberAdmitted:
    TAG: ClassVar[int] = 41
    member_id: int
    by: int


@dataclass(frozen=True)
class MemberAway:
    TAG: ClassVar[int] = 42
    member_id: int


@dataclass(frozen=True)
class MemberBack:
    TAG: ClassVar[int] = 43
    member_id: int


@dataclass(frozen=True)
class MemberLeft:
    TAG: ClassVar[int] = 44
    member_id: int
    reason: LeaveReason


@dataclass(frozen=True)
class RoleChanged:
    TAG: ClassVar[int] = 45
    member_id: int
    role: Role
    by: int


@dataclass(frozen=True)
class HandRaised:
    TAG: ClassVar[int] = 46
    member_id: int


@dataclass(frozen=True)
class HandLowered:
    TAG: ClassVar[int] = 47
    member_id: int
    by: int
    """Who lowered it: the member themself or a facilitator."""


@dataclass(frozen=True)
class HandsCleared:
    TAG: ClassVar[int] = 48
    by: int


@dataclass(frozen=True)
class HandMoved:
    TAG: ClassVar[int] = 49
    member_id: int
    position: int
    by: int


@dataclass(frozen=True)
class StickGiven:
    """A turn begins: the member holds the stick and their hand is lowered."""

    TAG: ClassVar[int] = 50
    member_id: int
    turn_id: int
    via: Via
    at: float
    by: int | None = None
    """The facilitator who gave it, when ``via`` is ``FACILITATOR``."""


@dataclass(frozen=True)
class StickReleased:
    TAG: ClassVar[int] = 51
    member_id: int
    turn_id: int
    reason: Release
    at: float


@dataclass(frozen=True)
class Shared:
    """Words from the holder. Never stored, never part of a snapshot."""

    TAG: ClassVar[int] = 52
    turn_id: int
    member_id: int
    text: str


@dataclass(frozen=True)
class MeTooSet:
    """One member's "me too"; sent only to them unless the room shows names."""

    TAG: ClassVar[int] = 53
    turn_id: int
    member_id: int
    on: bool


@dataclass(frozen=True)
class MeTooCount:
    TAG: ClassVar[int] = 54
    turn_id: int
    count: int


@dataclass(frozen=True)
class Paused:
    TAG: ClassVar[int] = 55
    by: int
    message: str
    at: float


@dataclass(frozen=True)
class Resumed:
    TAG: ClassVar[int] = 56
    by: int
    at: float


@dataclass(frozen=True)
class RoundStarted:
    TAG: ClassVar[int] = 57
    by: int
    order: tuple[int, ...]


@dataclass(frozen=True)
class RoundEnded:
    TAG: ClassVar[int] = 58
    by: int | None = None
    """The facilitator who stopped it, or ``None`` when everyone had their turn."""


@dataclass(frozen=True)
class LockChanged:
    TAG: ClassVar[int] = 59
    locked: bool
    by: int


@dataclass(frozen=True)
class SettingsChanged:
    TAG: ClassVar[int] = 60
    settings: Settings
    by: int


@dataclass(frozen=True)
class SignalSent:
    """A private signal; only facilitators and the sender receive it."""

    TAG: ClassVar[int] = 61
    member_id: int
    kind: SignalKind
    at: float


Control = Greeting | Hello | Welcome | Error | Snapshot
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
)
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
)

CONTROL_TYPES: tuple[type, ...] = (Greeting, Hello, Welcome, Error, Snapshot)
COMMAND_TYPES: tuple[type, ...] = Command.__args__
EVENT_TYPES: tuple[type, ...] = Event.__args__


@dataclass(frozen=True)
class CommandFrame:
    """A command as sent on the wire, with the sender's reference number."""

    ref: int
    command: Command


@dataclass(frozen=True)
class EventFrame:
    """An event as sent on the wire, with its room sequence number."""

    seq: int
    event: Event


Frame = Greeting | Hello | Welcome | Error | Snapshot | CommandFrame | EventFrame

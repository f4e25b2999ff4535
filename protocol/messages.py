"""Every message on the wire: the one place to import them from.

Three families share one tag space (``TAG`` on each class), each in its own
module:

- ``protocol.control``, control frames (1-9 and 80-89): the handshake and
  out-of-band replies, sent as ``[tag, field...]``; ``Batch`` (80), which
  carries event frames, is defined here beside ``EventFrame``;
- ``protocol.commands``, commands (10-39): what a member asks the room to do,
  sent as ``[tag, ref, field...]`` where ``ref`` lets the member match an
  ``Error``;
- ``protocol.events``, events (40-79): what happened in the room, sent as
  ``[tag, seq, field...]`` where ``seq`` is the room's sequence number.

Every message is a small frozen dataclass. Fields are encoded positionally in
declaration order; a field with a default may be left off the end of the
array, which is how new optional fields are added without a new protocol
version. docs/protocol.md is the reference, and ``tests/protocol/test_docs.py``
keeps its tables in step with these classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from circle_room.protocol.commands import (
    COMMAND_TYPES,
    AckSignal,
    Admit,
    ChangeSettings,
    Command,
    Deny,
    GiveStick,
    Leave,
    Lock,
    LowerAllHands,
    LowerHand,
    MeToo,
    MoveHand,
    Pass,
    PauseCircle,
    Promote,
    RaiseHand,
    ReleaseSeat,
    Remove,
    ResumeCircle,
    SendSignal,
    Share,
    StartRound,
    StopRound,
    TakeStick,
    Yield,
)
from circle_room.protocol.control import (
    CONTROL_TYPES as _CONTROL_TYPES,
)
from circle_room.protocol.control import (
    Control,
    Error,
    Greeting,
    HandOver,
    Hello,
    Hidden,
    HiddenRun,
    Resume,
    Said,
    Snapshot,
    Welcome,
)
from circle_room.protocol.events import (
    EVENT_TYPES,
    Event,
    HandLowered,
    HandMoved,
    HandRaised,
    HandsCleared,
    LockChanged,
    MemberAdmitted,
    MemberAway,
    MemberBack,
    MemberJoined,
    MemberLeft,
    MeTooCount,
    MeTooSet,
    Paused,
    Resumed,
    RoleChanged,
    RoundEnded,
    RoundStarted,
    SettingsChanged,
    Shared,
    SignalSeen,
    SignalSent,
    StickGiven,
    StickReleased,
)

__all__ = [
    "COMMAND_TYPES",
    "CONTROL_TYPES",
    "EVENT_TYPES",
    "AckSignal",
    "Admit",
    "Batch",
    "ChangeSettings",
    "Command",
    "CommandFrame",
    "Control",
    "Deny",
    "Error",
    "Event",
    "EventFrame",
    "Frame",
    "GiveStick",
    "Greeting",
    "HandLowered",
    "HandMoved",
    "HandOver",
    "HandRaised",
    "HandsCleared",
    "Hello",
    "Hidden",
    "HiddenRun",
    "Leave",
    "Lock",
    "LockChanged",
    "LowerAllHands",
    "LowerHand",
    "MeToo",
    "MeTooCount",
    "MeTooSet",
    "MemberAdmitted",
    "MemberAway",
    "MemberBack",
    "MemberJoined",
    "MemberLeft",
    "MoveHand",
    "Pass",
    "PauseCircle",
    "Paused",
    "Promote",
    "RaiseHand",
    "ReleaseSeat",
    "Remove",
    "Resume",
    "ResumeCircle",
    "Resumed",
    "RoleChanged",
    "RoundEnded",
    "RoundStarted",
    "Said",
    "SendSignal",
    "SettingsChanged",
    "Share",
    "Shared",
    "SignalSeen",
    "SignalSent",
    "Snapshot",
    "StartRound",
    "StickGiven",
    "StickReleased",
    "StopRound",
    "TakeStick",
    "Welcome",
    "Yield",
]


@dataclass(frozen=True)
class CommandFrame:
    """A command as sent on the wire, with the sender's reference number."""

    ref: int
    """Chosen by the sender (from 1 up) and copied into an ``Error`` about it."""
    command: Command


@dataclass(frozen=True)
class EventFrame:
    """An event as sent on the wire, with its room sequence number."""

    seq: int
    event: Event


@dataclass(frozen=True)
class Batch:
    """Relay -> client, protocol version 3 on: several frames of one moment in one.

    Sent as ``[80, frame, frame, ...]``, each item a whole frame as it would
    have come alone: apply them in order, exactly as if they had. The relay
    holds a large room's presence events (joins, aways, backs) for a tenth
    of a second and sends what it held together (``server.outbox``).
    """

    TAG: ClassVar[int] = 80
    frames: tuple[EventFrame | Hidden | HiddenRun, ...]
    """The frames, in seq order; never a ``Batch``."""


CONTROL_TYPES: tuple[type, ...] = (*_CONTROL_TYPES, Batch)
"""Every control frame: ``protocol.control``'s and ``Batch``."""

Frame = (
    Greeting
    | Hello
    | Welcome
    | Error
    | Snapshot
    | Hidden
    | HandOver
    | HiddenRun
    | Batch
    | Said
    | CommandFrame
    | EventFrame
)

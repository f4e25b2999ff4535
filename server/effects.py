"""What the room core asks its shell to do, as plain values.

``server.room_core`` decides and never performs: every call returns a list of
these effects, **in the order they must be performed**. The shell
(``server.live_room``) performs them over websockets, SQLite and the event
loop's timers, and nothing else. Seats are named by member id; a shell
delivers to the members whose connection it holds and skips the others, so
every node that follows a room's log can be handed the same effects.

``Save`` always comes before any delivery of the same change: a relay killed
in between must never have told members of something the next relay will
not restore.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from circle_room.protocol.messages import EventFrame
from circle_room.protocol.model import LeaveReason, RoomState, Settings
from circle_room.server.journal import Record
from circle_room.server.snapshot import CircleSnapshot


@dataclass(frozen=True)
class Save:
    """Store this before performing any effect that follows it.

    One effect, so one transaction: the circle and the room's settings are
    saved together or not at all. If saving fails, the shell logs it and goes
    on; the meeting continues and only a crash before the next save loses it.
    """

    circle: CircleSnapshot | None
    """The live circle to restore after a restart; None: the meeting is over, clear it."""
    settings: Settings | None = None
    """New settings, kept for the room's next meetings too; None if unchanged."""
    record: Record | None = None
    """The same change as a journal record: every event since the core's previous
    ``Save``. A shell whose last save was the previous ``Save`` and worked may
    append this instead of writing ``circle``; None: write ``circle``."""


@dataclass(frozen=True)
class Deliver:
    """Send ``data`` as it is to each member of ``readers`` that has a connection here."""

    readers: frozenset[int]
    data: bytes
    """One encoded frame; the same bytes object for every reader (encoded once)."""
    gapless_only: bool = False
    """Only to the connections that asked for ``Hidden`` frames (``Hello.gapless``):
    ``data`` is the ``Hidden`` that stands in for an event the readers may not see."""
    versions: frozenset[int] | None = None
    """Only to the connections that speak one of these protocol versions; None: any
    (``server.versions`` narrows a delivery whose form differs between versions)."""
    frame: EventFrame | None = field(default=None, compare=False, repr=False)
    """The event frame ``data`` encodes, where the core had it at hand: what
    ``server.versions`` reads, so that nothing is decoded again on its way out."""


@dataclass(frozen=True)
class Attach:
    """Seat the connection that is waiting with the resume token hashed to ``token_hash``.

    Send it a ``Welcome`` made of these fields plus the token and protocol
    version that connection brought, then each frame of ``replay`` in order.
    From then on it receives ``member_id``'s deliveries. A shell with no such
    connection waiting does nothing.
    """

    member_id: int
    token_hash: str
    epoch: str
    seq: int
    resumed: bool
    state: RoomState | None
    """The room as this member may see it at ``seq``; None when ``resumed``."""
    replay: tuple[bytes, ...] = ()
    """Encoded event frames after ``seq`` that this member may read."""


@dataclass(frozen=True)
class Close:
    """Close ``member_id``'s connection, if there is one here, and deliver nothing more to it."""

    member_id: int
    code: int
    reason: str


@dataclass(frozen=True)
class StartGrace:
    """Call the core's ``expire(member_id)`` in ``seconds``, unless cancelled first."""

    member_id: int
    seconds: float


@dataclass(frozen=True)
class CancelGrace:
    """The member is back: their grace timer must not fire."""

    member_id: int


@dataclass(frozen=True)
class Vacate:
    """The seat is gone for good: forget what was kept for it (grace timer, rate limits)."""

    member_id: int
    reason: LeaveReason = LeaveReason.LEFT
    """Why the member left, for the relay's log."""


Effect = Save | Deliver | Attach | Close | StartGrace | CancelGrace | Vacate

"""The room's state as plain frozen values.

A ``RoomState`` is everything structural about a circle: who is here, who
holds the stick, the queue, the pause, the round, the settings and who waits
for an answer to a private signal. It never
holds share text: shares travel only as events, so a snapshot (sent to a late
joiner or written to disk) cannot leak what was said.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import Field, dataclass, field
from typing import Any

from circle_room.protocol.skeleton import same_name

OFF_THE_WIRE = {"wire": False}
"""Field metadata: the codec leaves this field out of every message (see ``RoomState.removed``)."""


def on_the_wire(f: Field[Any]) -> bool:
    """Whether the codec sends this dataclass field: all but those marked ``OFF_THE_WIRE``."""
    return bool(f.metadata.get("wire", True))


class Role(enum.IntEnum):
    MEMBER = 0
    COFACILITATOR = 1
    """Promoted by the facilitator; may do everything but promote others."""
    FACILITATOR = 2
    """Joined with the room's facilitator key."""


class Presence(enum.IntEnum):
    PRESENT = 0
    AWAY = 1
    """Connection lost; identity, hand and stick are kept for the grace period."""
    WAITING = 2
    """In the waiting room until a facilitator admits them."""


class Via(enum.IntEnum):
    """How the stick reached its holder."""

    QUEUE = 0
    ROUND = 1
    FACILITATOR = 2


class Release(enum.IntEnum):
    """Why the holder stopped holding the stick."""

    YIELDED = 0
    PASSED = 1
    TAKEN = 2
    """A facilitator took it back or gave it to someone else."""
    LEFT = 3
    """The holder left, was removed, or their grace period ran out."""


class LeaveReason(enum.IntEnum):
    LEFT = 0
    QUIET = 1
    """Quiet exit: clients show no announcement."""
    TIMED_OUT = 2
    """Away for longer than the grace period."""
    REMOVED = 3
    DENIED = 4
    """Not admitted from the waiting room."""


class SignalKind(enum.IntEnum):
    """Private signals a member can send to the facilitators alone."""

    CHECK_IN = 0
    """"I need a check-in"."""
    STEPPING_OUT = 1
    OK = 2
    """"I'm OK"."""


DEFAULT_AGREEMENTS: tuple[str, ...] = (
    "What is shared here stays here.",
    "One person shares at a time; we listen without cross-talk.",
    "It is always OK to pass.",
)


@dataclass(frozen=True)
class Settings:
    """What a facilitator can change about a room."""

    share_limit: int = 0
    """Soft limit per share in seconds; 0 means none. Only ever a nudge."""
    auto_pass: bool = True
    """When the holder yields, the stick goes to the next hand by itself."""
    show_metoo_names: bool = False
    """Whether the speaker sees who said "me too", not only how many."""
    waiting_room: bool = False
    """Newcomers wait until a facilitator admits them."""
    agreements: tuple[str, ...] = DEFAULT_AGREEMENTS
    """Group agreements every member accepts before entering."""


@dataclass(frozen=True)
class Member:
    id: int
    """Unique within the room for the life of the meeting; never reused."""
    name: str
    """Sanitised display name, unique within the room by its look
    (``protocol.skeleton``: case, accents, joiners and lookalikes folded)."""
    role: Role = Role.MEMBER
    presence: Presence = Presence.PRESENT


@dataclass(frozen=True)
class Turn:
    """One holding of the stick: the "current share" listeners respond to."""

    id: int
    holder: int
    via: Via
    started_at: float
    """Server time (seconds since the Unix epoch) the stick was received."""
    elapsed: float = 0.0
    """Seconds of sharing time before ``running_since`` (pauses excluded)."""
    running_since: float | None = None
    """Server time the clock last started; ``None`` while the circle is paused."""
    shares: int = 0
    """How many share messages the holder has posted in this turn."""
    metoo_count: int = 0
    metoo: frozenset[int] = frozenset()
    """Who said "me too": complete on the server; on a client, only what it may see."""

    def elapsed_at(self, now: float) -> float:
        """Seconds shared so far at ``now``, not counting paused time."""
        if self.running_since is None:
            return self.elapsed
        return self.elapsed + max(0.0, now - self.running_since)


@dataclass(frozen=True)
class Pause:
    by: int
    message: str
    since: float


@dataclass(frozen=True)
class Round:
    """A go-round: the stick visits each member in ``remaining`` once, in order."""

    by: int
    remaining: tuple[int, ...]


@dataclass(frozen=True)
class RoomState:
    members: Mapping[int, Member] = field(default_factory=dict)
    """Everyone in the room by id; iteration order is circle order (join order)."""
    queue: tuple[int, ...] = ()
    """Raised hands, first is next. Ordered by the server only."""
    turn: Turn | None = None
    pause: Pause | None = None
    round: Round | None = None
    locked: bool = False
    settings: Settings = Settings()
    next_member_id: int = 1
    next_turn_id: int = 1
    signals: tuple[int, ...] = ()
    """Members whose private signal no facilitator has answered yet, longest waiting
    first. Never the kind of signal: facilitators see everyone here, a member only
    themself, and nobody else learns that anyone signalled."""
    removed: frozenset[str] = field(default=frozenset(), metadata=OFF_THE_WIRE)
    """The skeletons (``protocol.skeleton.looks``) of the names removed or denied
    in this meeting: no name that looks like one of them may join again as a member.
    The relay's alone: never sent (the codec leaves it out), stored with the
    relay's snapshot, forgotten when the last person leaves."""

    @property
    def holder(self) -> int | None:
        return self.turn.holder if self.turn is not None else None

    def member(self, member_id: int) -> Member | None:
        return self.members.get(member_id)

    def is_facilitator(self, member_id: int) -> bool:
        member = self.members.get(member_id)
        return member is not None and member.role is not Role.MEMBER

    def present(self) -> list[Member]:
        """Members in the circle and connected, in circle order."""
        return [m for m in self.members.values() if m.presence is Presence.PRESENT]

    def find_name(self, name: str) -> Member | None:
        """The member whose name would be mistaken for ``name`` (``same_name``), if any."""
        for member in self.members.values():
            if same_name(member.name, name):
                return member
        return None

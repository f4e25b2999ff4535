"""What a client tells its owner, one ``Update`` at a time.

Each event reaches the owner already folded into the client's ``Meeting``
(``tui.client.model``), with the room as it was before and after and the
sentences that say what it meant, so no skin applies or words it again.
How a connection ended is carried as types (``CloseCode``, ``RefusalCode``),
never as English to search.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from circle_room.protocol.close_codes import CloseCode
from circle_room.protocol.messages import Error, Event
from circle_room.protocol.model import RoomState
from circle_room.protocol.refusals import RefusalCode
from circle_room.tui.client.narrator import Line


class Status(enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


@dataclass(frozen=True)
class Received:
    """An event from the room, folded once into the client's ``Meeting``."""

    seq: int
    event: Event
    before: RoomState
    after: RoomState
    """The room just before and just after the event, as this member sees it."""
    lines: tuple[Line, ...] = ()
    """What the event means to this member, in words."""


@dataclass(frozen=True)
class StatusChanged:
    status: Status
    attempt: int = 0
    """Reconnection attempt number while ``RECONNECTING``."""
    detail: str = ""
    """Why, in words, for people: the close reason or the error that ended an attempt."""
    close: CloseCode | None = None
    """``CLOSED`` by the relay: its close code, when it is one of ours."""
    refusal: RefusalCode | None = None
    """``CLOSED`` because the relay refused to take the seat back: why."""

    @property
    def removed(self) -> bool:
        """Closed because a facilitator removed this member (or did not admit them)."""
        return self.close is CloseCode.REMOVED or self.refusal is RefusalCode.REMOVED


@dataclass(frozen=True)
class Resynced:
    """The state was replaced wholesale; events before it may have been missed."""

    state: RoomState
    gap: bool
    """True when this followed a reconnect that could not replay what was missed."""
    member_id: int = 0
    """Who we are now: a new id when the seat was gone and we joined afresh."""
    lines: tuple[Line, ...] = ()
    """What it means to this member, in words."""


Update = Received | Error | StatusChanged | Resynced

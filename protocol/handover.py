"""Compact frames (protocol version 3) and back as the events they stand for.

The room's log, its seqs and ``apply`` know only ``StickReleased``,
``StickGiven`` and ``Shared``: ``HandOver`` and ``Said`` are ways to send
them, not new events. So every node, replay and version-1 client sees the
same events, and a version-3 client folds exactly what it would have folded
from the full frames.

Both leave out what the receiver's room already holds (its current turn and
its ``next_turn_id``), so both directions take that room: ``join`` and
``said`` return None when the events do not match it, and the relay then
sends the full frames.
"""

from __future__ import annotations

import math

from circle_room.protocol.control import HandOver, Said
from circle_room.protocol.events import Shared, StickGiven, StickReleased
from circle_room.protocol.messages import Batch, EventFrame, Frame
from circle_room.protocol.model import RoomState


def join(released: EventFrame, given: EventFrame, room: RoomState) -> HandOver | None:
    """The two frames as one for a receiver whose room is ``room``, else None.

    That is: a ``StickReleased`` of ``room``'s current turn by its holder,
    followed at the next seq by a ``StickGiven`` of turn ``room.next_turn_id``
    with the same relay time.
    """
    old, new = released.event, given.event
    if not isinstance(old, StickReleased) or not isinstance(new, StickGiven):
        return None
    if given.seq != released.seq + 1 or old.at != new.at:
        return None
    turn = room.turn
    if turn is None or (turn.holder, turn.id) != (old.member_id, old.turn_id):
        return None
    if new.turn_id != room.next_turn_id:
        return None
    return HandOver(given.seq, new.member_id, old.reason, new.via, math.floor(new.at), new.by)


def split(frame: HandOver, room: RoomState) -> tuple[EventFrame, EventFrame] | None:
    """The ``StickReleased`` and ``StickGiven`` that ``frame`` stands for in ``room``, in order.

    None if ``room`` has no current turn: the frame is not for this room.
    """
    turn = room.turn
    if turn is None:
        return None
    at = float(frame.at)
    released = StickReleased(turn.holder, turn.id, frame.reason, at)
    given = StickGiven(frame.member_id, room.next_turn_id, frame.via, at, frame.by)
    return EventFrame(frame.seq - 1, released), EventFrame(frame.seq, given)


def said(shared: EventFrame, room: RoomState) -> Said | None:
    """``shared`` as a ``Said`` for a receiver whose room is ``room``, else None.

    That is: a ``Shared`` by the holder of ``room``'s current turn, in that turn.
    """
    event = shared.event
    if not isinstance(event, Shared):
        return None
    turn = room.turn
    if turn is None or (turn.holder, turn.id) != (event.member_id, event.turn_id):
        return None
    return Said(shared.seq, event.text)


def expand(frame: Said, room: RoomState) -> EventFrame | None:
    """The ``Shared`` that ``frame`` stands for in ``room``; None if it has no current turn."""
    turn = room.turn
    if turn is None:
        return None
    return EventFrame(frame.seq, Shared(turn.id, turn.holder, frame.text))


def standing_for(frame: Frame, room: RoomState) -> list[Frame]:
    """The frames ``frame`` stands for to a receiver whose room is ``room``, in order.

    A ``Batch`` is its frames; a ``HandOver`` its two event frames and a
    ``Said`` its ``Shared``, or nothing when ``room`` has no current turn
    (the frame is not for this room); anything else is itself. A batch never
    holds a compact frame, so its frames need no room.
    """
    if isinstance(frame, Batch):
        return list(frame.frames)
    if isinstance(frame, HandOver):
        return list(split(frame, room) or ())
    if isinstance(frame, Said):
        shared = expand(frame, room)
        return [shared] if shared is not None else []
    return [frame]

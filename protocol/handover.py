"""A hand-over as one frame (protocol version 2) and back as its two events.

The room's log, its seqs and ``apply`` know only ``StickReleased`` and
``StickGiven``: ``HandOver`` is a way to send the pair, not a new event. So
every node, replay and version-1 client sees the same two events, and a
version-2 client folds exactly what it would have folded from two frames.
"""

from __future__ import annotations

from circle_room.protocol.control import HandOver
from circle_room.protocol.events import StickGiven, StickReleased
from circle_room.protocol.messages import EventFrame


def join(released: EventFrame, given: EventFrame) -> HandOver | None:
    """The two frames as one, or None unless they are one moment's hand-over.

    That is: a ``StickReleased`` followed at the next seq by a ``StickGiven``
    with the same relay time.
    """
    old, new = released.event, given.event
    if not isinstance(old, StickReleased) or not isinstance(new, StickGiven):
        return None
    if given.seq != released.seq + 1 or old.at != new.at:
        return None
    return HandOver(
        seq=given.seq,
        released=old.member_id,
        released_turn=old.turn_id,
        reason=old.reason,
        member_id=new.member_id,
        turn_id=new.turn_id,
        via=new.via,
        at=new.at,
        by=new.by,
    )


def split(frame: HandOver) -> tuple[EventFrame, EventFrame]:
    """The ``StickReleased`` and ``StickGiven`` that ``frame`` stands for, in order."""
    released = StickReleased(frame.released, frame.released_turn, frame.reason, frame.at)
    given = StickGiven(frame.member_id, frame.turn_id, frame.via, frame.at, frame.by)
    return EventFrame(frame.seq - 1, released), EventFrame(frame.seq, given)

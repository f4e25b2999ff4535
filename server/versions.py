"""What each protocol version receives of a change: its deliveries, narrowed by version.

The room core encodes each event once and returns one ``Deliver`` per event
and audience, as version 3 has it (docs/protocol.md, "Version history"). A
few things differ between versions, and ``for_versions`` rewrites a change's
effects for them; every form of a frame is still encoded once for all its
readers, never once per connection:

- a hand-over (``StickReleased`` then ``StickGiven``, one moment): version 3
  takes it as one compact ``HandOver`` frame (``protocol.handover``), version
  1 as the two event frames;
- a ``Shared``: version 3 takes it as ``Said``, the text without the turn and
  the member its room already knows;
- ``MeTooCount``, whose audience is the speaker and the facilitators
  (``server.audience``): version 1 sent it to everyone admitted, so a
  version-1 connection still gets it where version 3 gets a ``Hidden``;
- two private events in a row (a "me too" and its count): a version-3
  connection that asked for every seq and may see neither gets one
  ``HiddenRun`` in place of two ``Hidden``s.

The compact forms leave out what every reader's room holds, so
``for_versions`` takes the room as the change found it and follows its turn
through the change. It decodes only the kinds of frame above and those that
end a turn, found by their tag.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from circle_room.protocol import COMPACT, PROTOCOL_VERSIONS
from circle_room.protocol.codec import decode, encode
from circle_room.protocol.handover import join, said
from circle_room.protocol.messages import (
    EventFrame,
    Hidden,
    HiddenRun,
    MemberLeft,
    MeTooCount,
    Shared,
    StickGiven,
    StickReleased,
)
from circle_room.protocol.model import RoomState
from circle_room.protocol.room import apply
from circle_room.server.effects import Deliver, Effect

OLD = frozenset(v for v in PROTOCOL_VERSIONS if v < COMPACT)
"""Versions that take every event as its own frame, and every ``MeTooCount``."""
NEW = frozenset(v for v in PROTOCOL_VERSIONS if v >= COMPACT)
COUNT = MeTooCount.TAG
_TURNS = frozenset({StickGiven.TAG, StickReleased.TAG, MemberLeft.TAG})
"""Events that may change a room's current turn or its next turn id."""


def tag_of(data: bytes) -> int | None:
    """The tag of an encoded frame, read without decoding it, or None."""
    # A frame is a msgpack array of at most 15 items (0x90-0x9f), then a fixint tag.
    if len(data) < 2 or data[0] & 0xF0 != 0x90:
        return None
    return data[1]


def for_versions(effects: Sequence[Effect], room: RoomState) -> list[Effect]:
    """``effects`` with each delivery in the form each version reads.

    ``room`` is the room as it was before the change: what every reader's
    client holds (for its current turn and ``next_turn_id``).
    """
    out: list[Effect] = []
    i = 0
    while i < len(effects):
        effect = effects[i]
        following = effects[i + 1] if i + 1 < len(effects) else None
        tag = _tag(effect)
        if tag == StickReleased.TAG and following is not None:
            joined = _hand_over(effect, following, room)
            if joined is not None:
                out += joined[0]
                room = _turned(_turned(room, joined[1]), joined[2])
                i += 2
                continue
        if tag in _TURNS:
            assert isinstance(effect, Deliver)
            room = _turned(room, _event_frame(effect))
        elif tag == Shared.TAG:
            assert isinstance(effect, Deliver)
            out += _said(effect, room)
            i += 1
            continue
        elif tag == COUNT and _is_hidden(following):
            # Everyone else hears only that the seq is taken; version 1 hears the count.
            assert isinstance(effect, Deliver) and isinstance(following, Deliver)
            out += [
                effect,
                replace(effect, readers=following.readers, versions=OLD),
                replace(following, versions=NEW),
            ]
            i += 2
            continue
        out.append(effect)
        i += 1
    return _hidden_together(out)


def _hidden_together(effects: list[Effect]) -> list[Effect]:
    """Each pair of ``Hidden`` deliveries for seqs in a row, as one frame to version 2."""
    seqs = {i: _hidden_seq(e) for i, e in enumerate(effects)}
    where = {seq: i for i, seq in seqs.items() if seq is not None}
    instead: dict[int, list[Deliver]] = {}
    for first, seq in seqs.items():
        second = where.get(seq + 1) if seq is not None else None
        if seq is None or second is None or first in instead:
            continue
        one, two = effects[first], effects[second]
        assert isinstance(one, Deliver) and isinstance(two, Deliver)
        both = one.readers & two.readers
        if not both or one.versions is not None or two.versions not in (None, NEW):
            continue
        # Who would get both: version 1 as before, version 2 one frame for the two seqs.
        instead[first] = [
            replace(one, readers=one.readers - both),
            replace(one, readers=both, versions=OLD),
        ]
        instead[second] = [replace(two, readers=two.readers - both)]
        if two.versions is None:
            instead[second].append(replace(two, readers=both, versions=OLD))
        joined = Deliver(both, encode(HiddenRun(seq + 1, 2)), gapless_only=True, versions=NEW)
        instead[second].append(joined)
    out: list[Effect] = []
    for i, effect in enumerate(effects):
        if i in instead:
            out += [d for d in instead[i] if d.readers]
        else:
            out.append(effect)
    return out


def _hidden_seq(effect: Effect) -> int | None:
    if not (
        isinstance(effect, Deliver) and effect.gapless_only and tag_of(effect.data) == Hidden.TAG
    ):
        return None
    assert isinstance(effect, Deliver)
    frame = decode(effect.data)
    assert isinstance(frame, Hidden)
    return frame.seq


def _tag(effect: Effect | None) -> int | None:
    if not isinstance(effect, Deliver) or effect.gapless_only or effect.versions is not None:
        return None
    return tag_of(effect.data)


def _is_hidden(effect: Effect | None) -> bool:
    """A core's ``Hidden`` delivery (to every version)."""
    return (
        isinstance(effect, Deliver)
        and effect.gapless_only
        and effect.versions is None
        and tag_of(effect.data) == Hidden.TAG
    )


def _event_frame(effect: Deliver) -> EventFrame | None:
    if effect.frame is not None:
        return effect.frame
    frame = decode(effect.data)
    return frame if isinstance(frame, EventFrame) else None


def _turned(room: RoomState, frame: EventFrame | None) -> RoomState:
    """``room`` after ``frame``, as far as its turn and next turn id go."""
    if frame is None:
        return room
    event = frame.event
    if isinstance(event, MemberLeft):
        # Not ``apply``: copying the members for every leave is not needed here.
        if room.turn is not None and room.turn.holder == event.member_id:
            return replace(room, turn=None)
        return room
    if isinstance(event, (StickGiven, StickReleased)):
        return apply(room, event)
    return room


def _said(shared: Deliver, room: RoomState) -> list[Effect]:
    frame = _event_frame(shared)
    compact = None if frame is None else said(frame, room)
    if compact is None:
        return [shared]
    return [
        replace(shared, versions=OLD),
        Deliver(shared.readers, encode(compact), versions=NEW),
    ]


def _hand_over(
    released: Effect, given: Effect, room: RoomState
) -> tuple[list[Effect], EventFrame, EventFrame] | None:
    if _tag(given) is None:
        return None
    assert isinstance(released, Deliver) and isinstance(given, Deliver)
    if given.readers != released.readers:
        return None
    first, second = _event_frame(released), _event_frame(given)
    if first is None or second is None:
        return None
    frame = join(first, second, room)
    if frame is None:
        return None
    effects: list[Effect] = [
        replace(released, versions=OLD),
        replace(given, versions=OLD),
        Deliver(released.readers, encode(frame), versions=NEW),
    ]
    return effects, first, second

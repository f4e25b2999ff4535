"""Compact frames (version 3) fold exactly as the events they stand for, in the room they name."""

from __future__ import annotations

import math
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from circle_room.protocol.codec import decode, encode
from circle_room.protocol.handover import expand, join, said, split, standing_for
from circle_room.protocol.messages import (
    Batch,
    EventFrame,
    HandOver,
    Hidden,
    Said,
    Shared,
    StickGiven,
    StickReleased,
)
from circle_room.protocol.model import Member, Release, RoomState, Via
from circle_room.protocol.room import apply, apply_all

ids = st.integers(min_value=1, max_value=2**31)
times = st.floats(min_value=0, max_value=4e9, allow_nan=False)
seqs = st.integers(min_value=1, max_value=2**53 - 2)
texts = st.text(max_size=200)


@st.composite
def moments(draw: st.DrawFn) -> tuple[RoomState, EventFrame, EventFrame]:
    """A room whose holder yields (or passes, or is taken from) and the pair the relay decides.

    The stick goes straight on to the next hand, at one relay time.
    """
    holder, turn_id, other = draw(ids), draw(ids), draw(ids)
    people = draw(st.lists(ids, max_size=5, unique=True))
    members = {i: Member(i, f"m{i}") for i in [holder, other, *people]}
    start, at = draw(times), draw(times)
    room = apply_all(
        RoomState(members=members, queue=(other, *people), next_turn_id=turn_id),
        [StickGiven(holder, turn_id, Via.QUEUE, start)],
    )
    room = apply(room, Shared(turn_id, holder, "hi"))
    seq = draw(seqs)
    via = draw(st.sampled_from(Via))
    by = draw(ids) if via is Via.FACILITATOR else None
    released = StickReleased(holder, turn_id, draw(st.sampled_from(Release)), at)
    given_ = StickGiven(other, room.next_turn_id, via, at, by)
    return room, EventFrame(seq, released), EventFrame(seq + 1, given_)


def whole(frame: EventFrame) -> EventFrame:
    """``frame`` with its relay time in whole seconds, as a hand-over carries it."""
    event = frame.event
    assert isinstance(event, (StickReleased, StickGiven))
    return EventFrame(frame.seq, replace(event, at=float(math.floor(event.at))))


@given(moments())
def test_a_hand_over_round_trips_through_the_wire(
    moment: tuple[RoomState, EventFrame, EventFrame],
) -> None:
    room, *pair = moment
    frame = join(pair[0], pair[1], room)
    assert frame is not None and frame.seq == pair[1].seq
    back = decode(encode(frame))
    assert back == frame
    assert isinstance(back, HandOver)
    assert split(back, room) == (whole(pair[0]), whole(pair[1]))


@given(moments())
def test_it_is_smaller_than_the_pair_it_replaces(
    moment: tuple[RoomState, EventFrame, EventFrame],
) -> None:
    room, released, given_ = moment
    frame = join(released, given_, room)
    assert frame is not None
    assert len(encode(frame)) < (len(encode(released)) + len(encode(given_))) / 2


@given(moments())
def test_folding_it_agrees_with_folding_the_pair(
    moment: tuple[RoomState, EventFrame, EventFrame],
) -> None:
    room, released, given_ = moment
    frame = join(released, given_, room)
    assert frame is not None
    parts = split(decode(encode(frame)), room)  # type: ignore[arg-type]
    assert parts is not None
    via_frame = apply_all(room, [f.event for f in parts])
    assert via_frame == apply_all(room, [whole(released).event, whole(given_).event])


@given(moments(), times, ids)
def test_only_what_the_room_implies_is_joined(
    moment: tuple[RoomState, EventFrame, EventFrame], later: float, stranger: int
) -> None:
    room, released, given_ = moment
    assert join(given_, released, room) is None
    assert join(released, EventFrame(given_.seq + 1, given_.event), room) is None
    old, new = released.event, given_.event
    assert isinstance(old, StickReleased) and isinstance(new, StickGiven)
    if later != new.at:
        moved = EventFrame(given_.seq, replace(new, at=later))
        assert join(released, moved, room) is None
    # Someone else's turn, another turn, a turn id the room would not give, no turn.
    assert room.turn is not None
    if stranger != old.member_id:
        other = EventFrame(released.seq, replace(old, member_id=stranger))
        assert join(other, given_, room) is None
    if stranger != old.turn_id:
        other = EventFrame(released.seq, replace(old, turn_id=stranger))
        assert join(other, given_, room) is None
    if stranger != new.turn_id:
        other = EventFrame(given_.seq, replace(new, turn_id=stranger))
        assert join(released, other, room) is None
    assert join(released, given_, replace(room, turn=None)) is None
    frame = join(released, given_, room)
    assert frame is not None and split(frame, replace(room, turn=None)) is None


@given(moments(), texts, seqs)
def test_a_share_said_folds_as_the_share(
    moment: tuple[RoomState, EventFrame, EventFrame], text: str, seq: int
) -> None:
    room = moment[0]
    assert room.turn is not None
    shared = EventFrame(seq, Shared(room.turn.id, room.turn.holder, text))
    frame = said(shared, room)
    assert frame == Said(seq, text)
    back = decode(encode(frame))
    assert isinstance(back, Said)
    assert expand(back, room) == shared
    assert len(encode(frame)) < len(encode(shared))


@given(moments(), texts, ids)
def test_only_the_holders_share_in_their_turn_is_said(
    moment: tuple[RoomState, EventFrame, EventFrame], text: str, stranger: int
) -> None:
    room = moment[0]
    assert room.turn is not None
    turn_id, holder = room.turn.id, room.turn.holder
    if stranger != holder:
        assert said(EventFrame(5, Shared(turn_id, stranger, text)), room) is None
    if stranger != turn_id:
        assert said(EventFrame(5, Shared(stranger, holder, text)), room) is None
    assert said(EventFrame(5, Shared(turn_id, holder, text)), replace(room, turn=None)) is None
    assert expand(Said(5, text), replace(room, turn=None)) is None


def test_the_golden_bytes() -> None:
    assert encode(HandOver(8, 2, Release.YIELDED, Via.QUEUE, 1_700_000_000)) == bytes.fromhex(
        "970708020000ce6553f100c0"
    )
    assert encode(Said(9, "hi")) == bytes.fromhex("930909a26869")


@given(moments(), texts)
def test_a_frame_stands_for_what_split_expand_or_its_batch_hold(
    moment: tuple[RoomState, EventFrame, EventFrame], text: str
) -> None:
    room, released, given_ = moment
    hand_over = join(released, given_, room)
    assert hand_over is not None
    assert standing_for(hand_over, room) == list(split(hand_over, room) or ())
    share = Said(given_.seq + 1, text)
    assert standing_for(share, room) == [expand(share, room)]
    hidden = Hidden(given_.seq + 2)
    assert standing_for(Batch((released, given_, hidden)), room) == [released, given_, hidden]
    assert standing_for(released, room) == [released]
    # Not for this room (no current turn): they stand for nothing.
    assert standing_for(hand_over, RoomState()) == standing_for(share, RoomState()) == []

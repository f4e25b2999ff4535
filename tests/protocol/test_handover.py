"""A hand-over frame (version 2) folds exactly as the two events it stands for."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from circle_room.protocol.codec import decode, encode
from circle_room.protocol.handover import join, split
from circle_room.protocol.messages import EventFrame, HandOver, Shared, StickGiven, StickReleased
from circle_room.protocol.model import Member, Release, RoomState, Via
from circle_room.protocol.room import apply_all

ids = st.integers(min_value=0, max_value=2**31)
times = st.floats(min_value=0, max_value=4e9, allow_nan=False)
seqs = st.integers(min_value=1, max_value=2**53 - 2)


@st.composite
def pairs(draw: st.DrawFn) -> tuple[EventFrame, EventFrame]:
    """A yield (or pass, or take) that hands the stick straight on, as the relay decides it."""
    seq, at = draw(seqs), draw(times)
    released = StickReleased(draw(ids), draw(ids), draw(st.sampled_from(Release)), at)
    via = draw(st.sampled_from(Via))
    by = draw(ids) if via is Via.FACILITATOR else None
    given_ = StickGiven(draw(ids), draw(ids), via, at, by)
    return EventFrame(seq, released), EventFrame(seq + 1, given_)


@given(pairs())
def test_a_hand_over_round_trips_through_the_wire(pair: tuple[EventFrame, EventFrame]) -> None:
    frame = join(*pair)
    assert frame is not None and frame.seq == pair[1].seq
    back = decode(encode(frame))
    assert back == frame
    assert split(frame) == pair


@given(pairs())
def test_it_is_smaller_than_the_pair_it_replaces(pair: tuple[EventFrame, EventFrame]) -> None:
    frame = join(*pair)
    assert frame is not None
    assert len(encode(frame)) < len(encode(pair[0])) + len(encode(pair[1]))


@given(pairs(), st.lists(ids, min_size=1, max_size=6, unique=True))
def test_folding_it_agrees_with_folding_the_pair(
    pair: tuple[EventFrame, EventFrame], people: list[int]
) -> None:
    # A room where the releasing member holds the stick of the released turn.
    released = pair[0].event
    assert isinstance(released, StickReleased)
    members = {i: Member(i, f"m{i}") for i in [*people, released.member_id]}
    start = apply_all(
        RoomState(members=members, queue=tuple(people)),
        [StickGiven(released.member_id, released.turn_id, Via.QUEUE, released.at - 1)],
    )
    start = apply_all(start, [Shared(released.turn_id, released.member_id, "hi")])
    frame = join(*pair)
    assert frame is not None
    via_frame = apply_all(start, [f.event for f in split(decode(encode(frame)))])  # type: ignore[arg-type]
    assert via_frame == apply_all(start, [f.event for f in pair])


@given(pairs(), times)
def test_only_one_moment_is_joined(pair: tuple[EventFrame, EventFrame], later: float) -> None:
    released, given_ = pair
    assert join(given_, released) is None
    assert join(released, EventFrame(given_.seq + 1, given_.event)) is None
    event = given_.event
    assert isinstance(event, StickGiven)
    if later != event.at:
        moved = StickGiven(event.member_id, event.turn_id, event.via, later, event.by)
        assert join(released, EventFrame(given_.seq, moved)) is None


def test_the_golden_bytes() -> None:
    frame = HandOver(8, 1, 1, Release.YIELDED, 2, 2, Via.QUEUE, 1.5)
    assert encode(frame) == bytes.fromhex(
        "9a07080101000202 00cb3ff8000000000000c0".replace(" ", "")
    )

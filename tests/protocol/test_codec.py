"""The msgpack codec: every frame round-trips, and hostile bytes only raise DecodeError."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from typing import Any, Union

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circle_room.protocol.codec import batch, decode, decode_state, encode, encode_state
from circle_room.protocol.errors import DecodeError, LocalProtocolError
from circle_room.protocol.messages import (
    COMMAND_TYPES,
    CONTROL_TYPES,
    EVENT_TYPES,
    Batch,
    CommandFrame,
    Error,
    EventFrame,
    Greeting,
    Hello,
    Hidden,
    HiddenRun,
    LowerHand,
    MemberAway,
    MemberJoined,
    MeToo,
    MeTooCount,
    Resume,
    Shared,
    StickGiven,
    Welcome,
    Yield,
)
from circle_room.protocol.model import (
    Member,
    Presence,
    Role,
    RoomState,
    Turn,
    Via,
    on_the_wire,
)

MAX_COUNTER = 2**53 - 1
"""Largest ref or seq the codec accepts."""

# --- strategies built from the dataclasses' own type hints ----------------------------

_ints = st.integers(min_value=-(2**63), max_value=2**64 - 1)
"""Every integer msgpack can carry; plain int fields are not range-checked."""


def strategy_for(tp: Any) -> st.SearchStrategy[Any]:
    """A strategy for any type used in a message field."""
    if tp is bool:
        return st.booleans()
    if tp is int:
        return _ints
    if tp is float:
        return st.floats(allow_nan=False)
    if tp is str:
        return st.text(max_size=40)
    if isinstance(tp, type) and issubclass(tp, enum.IntEnum):
        return st.from_type(tp)
    if tp is RoomState:
        return room_states()
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return builds(tp)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, types.UnionType):
        return st.one_of(*(strategy_for(a) for a in args))
    if tp is type(None):
        return st.none()
    if origin is tuple:
        return st.lists(strategy_for(args[0]), max_size=5).map(tuple)
    if origin is frozenset:
        return st.frozensets(strategy_for(args[0]), max_size=5)
    raise AssertionError(f"no strategy for {tp!r}")


def builds(cls: type) -> st.SearchStrategy[Any]:
    """``st.builds`` for a message dataclass, every field drawn from its hint."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: strategy_for(hints[f.name]) for f in dataclasses.fields(cls) if f.init}
    return st.builds(cls, **fields)


def room_states() -> st.SearchStrategy[RoomState]:
    """Room states whose ``members`` are keyed by each member's own id."""
    members = st.lists(builds(Member), max_size=6, unique_by=lambda m: m.id).map(
        lambda ms: {m.id: m for m in ms}
    )
    hints = typing.get_type_hints(RoomState)
    others = {
        f.name: strategy_for(hints[f.name])
        for f in dataclasses.fields(RoomState)
        if f.name != "members" and on_the_wire(f)
    }
    return st.builds(RoomState, members=members, **others)


counters = st.integers(min_value=0, max_value=MAX_COUNTER)


def frames_of(cls: type) -> st.SearchStrategy[Any]:
    """Wire frames carrying an instance of ``cls``."""
    if cls is Batch:
        held = st.one_of(*(frames_of(e) for e in EVENT_TYPES), builds(Hidden), builds(HiddenRun))
        return st.lists(held, max_size=4).map(lambda frames: Batch(tuple(frames)))
    if cls in CONTROL_TYPES:
        return builds(cls)
    if cls in COMMAND_TYPES:
        return st.builds(CommandFrame, counters, builds(cls))
    return st.builds(EventFrame, counters, builds(cls))


ALL_TYPES = (*CONTROL_TYPES, *COMMAND_TYPES, *EVENT_TYPES)


def tag(cls: type) -> int:
    value = vars(cls)["TAG"]
    assert isinstance(value, int)
    return value


# --- round trips ----------------------------------------------------------------------


def test_tags_are_unique_and_in_their_family_ranges() -> None:
    tags = [tag(cls) for cls in ALL_TYPES]
    assert len(tags) == len(set(tags))
    assert all(1 <= tag(cls) <= 9 or 80 <= tag(cls) <= 89 for cls in CONTROL_TYPES)
    assert all(10 <= tag(cls) <= 39 for cls in COMMAND_TYPES)
    assert all(40 <= tag(cls) <= 79 for cls in EVENT_TYPES)
    assert len(COMMAND_TYPES) == 24
    assert len(EVENT_TYPES) == 23
    # New messages go at the end of their family's range, after every old tag.
    assert [tag(cls) for cls in COMMAND_TYPES] == list(range(10, 34))
    assert [tag(cls) for cls in EVENT_TYPES] == list(range(40, 63))


@pytest.mark.parametrize("cls", ALL_TYPES, ids=lambda cls: cls.__name__)
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_message_round_trips(cls: type, data: st.DataObject) -> None:
    frame = data.draw(frames_of(cls))
    wire = encode(frame)
    assert isinstance(wire, bytes)
    back = decode(wire)
    assert back == frame
    assert type(back) is type(frame)
    # Encoding is deterministic: the relay encodes each event once for everyone.
    assert encode(back) == wire


@settings(max_examples=200)
@given(room_states())
def test_state_round_trips(state: RoomState) -> None:
    back = decode_state(encode_state(state))
    assert back == state
    # Circle order is the members' order, so it must survive too.
    assert list(back.members) == list(state.members)


@settings(max_examples=100)
@given(room_states(), st.frozensets(st.text(max_size=8), max_size=4))
def test_removed_names_never_travel(state: RoomState, removed: frozenset[str]) -> None:
    """The relay's list of removed names is off the wire: the bytes do not change."""
    with_removed = dataclasses.replace(state, removed=removed)
    assert encode_state(with_removed) == encode_state(state)
    welcome = Welcome(1, 1, "token", "epoch", 3, False, with_removed)
    assert encode(welcome) == encode(dataclasses.replace(welcome, state=state))
    assert decode_state(encode_state(with_removed)).removed == frozenset()


def test_state_round_trip_keeps_circle_order_and_types() -> None:
    state = RoomState(
        members={
            7: Member(7, "Gus", Role.FACILITATOR),
            2: Member(2, "Ana", presence=Presence.AWAY),
            5: Member(5, "Bo"),
        },
        queue=(5, 2),
        turn=Turn(3, 7, Via.ROUND, 10.0, elapsed=2.5, metoo=frozenset({2, 5}), metoo_count=2),
        next_member_id=8,
        next_turn_id=4,
    )
    back = decode_state(encode_state(state))
    assert back == state
    assert list(back.members) == [7, 2, 5]
    assert back.members[2].presence is Presence.AWAY
    assert back.turn is not None
    assert back.turn.metoo == frozenset({2, 5})
    assert isinstance(back.queue, tuple)


def test_empty_state_round_trips() -> None:
    assert decode_state(encode_state(RoomState())) == RoomState()


# --- golden bytes ---------------------------------------------------------------------

GOLDEN = [
    (
        EventFrame(5, Shared(1, 1, "hello there")),
        b"\x954\x05\x01\x01\xabhello there",
        [52, 5, 1, 1, "hello there"],
    ),
    (CommandFrame(3, MeToo(2)), b"\x94\x11\x03\x02\xc3", [17, 3, 2, True]),
    (CommandFrame(7, Yield()), b"\x92\x0b\x07", [11, 7]),
    (
        Hello(1, "Ana", agreed=True),
        b"\x99\x02\x01\xa3Ana\xa0\xa0\xc3\xc0\xa0\xc2",
        [2, 1, "Ana", "", "", True, None, "", False],
    ),
    (
        Hello(1, "Ana", resume=Resume("tok", "ep", 12)),
        b"\x99\x02\x01\xa3Ana\xa0\xa0\xc2\x93\xa3tok\xa2ep\x0c\xa0\xc2",
        [2, 1, "Ana", "", "", False, ["tok", "ep", 12], "", False],
    ),
    (
        Hello(1, "Robin", ticket="ticket:t", gapless=True),
        b"\x99\x02\x01\xa5Robin\xa0\xa0\xc2\xc0\xa8ticket:t\xc3",
        [2, 1, "Robin", "", "", False, None, "ticket:t", True],
    ),
    (Hidden(4096), b"\x92\x06\xcd\x10\x00", [6, 4096]),
    (
        EventFrame(9, StickGiven(2, 4, Via.QUEUE, 1.5)),
        b"\x972\t\x02\x04\x00\xcb?\xf8\x00\x00\x00\x00\x00\x00\xc0",
        [50, 9, 2, 4, 0, 1.5, None],
    ),
    (
        Error(3, "not_holder", "Only", None),
        b"\x95\x04\x03\xaanot_holder\xa4Only\xc0",
        [4, 3, "not_holder", "Only", None],
    ),
]


@pytest.mark.parametrize(("frame", "wire", "array"), GOLDEN)
def test_golden_bytes(frame: Any, wire: bytes, array: list[Any]) -> None:
    assert encode(frame) == wire
    assert msgpack.unpackb(wire) == array
    assert decode(wire) == frame


# --- hostile input --------------------------------------------------------------------

TAGS = sorted(tag(cls) for cls in ALL_TYPES)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats()
    | st.text(max_size=10)
    | st.binary(max_size=10)
)
nested = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


def _decodes_or_refuses(data: bytes) -> None:
    try:
        frame = decode(data)
    except DecodeError:
        return
    # Whatever decodes is a real frame and encodes again.
    assert isinstance(encode(frame), bytes)


@settings(max_examples=500)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_only_raise_decode_error(data: bytes) -> None:
    _decodes_or_refuses(data)


@settings(max_examples=500)
@given(st.sampled_from(TAGS), st.lists(nested, max_size=8))
def test_arbitrary_values_behind_a_valid_tag_only_raise_decode_error(
    tag: int, values: list[Any]
) -> None:
    _decodes_or_refuses(msgpack.packb([tag, *values]))


@settings(max_examples=300)
@given(st.sampled_from(TAGS), counters, st.lists(nested, max_size=8))
def test_arbitrary_fields_behind_a_valid_tag_and_counter_only_raise_decode_error(
    tag: int, counter: int, values: list[Any]
) -> None:
    _decodes_or_refuses(msgpack.packb([tag, counter, *values]))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_valid_frame_with_one_field_replaced_only_raises_decode_error(
    data: st.DataObject,
) -> None:
    cls = data.draw(st.sampled_from(ALL_TYPES))
    array = msgpack.unpackb(encode(data.draw(frames_of(cls))))
    index = data.draw(st.integers(min_value=1, max_value=len(array)))
    replacement = data.draw(nested)
    mutated = [*array[:index], replacement, *array[index + 1 :]]
    _decodes_or_refuses(msgpack.packb(mutated))


@settings(max_examples=300)
@given(st.binary(max_size=64))
def test_decode_state_only_raises_decode_error(data: bytes) -> None:
    try:
        state = decode_state(data)
    except DecodeError:
        return
    assert isinstance(state, RoomState)


@settings(max_examples=300)
@given(nested)
def test_decode_state_of_arbitrary_values_only_raises_decode_error(value: Any) -> None:
    try:
        state = decode_state(msgpack.packb(value))
    except DecodeError:
        return
    assert isinstance(state, RoomState)


def packed(*values: Any) -> bytes:
    return msgpack.packb(list(values))


def test_trailing_unknown_fields_are_ignored() -> None:
    assert decode(packed(52, 5, 1, 1, "hi", "from the future", 7)) == EventFrame(
        5, Shared(1, 1, "hi")
    )
    assert decode(packed(17, 3, 2, False, None, [1])) == CommandFrame(3, MeToo(2, on=False))
    assert decode(packed(2, 1, "Ana", "", "", True, None, "", False, "later")) == Hello(
        1, "Ana", agreed=True
    )
    assert decode(packed(11, 7, 1, 2, 3)) == CommandFrame(7, Yield())


def test_trailing_optional_fields_may_be_left_off() -> None:
    assert decode(packed(17, 3, 2)) == CommandFrame(3, MeToo(2, on=True))
    assert decode(packed(14, 1)) == CommandFrame(1, LowerHand(None))
    assert decode(packed(2, 1)) == Hello(1)
    # A hello from before the ticket field: the ticket is "".
    assert decode(packed(2, 1, "Ana", "pw", "", True, None)) == Hello(1, "Ana", "pw", agreed=True)
    assert decode(packed(1, [1], "room", [], False)) == Greeting((1,), "room", (), False)


@pytest.mark.parametrize(
    "array",
    [
        [52, 5, 1, 1],  # Shared without text
        [52, 5],
        [17, 3],  # MeToo without turn_id
        [2],  # Hello without version
        [3, 1, 2, "token", "epoch", 4],  # Welcome without resumed
        [52],  # an event without its seq
        [17],  # a command without its ref
        [1, [1], "room", []],  # Greeting without needs_passcode
        [2, 1, "Ana", "", "", True, ["tok", "ep"]],  # Resume without seq
    ],
)
def test_missing_required_fields_raise(array: list[Any]) -> None:
    with pytest.raises(DecodeError):
        decode(msgpack.packb(array))


@pytest.mark.parametrize(
    "array",
    [
        [52, 5, True, 1, "hi"],  # bool where an int is expected
        [52, 5, 1.0, 1, "hi"],  # float where an int is expected
        [52, 5, "1", 1, "hi"],  # string where an int is expected
        [52, 5, 1, 1, b"hi"],  # bytes where a string is expected
        [52, 5, 1, 1, 42],  # int where a string is expected
        [17, 3, 2, 1],  # int where a bool is expected
        [17, 3, 2, None],  # None where a bool is expected
        [2, 1, "Ana", "", "", 0],  # int where a bool is expected
        [50, 9, 2, 4, 7, 1.5],  # 7 is not a Via
        [50, 9, 2, 4, False, 1.5],  # bool where an enum is expected
        [50, 9, 2, 4, 0, "now"],  # string where a float is expected
        [50, 9, 2, 4, 0, True],  # bool where a float is expected
        [1, 1, "room", [], False],  # int where an array is expected
        [1, [True], "room", [], False],  # bools in an array of ints
        [1, {"a": 1}, "room", [], False],  # map where an array is expected
        [2, 1, "Ana", "", "", True, "resume"],  # string where a Resume is expected
        [5, 1, [[], [[1, "Ana", 9, 0]]]],  # a member with role 9
    ],
)
def test_wrong_types_raise(array: list[Any]) -> None:
    with pytest.raises(DecodeError):
        decode(msgpack.packb(array))


def test_an_int_is_accepted_where_a_float_is_expected() -> None:
    frame = decode(packed(50, 9, 2, 4, 0, 2))
    assert isinstance(frame, EventFrame)
    assert isinstance(frame.event, StickGiven)
    assert frame.event.at == 2.0
    assert type(frame.event.at) is float


@pytest.mark.parametrize("tag", [0, 34, 35, 39, 63, 80, 255, -1, 2**40, "52", 52.0, True, None])
def test_unknown_tag_raises(tag: Any) -> None:
    with pytest.raises(DecodeError):
        decode(msgpack.packb([tag, 1, 1, 1, "x"]))


@pytest.mark.parametrize("counter", [-1, -(2**63), 2**53, 2**64 - 1, True, 1.0, "1", None])
@pytest.mark.parametrize("head", [[52], [17]], ids=["event-seq", "command-ref"])
def test_bad_ref_or_seq_raises(head: list[int], counter: Any) -> None:
    body = [1, 1, "x"] if head == [52] else [1]
    with pytest.raises(DecodeError):
        decode(msgpack.packb([*head, counter, *body]))


def test_largest_ref_and_seq_are_accepted() -> None:
    assert decode(packed(52, MAX_COUNTER, 1, 1, "x")) == EventFrame(MAX_COUNTER, Shared(1, 1, "x"))
    assert decode(packed(17, MAX_COUNTER, 1)) == CommandFrame(MAX_COUNTER, MeToo(1))
    assert decode(packed(52, 0, 1, 1, "x")) == EventFrame(0, Shared(1, 1, "x"))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xc1",  # never used in msgpack
        b"\x95\x34",  # truncated array
        msgpack.packb([]),
        msgpack.packb(52),
        msgpack.packb("hello"),
        msgpack.packb({"tag": 52}),
        msgpack.packb([52, 5, 1, 1, "hi"]) + b"\x00",  # trailing bytes
        b"\x81\x01\x02",  # a map with an integer key
        b"\xd4\x05\x00",  # an ext type
    ],
)
def test_non_frames_raise(data: bytes) -> None:
    with pytest.raises(DecodeError):
        decode(data)


def test_decode_state_rejects_non_states() -> None:
    for data in (b"", b"\xc1", msgpack.packb(5), msgpack.packb([[[1]]])):
        with pytest.raises(DecodeError):
            decode_state(data)


@pytest.mark.parametrize(
    "thing",
    [Shared(1, 1, "an event without a frame"), Yield(), RoomState(), Resume("t", "e", 1), "x"],
    ids=lambda thing: type(thing).__name__,
)
def test_encoding_a_non_frame_is_a_local_error(thing: Any) -> None:
    with pytest.raises(LocalProtocolError):
        encode(thing)


def test_welcome_carries_a_state_snapshot() -> None:
    state = RoomState(members={1: Member(1, "Fran", Role.FACILITATOR)}, next_member_id=2)
    welcome = Welcome(1, 1, "token", "epoch", 0, resumed=False, state=state)
    back = decode(encode(welcome))
    assert back == welcome
    assert isinstance(back, Welcome)
    assert back.state is not None
    assert back.state.members[1].role is Role.FACILITATOR


def test_decoded_enums_are_enum_members() -> None:
    frame = decode(encode(EventFrame(1, StickGiven(2, 3, Via.ROUND, 4.0))))
    assert isinstance(frame, EventFrame)
    assert isinstance(frame.event, StickGiven)
    assert frame.event.via is Via.ROUND
    frame = decode(encode(EventFrame(1, MeTooCount(3, 4))))
    assert frame == EventFrame(1, MeTooCount(3, 4))


# --- Batch: frames of one moment in one ------------------------------------------------


def test_a_batch_is_its_frames_behind_one_array_header() -> None:
    joined = EventFrame(5, MemberJoined(Member(3, "Ana")))
    frames = (joined, Hidden(6), EventFrame(7, MemberAway(3)))
    wire = encode(Batch(frames))
    assert wire == b"\x94\x50" + b"".join(encode(f) for f in frames)
    assert msgpack.unpackb(wire) == [80, [40, 5, [3, "Ana", 0, 0]], [6, 6], [42, 7, 3]]
    assert decode(wire) == Batch(frames)


@settings(max_examples=50)
@given(st.integers(min_value=0, max_value=70_000))
def test_batch_joins_encoded_frames_as_encode_would(n: int) -> None:
    """Array headers of every size: fixarray, array 16 and array 32."""
    one = encode(Hidden(1))
    assert batch([one] * n) == msgpack.packb([80, *([[6, 1]] * n)])


@pytest.mark.parametrize(
    "inner",
    [
        [80, [6, 1]],  # A batch in a batch.
        [11, 7],  # A command.
        [3, 1, 2, "t", "e", 0, False],  # A Welcome.
        "not a frame",
    ],
)
def test_a_batch_holds_only_event_frames_and_hiddens(inner: Any) -> None:
    with pytest.raises(DecodeError):
        decode(msgpack.packb([80, [6, 1], inner]))

"""The outbox: held frames reach each reader exactly as if sent at once, in order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from circle_room.protocol.codec import encode
from circle_room.protocol.messages import EventFrame, Hidden, MemberAway, MemberLeft, Shared
from circle_room.protocol.model import LeaveReason
from circle_room.server.outbox import Outbox, Parcel, may_hold

READERS = st.frozensets(st.integers(min_value=0, max_value=5), max_size=6)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("hold"), READERS),
        st.tuples(st.just("send"), READERS),
        st.tuples(st.just("flush"), st.just(frozenset[int]())),
    ),
    max_size=30,
)


def deliver(got: dict[int, list[bytes]], parcels: list[Parcel[int]]) -> None:
    seen: set[int] = set()
    for parcel in parcels:
        for reader in parcel.readers:
            assert reader not in seen, "a reader in two parcels"
            seen.add(reader)
            got.setdefault(reader, []).extend(parcel.frames)


@given(STEPS)
def test_every_reader_gets_its_frames_in_order_whatever_is_held(
    steps: list[tuple[str, frozenset[int]]],
) -> None:
    """The shell's rule: anything sent at once first takes what is held."""
    outbox: Outbox[int] = Outbox()
    got: dict[int, list[bytes]] = {}
    expected: dict[int, list[bytes]] = {}
    for n, (what, readers) in enumerate(steps):
        data = encode(Hidden(n))
        if what == "flush":
            deliver(got, outbox.take())
            continue
        for reader in readers:
            expected.setdefault(reader, []).append(data)
        if what == "hold":
            outbox.hold(data, sorted(readers))
        else:
            deliver(got, outbox.take())
            deliver(got, [Parcel((data,), tuple(readers))])
    deliver(got, outbox.take())
    assert {r: f for r, f in got.items() if f} == expected
    assert not outbox and outbox.take() == []


@given(st.lists(READERS, min_size=1, max_size=12))
def test_readers_owed_the_same_frames_share_one_parcel(held: list[frozenset[int]]) -> None:
    outbox: Outbox[int] = Outbox()
    for n, readers in enumerate(held):
        outbox.hold(encode(Hidden(n)), readers)
    parcels = outbox.take()
    assert len({p.frames for p in parcels}) == len(parcels)
    assert all(p.frames and p.readers for p in parcels)


def test_a_reader_added_after_a_frame_was_held_gets_none_of_it() -> None:
    outbox: Outbox[str] = Outbox()
    readers = ["ana"]
    outbox.hold(b"joined", readers)
    readers.append("ben")
    assert outbox.take() == [Parcel((b"joined",), ("ana",))]


def test_presence_events_may_wait_and_their_hiddens_behind_them() -> None:
    away = encode(EventFrame(3, MemberAway(2)))
    assert may_hold(away, holding=False)
    assert may_hold(encode(EventFrame(4, MemberLeft(2, LeaveReason.LEFT))), holding=True) is False
    assert may_hold(encode(EventFrame(4, Shared(1, 1, "hi"))), holding=True) is False
    assert may_hold(encode(Hidden(4)), holding=True)
    assert may_hold(encode(Hidden(4)), holding=False) is False

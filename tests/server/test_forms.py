"""Which seated members take which form of a delivery (``server.forms``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from circle_room.protocol import PROTOCOL_VERSIONS
from circle_room.server.effects import Deliver
from circle_room.server.forms import Forms

MEMBERS = st.integers(1, 12)
SEATINGS = st.lists(
    st.tuples(MEMBERS, st.sampled_from(PROTOCOL_VERSIONS) | st.none(), st.booleans()),
    max_size=30,
)
DELIVERIES = st.builds(
    Deliver,
    readers=st.frozensets(MEMBERS),
    data=st.just(b"\x92\x06\x01"),
    gapless_only=st.booleans(),
    versions=st.none() | st.frozensets(st.sampled_from(PROTOCOL_VERSIONS), min_size=1),
)


@given(SEATINGS, DELIVERIES)
def test_readers_are_those_seated_whose_connection_takes_the_form(
    seatings: list[tuple[int, int | None, bool]], deliver: Deliver
) -> None:
    forms = Forms()
    seated: dict[int, tuple[int, bool]] = {}
    for member_id, version, gapless in seatings:  # None: the member is gone for good
        if version is None:
            forms.vacate(member_id)
            seated.pop(member_id, None)
        else:
            forms.seat(member_id, version, gapless)
            seated[member_id] = (version, gapless)
    got = forms.readers(deliver)
    for member_id in deliver.readers & seated.keys():
        version, gapless = seated[member_id]
        takes = (gapless or not deliver.gapless_only) and (
            deliver.versions is None or version in deliver.versions
        )
        assert (member_id in got) == takes, (member_id, version, gapless)
    assert got <= deliver.readers

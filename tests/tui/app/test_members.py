"""The list goes in the order the stick will: holder, round, hands in line, everyone else."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from circle_room.protocol.model import Presence, RoomState
from circle_room.tui.app.widgets.members import in_order, ordinal, place_words, strip
from tests.server.test_rules_offers import PROPERTIES, meetings, view_of


@PROPERTIES
@given(meetings(), st.sampled_from(range(1, 8)))
def test_everyone_once_in_the_order_the_stick_goes(state: RoomState, me: int) -> None:
    view = view_of(state, me)
    circle, waiting = in_order(view)
    ids = [m.id for m in circle]
    assert sorted(ids + [m.id for m in waiting]) == sorted(state.members)
    assert all(m.presence is Presence.WAITING for m in waiting)
    assert all(m.presence is not Presence.WAITING for m in circle)
    if state.holder is not None:
        assert ids[0] == state.holder
    round_ = state.round.remaining if state.round is not None else ()
    ahead = [m for m in (*round_, *state.queue) if m != state.holder]
    # Those waiting for the stick come right after the holder, in the order it reaches them.
    start = 1 if state.holder is not None else 0
    assert ids[start : start + len(dict.fromkeys(ahead))] == list(dict.fromkeys(ahead))
    for position, member_id in enumerate(state.queue, start=1):
        if member_id not in round_ and member_id != state.holder:
            words = place_words(view, member_id)
            if member_id != view.me:
                assert words == ordinal(position)
            else:
                assert words == ("you're next" if position == 1 else f"{ordinal(position)} in line")
    assert str(strip(view)).startswith(f"{len(circle)} here")


def test_places_read_as_people_say_them() -> None:
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "next", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st",
    ]  # fmt: skip

"""When the bell rings: the stick came, or you just became next; never twice, never for nothing."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from circle_room.protocol.model import Round, Turn, Via
from circle_room.tui.app.alerts import Alert, alert
from circle_room.tui.client.view import View
from tests.server.test_rules_offers import PROPERTIES, meetings, view_of
from tests.tui.app.test_offers import ANA, BEN, FRAN, room

STATES = meetings()


def view(state: object, me: int = ANA) -> View:
    return View(room="tuesday", me=me, state=state, now=0.0, local_now=0.0)  # type: ignore[arg-type]


def turn(holder: int, turn_id: int = 1) -> Turn:
    return Turn(turn_id, holder, Via.QUEUE, 0.0, running_since=0.0)


def test_the_stick_coming_rings_once() -> None:
    waiting = view(room(turn=turn(FRAN), queue=(ANA,)))
    holding = view(room(turn=turn(ANA, 2)))
    assert alert(waiting, holding) is Alert.STICK
    assert alert(holding, holding) is None


def test_becoming_next_rings_but_raising_your_own_hand_first_in_line_does_not() -> None:
    second = view(room(turn=turn(FRAN), queue=(BEN, ANA)))
    first = view(room(turn=turn(BEN, 2), queue=(ANA,)))
    assert alert(second, first) is Alert.NEXT
    down = view(room(turn=turn(FRAN)))
    raised = view(room(turn=turn(FRAN), queue=(ANA,)))
    assert alert(down, raised) is None  # You did it yourself a moment ago.


def test_next_in_a_round_rings() -> None:
    started = room(turn=turn(FRAN), round=Round(FRAN, (BEN, ANA)))
    moved = room(turn=turn(BEN, 2), round=Round(FRAN, (ANA,)))
    assert alert(view(started), view(moved)) is Alert.NEXT


def test_joining_rings_nothing() -> None:
    assert alert(None, view(room(turn=turn(ANA)))) is None


@PROPERTIES
@given(STATES, STATES, st.sampled_from(range(1, 8)))
def test_the_bell_rings_only_for_a_change_of_yours(before: object, after: object, me: int) -> None:
    old, new = view_of(before, me), view_of(after, me)  # type: ignore[arg-type]
    assert alert(new, new) is None  # Nothing changed: nothing rings.
    found = alert(old, new)
    if found is Alert.STICK:
        assert new.holding and not old.holding
    elif found is Alert.NEXT:
        assert not new.holding
        state = new.state
        first = state.round.remaining[:1] if state.round is not None else state.queue[:1]
        assert first == (me,)
    if new.holding and not old.holding:
        assert found is Alert.STICK
    # Someone else's view never rings for this member.
    other = replace(new, me=me + 100)
    assert alert(old, other) is None

"""The rule book: verdicts before anything happens, and who may take a seat."""

from __future__ import annotations

from dataclasses import replace

import pytest

from circle_room.protocol.admission import Admission, admission, name_refusal
from circle_room.protocol.errors import Refused
from circle_room.protocol.messages import (
    AckSignal,
    ChangeSettings,
    GiveStick,
    Leave,
    MeToo,
    PauseCircle,
    RaiseHand,
    ReleaseSeat,
    Remove,
    SendSignal,
    Share,
)
from circle_room.protocol.model import (
    Member,
    Pause,
    Presence,
    Role,
    RoomState,
    Settings,
    SignalKind,
    Turn,
    Via,
)
from circle_room.protocol.observed import Disconnect, Expire, Join, Reconnect
from circle_room.protocol.refusals import RefusalCode
from circle_room.protocol.rules import (
    allows,
    allows_kind,
    clamped_position,
    why_not,
    why_not_kind,
)

FRAN, GIL, HAL, ANA, BEN = 1, 2, 3, 4, 5


def room(**changes: object) -> RoomState:
    """Fran hosts; Gil and Hal co-facilitate; Ana and Ben are members."""
    members = {
        FRAN: Member(FRAN, "Fran", Role.FACILITATOR),
        GIL: Member(GIL, "Gil", Role.COFACILITATOR),
        HAL: Member(HAL, "Hal", Role.COFACILITATOR),
        ANA: Member(ANA, "Ana"),
        BEN: Member(BEN, "Ben"),
    }
    return replace(RoomState(members=members, next_member_id=6), **changes)  # type: ignore[arg-type]


def code(verdict: Refused | None) -> RefusalCode | None:
    return None if verdict is None else RefusalCode(verdict.code)


# --- commands -------------------------------------------------------------------------


def test_allowed_is_none_and_refused_carries_the_code_and_the_sentence() -> None:
    assert why_not(room(), ANA, RaiseHand()) is None
    assert allows(room(), ANA, RaiseHand())
    refused = why_not(room(), ANA, Remove(BEN))
    assert isinstance(refused, Refused)
    assert refused.code is RefusalCode.NOT_FACILITATOR
    assert refused.message == "Only a facilitator can do that."


def test_before_any_rule_you_must_be_in_the_room_and_admitted() -> None:
    assert code(why_not(room(), 99, RaiseHand())) is RefusalCode.NOT_IN_ROOM
    assert code(why_not(room(), None, RaiseHand())) is RefusalCode.NOT_IN_ROOM
    waiting = room(members={**room().members, BEN: Member(BEN, "Ben", presence=Presence.WAITING)})
    assert code(why_not(waiting, BEN, SendSignal(SignalKind.OK))) is RefusalCode.WAITING
    assert why_not(waiting, BEN, Leave()) is None
    assert why_not(waiting, BEN, Disconnect()) is None


def test_a_co_facilitator_may_not_remove_another_but_the_host_may() -> None:
    refused = why_not(room(), GIL, Remove(HAL))
    assert code(refused) is RefusalCode.NOT_ALLOWED
    assert refused is not None and refused.message == "Hal is a facilitator and cannot be removed."
    assert why_not(room(), FRAN, Remove(HAL)) is None
    assert why_not(room(), GIL, Remove(ANA)) is None
    assert code(why_not(room(), GIL, Remove(FRAN))) is RefusalCode.NOT_ALLOWED
    assert code(why_not(room(), GIL, Remove(GIL))) is RefusalCode.NOT_YOURSELF


def test_a_facilitator_answers_a_waiting_signal_once() -> None:
    waiting = room(signals=(ANA, GIL))
    assert why_not(waiting, GIL, AckSignal(ANA)) is None
    assert why_not(waiting, FRAN, AckSignal(GIL)) is None
    assert code(why_not(waiting, BEN, AckSignal(ANA))) is RefusalCode.NOT_FACILITATOR
    assert code(why_not(waiting, GIL, AckSignal(GIL))) is RefusalCode.NOT_YOURSELF
    assert code(why_not(waiting, FRAN, AckSignal(99))) is RefusalCode.NO_SUCH_MEMBER
    # Never signalled, or answered already by another facilitator.
    refused = why_not(waiting, FRAN, AckSignal(BEN))
    assert code(refused) is RefusalCode.NO_SIGNAL
    assert refused is not None and refused.message == "No signal from Ben is waiting for an answer."
    paused = room(signals=(ANA,), pause=Pause(FRAN, "breathe", 0.0))
    assert why_not(paused, GIL, AckSignal(ANA)) is None


def test_only_an_away_seat_is_released_and_only_by_who_may_remove() -> None:
    members = dict(room().members)
    for member_id in (HAL, ANA):
        members[member_id] = replace(members[member_id], presence=Presence.AWAY)
    members[BEN] = replace(members[BEN], presence=Presence.WAITING)
    state = room(members=members)
    assert why_not(state, GIL, ReleaseSeat(ANA)) is None
    assert why_not(state, FRAN, ReleaseSeat(HAL)) is None
    assert code(why_not(state, ANA, ReleaseSeat(HAL))) is RefusalCode.NOT_FACILITATOR
    assert code(why_not(state, GIL, ReleaseSeat(HAL))) is RefusalCode.NOT_ALLOWED
    here = why_not(state, FRAN, ReleaseSeat(GIL))
    assert code(here) is RefusalCode.NOT_AWAY
    assert here is not None and "only the seat of someone away" in here.message
    assert code(why_not(state, FRAN, ReleaseSeat(BEN))) is RefusalCode.NOT_AWAY
    assert code(why_not(state, FRAN, ReleaseSeat(FRAN))) is RefusalCode.NOT_AWAY
    assert code(why_not(state, FRAN, ReleaseSeat(99))) is RefusalCode.NO_SUCH_MEMBER
    paused = replace(state, pause=Pause(FRAN, "breathe", 0.0))
    assert why_not(paused, GIL, ReleaseSeat(ANA)) is None


def test_while_paused_members_wait_and_facilitators_steer() -> None:
    paused = room(pause=Pause(FRAN, "breathe", 0.0))
    assert code(why_not(paused, ANA, RaiseHand())) is RefusalCode.PAUSED
    assert why_not(paused, GIL, RaiseHand()) is None
    assert why_not(paused, FRAN, GiveStick(ANA)) is None
    assert why_not(paused, ANA, SendSignal(SignalKind.CHECK_IN)) is None


def test_nobody_shares_into_a_paused_circle() -> None:
    turn = Turn(1, FRAN, Via.FACILITATOR, 0.0)
    paused = room(turn=turn, pause=Pause(FRAN, "", 0.0), next_turn_id=2)
    refused = why_not(paused, FRAN, Share("hello"))
    assert code(refused) is RefusalCode.PAUSED
    assert refused is not None and "your words will wait" in refused.message


def test_the_first_refusal_in_order_is_the_one_given() -> None:
    # Not the holder, and an empty share: the stick is checked first.
    assert code(why_not(room(), ANA, Share("   "))) is RefusalCode.NOT_HOLDER
    holding = room(turn=Turn(1, ANA, Via.QUEUE, 0.0), next_turn_id=2)
    assert code(why_not(holding, ANA, Share("   "))) is RefusalCode.EMPTY_SHARE
    # A finished share and your own: "over" comes first.
    assert code(why_not(holding, ANA, MeToo(7, True))) is RefusalCode.SHARE_OVER
    assert code(why_not(holding, ANA, MeToo(1, True))) is RefusalCode.OWN_SHARE


def test_a_kind_refused_means_every_command_of_it_is_refused_the_same_way() -> None:
    state = room()
    assert not allows_kind(state, ANA, Share)
    assert code(why_not_kind(state, ANA, Share)) is code(why_not(state, ANA, Share("hi")))
    assert allows_kind(state, FRAN, PauseCircle)
    assert not allows(state, FRAN, PauseCircle("x" * 1000))  # The words are checked later.
    assert allows_kind(state, FRAN, ChangeSettings)
    assert code(why_not_kind(state, ANA, ChangeSettings)) is RefusalCode.NOT_FACILITATOR


def test_settings_are_compared_after_cleaning() -> None:
    state = room()
    spaced = tuple(f"  {a} " for a in state.settings.agreements)
    unchanged = ChangeSettings(replace(state.settings, agreements=spaced))
    assert code(why_not(state, FRAN, unchanged)) is RefusalCode.NO_CHANGE
    bad = ChangeSettings(replace(state.settings, share_limit=-1))
    assert code(why_not(state, FRAN, bad)) is RefusalCode.BAD_SETTING


def test_a_hand_moved_out_of_range_goes_to_an_end() -> None:
    assert clamped_position((4, 5, 6), -3) == 0
    assert clamped_position((4, 5, 6), 9) == 2
    assert clamped_position((4, 5, 6), 1) == 1


def test_connections_come_and_go_only_in_order() -> None:
    away = room(members={**room().members, ANA: Member(ANA, "Ana", presence=Presence.AWAY)})
    assert code(why_not(away, ANA, Disconnect())) is RefusalCode.ALREADY_AWAY
    assert why_not(away, ANA, Reconnect()) is None
    assert why_not(away, ANA, Expire()) is None
    assert code(why_not(room(), ANA, Reconnect())) is RefusalCode.NOT_AWAY
    assert code(why_not(room(), ANA, Expire())) is RefusalCode.NOT_AWAY


# --- admission -------------------------------------------------------------------------


def test_a_newcomer_gets_a_clean_name_and_a_seat() -> None:
    assert admission(room(), Join("  Dee\x1b ")) == Admission("Dee", Presence.PRESENT)
    assert why_not(room(), None, Join("Dee")) is None


def test_the_waiting_room_holds_members_not_key_holders() -> None:
    state = room(settings=Settings(waiting_room=True))
    assert admission(state, Join("Dee")) == Admission("Dee", Presence.WAITING)
    assert admission(state, Join("Sam", Role.FACILITATOR)) == Admission("Sam", Presence.PRESENT)


@pytest.mark.parametrize(
    ("state", "join", "expected"),
    [
        (room(locked=True), Join("Dee"), RefusalCode.LOCKED),
        (room(locked=True), Join("Sam", Role.FACILITATOR), None),
        (room(), Join("Dee", agreed=False), RefusalCode.AGREEMENTS),
        (room(settings=Settings(agreements=())), Join("Dee", agreed=False), None),
        (room(removed=frozenset({"dee"})), Join("DEE"), RefusalCode.REMOVED),
        (room(removed=frozenset({"dee"})), Join("Dee", Role.FACILITATOR), None),
        (room(), Join("Dee", max_members=5), RefusalCode.ROOM_FULL),
        (room(), Join("Dee", max_members=6), None),
        (room(), Join("\x1b\u202e"), RefusalCode.BAD_NAME),
        (room(), Join("ana"), RefusalCode.NAME_TAKEN),
    ],
)
def test_each_admission_rule(state: RoomState, join: Join, expected: RefusalCode | None) -> None:
    assert code(why_not(state, None, join)) is expected


def test_admission_checks_in_the_documented_order() -> None:
    """docs/protocol.md: locked, agreements, removed, room full, then the name."""
    state = room(locked=True, removed=frozenset({"ana"}))
    everything_wrong = Join("Ana", agreed=False, max_members=1)
    order = [
        RefusalCode.LOCKED,
        RefusalCode.AGREEMENTS,
        RefusalCode.REMOVED,
        RefusalCode.ROOM_FULL,
        RefusalCode.NAME_TAKEN,
    ]
    for expected in order:
        assert code(why_not(state, None, everything_wrong)) is expected
        if expected is RefusalCode.LOCKED:
            state = replace(state, locked=False)
        elif expected is RefusalCode.AGREEMENTS:
            everything_wrong = replace(everything_wrong, agreed=True)
        elif expected is RefusalCode.REMOVED:
            state = replace(state, removed=frozenset())
        elif expected is RefusalCode.ROOM_FULL:
            everything_wrong = replace(everything_wrong, max_members=500)
    # A full room is said before a name that is no name.
    assert code(why_not(room(), None, Join("", max_members=1))) is RefusalCode.ROOM_FULL


def test_the_words_of_a_refused_join() -> None:
    def message(state: RoomState, join: Join) -> str:
        refused = why_not(state, None, join)
        assert refused is not None
        return refused.message

    assert message(room(locked=True), Join("Dee")) == (
        "The room is locked; ask the facilitator to open it."
    )
    assert message(room(), Join("Dee", agreed=False)) == (
        "Please read and accept the group agreements first."
    )
    removed = room(removed=frozenset({"dee"}))
    assert message(removed, Join("Dee")) == "You were removed from this meeting."
    assert message(room(), Join("Dee", max_members=1)) == "The room is full."
    # The name already here: a lookalike is shown what it looks like.
    assert message(room(), Join("ANA")) == "Someone here is already called Ana; pick another name."
    away = room(members={**room().members, ANA: Member(ANA, "Ana", presence=Presence.AWAY)})
    assert "seat is being kept" in message(away, Join("ana"))


def test_a_name_alone_is_judged_as_admission_judges_it() -> None:
    state = room(removed=frozenset({"dee"}))
    assert name_refusal(state, "Eve") is None
    assert code(name_refusal(state, "dee")) is RefusalCode.REMOVED
    assert name_refusal(state, "dee", Role.FACILITATOR) is None
    assert code(name_refusal(state, "BEN")) is RefusalCode.NAME_TAKEN
    assert code(name_refusal(state, "   ")) is RefusalCode.BAD_NAME

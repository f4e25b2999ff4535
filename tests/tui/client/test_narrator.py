"""The one narrator: what an event means to a member, worded once for every skin."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from circle_room.protocol.messages import (
    EVENT_TYPES,
    HandLowered,
    HandMoved,
    HandRaised,
    MemberAdmitted,
    MemberAway,
    MemberJoined,
    MemberLeft,
    MeTooCount,
    Paused,
    Resumed,
    RoleChanged,
    RoundStarted,
    SettingsChanged,
    Shared,
    SignalSeen,
    SignalSent,
    StickGiven,
    StickReleased,
)
from circle_room.protocol.model import (
    LeaveReason,
    Member,
    Pause,
    Presence,
    Release,
    Role,
    RoomState,
    Settings,
    SignalKind,
    Turn,
    Via,
)
from circle_room.protocol.room import apply
from circle_room.protocol.text import clean_block, clean_line
from circle_room.tui.client import narrator
from circle_room.tui.client.narrator import Hint, Kind, Line, narrate

SAM, DANA, LEE = 1, 2, 3


def room(**changes: object) -> RoomState:
    members = {
        SAM: Member(SAM, "Sam", Role.FACILITATOR),
        DANA: Member(DANA, "Dana"),
        LEE: Member(LEE, "Lee"),
    }
    return replace(RoomState(members=members, next_member_id=4), **changes)  # type: ignore[arg-type]


def told(event: object, state: RoomState, me: int) -> list[Line]:
    return narrate(event, state, apply(state, event), me)  # type: ignore[arg-type]


def texts(event: object, state: RoomState, me: int) -> list[str]:
    return [line.text for line in told(event, state, me)]


def test_every_event_has_words() -> None:
    assert set(narrator._NARRATORS) == set(EVENT_TYPES)


def test_the_stick_reads_like_speech() -> None:
    state = room()
    assert texts(StickGiven(DANA, 7, Via.QUEUE, 0.0), state, LEE) == ["Dana has the stick."]
    # One wording for a round, where the app used to say "(round)".
    assert texts(StickGiven(DANA, 7, Via.ROUND, 0.0), state, LEE) == [
        "Dana has the stick in the round."
    ]
    given = told(StickGiven(DANA, 7, Via.FACILITATOR, 0.0, SAM), state, DANA)
    assert given == [Line(Kind.NOTE, "Sam gave the stick to you.", hint=Hint.SHARE)]
    paused = told(StickGiven(DANA, 7, Via.QUEUE, 0.0), room(pause=Pause(SAM, "", 0.0)), DANA)
    assert [(line.kind, line.hint) for line in paused] == [(Kind.NOTE, None), (Kind.DETAIL, None)]


def test_releasing_the_stick() -> None:
    turn = Turn(7, DANA, Via.QUEUE, 0.0)
    state = room(turn=turn)
    assert texts(StickReleased(DANA, 7, Release.PASSED, 1.0), state, LEE) == ["Dana passed."]
    assert texts(StickReleased(DANA, 7, Release.YIELDED, 1.0), state, DANA) == [
        "You yielded the stick."
    ]
    assert texts(StickReleased(DANA, 7, Release.TAKEN, 1.0), state, DANA) == [
        "A facilitator took the stick back from you."
    ]
    assert texts(StickReleased(DANA, 7, Release.TAKEN, 1.0), state, LEE) == []


def test_a_share_keeps_its_lines_but_nothing_that_drives_a_terminal() -> None:
    state = room(turn=Turn(7, DANA, Via.QUEUE, 0.0))
    [line] = told(Shared(7, DANA, "first\n\n\n\x1b[2Jsecond\u202e"), state, LEE)
    assert (line.kind, line.who, line.text) == (Kind.SHARE, "Dana", "first\n\n[2Jsecond")
    [mine] = told(Shared(7, DANA, "hi"), state, DANA)
    assert mine.who == "You"


def test_what_a_full_screen_shows_elsewhere_is_a_detail() -> None:
    speaking = room(turn=Turn(7, DANA, Via.QUEUE, 0.0), queue=(LEE,))
    details = [
        (HandRaised(LEE), room(queue=()), SAM),
        (HandLowered(LEE, LEE), room(queue=(LEE,)), SAM),
        (HandMoved(LEE, 0, SAM), room(queue=(DANA, LEE)), DANA),
        (MeTooCount(7, 2), speaking, DANA),
        (MemberAway(LEE), room(), DANA),
    ]
    for event, state, me in details:
        assert [line.kind for line in told(event, state, me)] == [Kind.DETAIL], event
    # ... unless it happened to you, by someone else's hand.
    assert told(HandLowered(LEE, SAM), room(queue=(LEE,)), LEE) == [
        Line(Kind.NOTE, "Sam lowered your hand.")
    ]
    assert [line.kind for line in told(HandMoved(LEE, 0, SAM), room(queue=(DANA, LEE)), LEE)] == [
        Kind.NOTE
    ]


def test_a_pause_names_the_role_not_the_person() -> None:
    event = Paused(SAM, "Let's take a breath", 5.0)
    assert texts(event, room(), DANA) == ["The facilitator paused the circle: Let's take a breath"]
    assert texts(event, room(), SAM) == ["You paused the circle: Let's take a breath"]
    assert texts(Paused(SAM, "", 5.0), room(), DANA) == ["The facilitator paused the circle."]
    paused = room(pause=Pause(SAM, "", 5.0))
    assert texts(Resumed(SAM, 9.0), paused, DANA) == ["The circle resumed."]
    assert texts(Resumed(SAM, 9.0), paused, SAM) == ["You resumed the circle."]


def test_arrivals_and_departures() -> None:
    state = room()
    waiting = MemberJoined(Member(4, "Kim\x1b]0;x\x07", presence=Presence.WAITING))
    assert told(waiting, state, SAM) == [
        Line(Kind.NOTE, "Kim]0;x is in the waiting room.", "Kim]0;x", Hint.ADMIT)
    ]
    assert told(waiting, state, DANA) == []  # Only facilitators are asked to let someone in.
    assert texts(MemberAdmitted(DANA, SAM), state, DANA) == ["You are in the circle. Welcome."]
    assert texts(MemberLeft(LEE, LeaveReason.QUIET), state, DANA) == []
    assert texts(MemberLeft(LEE, LeaveReason.REMOVED), state, DANA) == [
        "Lee was removed from the meeting."
    ]
    assert texts(MemberLeft(DANA, LeaveReason.REMOVED), state, DANA) == [
        "A facilitator removed you from this meeting."
    ]


def test_a_round_says_its_order() -> None:
    event = RoundStarted(SAM, (SAM, LEE, DANA))
    assert texts(event, room(), DANA) == [
        "Sam started a round: each person in turn shares or passes. Order: Sam, Lee and you."
    ]


def test_roles_read_as_roles() -> None:
    assert texts(RoleChanged(LEE, Role.COFACILITATOR, SAM), room(), DANA) == [
        "Lee is now a co-facilitator."
    ]
    assert texts(RoleChanged(DANA, Role.MEMBER, SAM), room(), DANA) == ["You are now a member."]
    assert texts(RoleChanged(LEE, Role.FACILITATOR, SAM), room(), DANA) == [
        "Lee is now the facilitator."
    ]


def test_settings_say_what_changed() -> None:
    limit = SettingsChanged(replace(Settings(), share_limit=300), SAM)
    assert texts(limit, room(), DANA) == ["Suggested time per share: 5 minutes."]
    agreements = SettingsChanged(replace(Settings(), agreements=("Be kind.",)), SAM)
    assert told(agreements, room(), DANA) == [
        Line(Kind.NOTE, "The group agreements were updated.", hint=Hint.AGREEMENTS)
    ]


def test_the_facilitator_is_told_why_the_waiting_room_turned_on() -> None:
    event = SettingsChanged(replace(Settings(), waiting_room=True), SAM, after_removal=True)
    (told_sam,) = texts(event, room(), SAM)
    assert "someone was removed" in told_sam and "turn the waiting room off" in told_sam
    assert texts(event, room(), DANA) == ["Newcomers now wait until a facilitator admits them."]


def test_private_signals_are_for_facilitators() -> None:
    event = SignalSent(DANA, SignalKind.CHECK_IN, 1.0)
    assert told(event, room(), DANA) == [
        Line(Kind.NOTE, "Sent to the facilitators only: I need a check-in.")
    ]
    assert told(event, room(), SAM) == [
        Line(Kind.SIGNAL, "Private signal from Dana: I need a check-in.", "Dana", Hint.ANSWER)
    ]


def test_an_answered_signal_is_told_to_the_member_and_the_facilitators() -> None:
    state = room(signals=(DANA,))
    seen = SignalSeen(DANA, SAM)
    assert told(seen, state, DANA) == [Line(Kind.NOTE, "A facilitator has seen your signal.")]
    assert told(seen, state, SAM) == [
        Line(Kind.SIGNAL, "You let Dana know you saw their signal.", "Dana")
    ]
    cofacilitated = room(
        signals=(DANA,), members={**room().members, LEE: Member(LEE, "Lee", Role.COFACILITATOR)}
    )
    assert told(seen, cofacilitated, LEE) == [
        Line(Kind.SIGNAL, "Sam let Dana know their signal was seen.", "Dana")
    ]


def test_a_quiet_exit_is_told_to_the_facilitators_alone() -> None:
    state = room()
    quiet = MemberLeft(LEE, LeaveReason.QUIET)
    assert told(quiet, state, SAM) == [Line(Kind.SIGNAL, "Lee left quietly.", "Lee")]
    assert told(quiet, state, DANA) == []  # The circle hears nothing.
    # Someone who only waited to be let in was never in the circle: nothing to tell.
    waited = room(members={**state.members, LEE: Member(LEE, "Lee", presence=Presence.WAITING)})
    assert told(quiet, waited, SAM) == []


def test_a_released_seat_says_who_released_it() -> None:
    state = room(members={**room().members, LEE: Member(LEE, "Lee", presence=Presence.AWAY)})
    released = MemberLeft(LEE, LeaveReason.TIMED_OUT, by=SAM)
    assert texts(released, state, SAM) == ["You released Lee's seat; the name is free again."]
    assert texts(released, state, DANA) == ["Sam released Lee's seat while they were away."]
    assert texts(MemberLeft(LEE, LeaveReason.TIMED_OUT), state, DANA) == [
        "Lee could not reconnect in time and has left."
    ]


def test_a_gap_after_a_reconnection_is_owned_up_to() -> None:
    assert narrator.resynced(gap=False) == []
    [line] = narrator.resynced(gap=True)
    assert "was not kept" in line.text


names = st.text(min_size=1, max_size=12) | st.sampled_from(["\x1b[2J", "\u202eevil", "\u200d"])


@given(name=names, text=st.text(max_size=40), me=st.sampled_from([SAM, DANA, LEE, 4]))
def test_whatever_people_type_the_words_are_clean(name: str, text: str, me: int) -> None:
    state = room(members={**room().members, LEE: Member(LEE, name)}, queue=(LEE,))
    held = replace(state, turn=Turn(7, LEE, Via.QUEUE, 0.0), queue=())
    events = [
        (Shared(7, LEE, text), held),
        (Paused(LEE, text, 1.0), state),
        (HandLowered(LEE, SAM), state),
        (MemberLeft(LEE, LeaveReason.LEFT), state),
        (SignalSent(LEE, SignalKind.OK, 1.0), state),
        (SignalSeen(LEE, SAM), replace(state, signals=(LEE,))),
        (MemberLeft(LEE, LeaveReason.QUIET), state),
        (MemberLeft(LEE, LeaveReason.TIMED_OUT, SAM), state),
        (MemberJoined(Member(5, name, presence=Presence.WAITING)), state),
    ]
    for event, before in events:
        for line in told(event, before, me):
            clean = clean_block if line.kind is Kind.SHARE else clean_line
            assert clean(line.text) == line.text
            assert clean_line(line.who) == line.who

"""The pure half of plain mode: sentences from events, actions from typed lines."""

from __future__ import annotations

from dataclasses import replace

import pytest

from circle_room.protocol.messages import (
    AckSignal,
    Admit,
    ChangeSettings,
    GiveStick,
    HandLowered,
    HandMoved,
    HandRaised,
    LowerAllHands,
    LowerHand,
    MemberAway,
    MemberJoined,
    MemberLeft,
    MeToo,
    MeTooCount,
    MeTooSet,
    Pass,
    PauseCircle,
    Paused,
    RaiseHand,
    ReleaseSeat,
    Remove,
    SendSignal,
    SettingsChanged,
    Share,
    Shared,
    SignalSeen,
    SignalSent,
    StartRound,
    StickGiven,
    StopRound,
    Yield,
)
from circle_room.protocol.model import (
    LeaveReason,
    Member,
    Pause,
    Presence,
    Role,
    RoomState,
    Round,
    Settings,
    SignalKind,
    Turn,
    Via,
)
from circle_room.protocol.room import apply
from circle_room.tui.plain.text import (
    Quit,
    Say,
    Send,
    describe,
    ordinal,
    parse,
    people,
    who_line,
)

SAM, DANA, LEE = 1, 2, 3


def room(**changes: object) -> RoomState:
    members = {
        SAM: Member(SAM, "Sam", Role.FACILITATOR),
        DANA: Member(DANA, "Dana"),
        LEE: Member(LEE, "Lee"),
    }
    return replace(RoomState(members=members, next_member_id=4), **changes)  # type: ignore[arg-type]


def said(event: object, state: RoomState, me: int) -> list[str]:
    return describe(event, state, apply(state, event), me)  # type: ignore[arg-type]


def holding(holder: int, turn_id: int = 7) -> RoomState:
    return room(turn=Turn(turn_id, holder, Via.QUEUE, 0.0, running_since=0.0))


# --- sentences ---------------------------------------------------------------------------


def test_small_words() -> None:
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 102)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "102nd",
    ]  # fmt: skip
    assert people(1) == "1 person"
    assert people(3) == "3 people"


def test_the_stick_reads_like_speech() -> None:
    state = room()
    assert said(StickGiven(DANA, 7, Via.QUEUE, 0.0), state, LEE) == ["Dana has the stick."]
    assert said(StickGiven(DANA, 7, Via.ROUND, 0.0), state, LEE) == [
        "Dana has the stick in the round."
    ]
    mine = said(StickGiven(DANA, 7, Via.FACILITATOR, 0.0, SAM), state, DANA)
    assert mine == [
        "Sam gave the stick to you.",
        "Type to share. /yield when you are done, or /pass to pass it on.",
    ]


def test_shares_are_one_clean_line() -> None:
    state = holding(DANA)
    event = Shared(7, DANA, "first line\n\x1b[2Jsecond\u202e line")
    assert said(event, state, LEE) == ["Dana: first line [2Jsecond line"]
    assert said(event, state, DANA) == ["You: first line [2Jsecond line"]


def test_names_are_cleaned_before_they_are_spoken() -> None:
    state = room()
    event = MemberJoined(Member(4, "Kim\x1b]0;x\x07"))
    assert said(event, state, DANA) == ["Kim]0;x joined."]


def test_metoo_counts_go_to_the_speaker_only() -> None:
    state = holding(DANA)
    assert said(MeTooCount(7, 3), state, DANA) == ["3 people said me too."]
    assert said(MeTooCount(7, 3), state, LEE) == []
    assert said(MeTooSet(7, LEE, True), state, LEE) == ["You said me too."]
    assert said(MeTooSet(7, LEE, False), state, LEE) == ["You took back your me too."]


def test_pause_names_the_role_not_the_person() -> None:
    event = Paused(SAM, "Let's take a breath", 5.0)
    assert said(event, room(), DANA) == ["The facilitator paused the circle: Let's take a breath"]
    assert said(event, room(), SAM) == ["You paused the circle: Let's take a breath"]


def test_hands() -> None:
    state = room(queue=(LEE,))
    assert said(HandRaised(DANA), state, DANA) == ["Your hand is raised; you are 2nd in the queue."]
    assert said(HandRaised(DANA), state, LEE) == ["Dana raised a hand (2nd in the queue)."]
    assert said(HandLowered(LEE, SAM), state, LEE) == ["Sam lowered your hand."]
    assert said(HandLowered(LEE, LEE), state, DANA) == ["Lee lowered their hand."]
    moved = said(HandMoved(LEE, 0, SAM), room(queue=(DANA, LEE)), LEE)
    assert moved == ["Sam moved your hand to 1st in the queue."]


def test_presence() -> None:
    state = room()
    assert said(MemberAway(LEE), state, DANA) == ["Lee lost their connection; their place is kept."]
    assert said(MemberLeft(LEE, LeaveReason.QUIET), state, DANA) == []
    assert said(MemberLeft(LEE, LeaveReason.REMOVED), state, DANA) == [
        "Lee was removed from the meeting."
    ]
    assert said(MemberLeft(DANA, LeaveReason.REMOVED), state, DANA) == [
        "A facilitator removed you from this meeting."
    ]
    waiting = MemberJoined(Member(4, "Kim", presence=Presence.WAITING))
    assert said(waiting, state, DANA) == []
    assert said(waiting, state, SAM) == ["Kim is in the waiting room. /admit Kim lets them in."]


def test_private_signals() -> None:
    event = SignalSent(DANA, SignalKind.CHECK_IN, 1.0)
    assert said(event, room(), DANA) == ["Sent to the facilitators only: I need a check-in."]
    assert said(event, room(), SAM) == [
        "Private signal from Dana: I need a check-in.",
        "/seen Dana tells them you saw it.",
    ]


def test_an_answer_to_a_signal_and_a_quiet_exit() -> None:
    seen = SignalSeen(DANA, SAM)
    assert said(seen, room(signals=(DANA,)), DANA) == ["A facilitator has seen your signal."]
    assert said(seen, room(signals=(DANA,)), SAM) == ["You let Dana know you saw their signal."]
    quiet = MemberLeft(LEE, LeaveReason.QUIET)
    assert said(quiet, room(), SAM) == ["Lee left quietly."]
    assert said(quiet, room(), DANA) == []


def test_settings() -> None:
    event = SettingsChanged(replace(Settings(), share_limit=300), SAM)
    assert said(event, room(), DANA) == ["Suggested time per share: 5 minutes."]


def test_who() -> None:
    state = room(queue=(LEE,), turn=Turn(1, DANA, Via.QUEUE, 0.0))
    assert who_line(state, DANA) == (
        "In the circle: Sam (facilitator), Dana (you, has the stick), Lee (hand raised, 1st)."
    )


# --- typed lines ----------------------------------------------------------------------------


def test_blank_lines_do_nothing() -> None:
    assert parse("   ", room(), DANA) is None


def test_member_commands() -> None:
    state = holding(LEE)
    assert parse("/hand", state, DANA) == Send(RaiseHand())
    assert parse("/metoo", state, DANA) == Send(MeToo(7, True))
    with_mine = replace(state, turn=replace(state.turn, metoo=frozenset({DANA})))  # type: ignore[type-var]
    assert parse("/metoo", with_mine, DANA) == Send(MeToo(7, False))
    assert parse("/signal checkin", state, DANA) == Send(SendSignal(SignalKind.CHECK_IN))
    assert parse("/signal out", state, DANA) == Send(SendSignal(SignalKind.STEPPING_OUT))
    assert parse("/SIGNAL ok", state, DANA) == Send(SendSignal(SignalKind.OK))
    assert parse("/quit", state, DANA) == Quit(quiet=False)
    assert parse("/quit quiet", state, DANA) == Quit(quiet=True)
    assert parse("/lower", room(queue=(DANA,)), DANA) == Send(LowerHand())


def test_the_holder_shares_yields_and_passes() -> None:
    state = holding(DANA)
    assert parse("hello circle", state, DANA) == Send(Share("hello circle"))
    assert parse("//slash at the start", state, DANA) == Send(Share("/slash at the start"))
    assert parse("/yield", state, DANA) == Send(Yield())
    assert parse("/pass", state, DANA) == Send(Pass())
    shared = replace(state, turn=replace(state.turn, shares=1))  # type: ignore[type-var]
    assert parse("/pass", shared, DANA) == Send(Yield())


def test_a_listener_is_told_gently_why_nothing_was_sent() -> None:
    action = parse("hello", holding(LEE), DANA)
    assert isinstance(action, Say)
    assert action.lines[0].startswith("Lee has the stick, so your words were not sent.")
    paused = replace(holding(DANA), pause=Pause(SAM, "", 0.0))
    action = parse("hello", paused, DANA)
    assert isinstance(action, Say) and "paused" in action.lines[0]


def lee_is_away() -> RoomState:
    state = room()
    return replace(
        state, members={**state.members, LEE: Member(LEE, "Lee", presence=Presence.AWAY)}
    )


def lee_waits() -> RoomState:
    state = room()
    members = dict(state.members)
    members[LEE] = Member(LEE, "Lee", presence=Presence.WAITING)
    return replace(state, members=members)


@pytest.mark.parametrize(
    ("line", "command", "state"),
    [
        ("/pause Let's take a breath", PauseCircle("Let's take a breath"), room(queue=(LEE,))),
        ("/give dana", GiveStick(DANA), room(queue=(LEE,))),
        ("/lower Lee", LowerHand(LEE), room(queue=(LEE,))),
        ("/lower all", LowerAllHands(), room(queue=(LEE,))),
        ("/remove LEE", Remove(LEE), room(queue=(LEE,))),
        ("/round start", StartRound(), room(queue=(LEE,))),
        ("/round stop", StopRound(), room(round=Round(SAM, (LEE,)))),
        ("/admit Lee", Admit(LEE), lee_waits()),
        ("/seen dana", AckSignal(DANA), room(signals=(DANA, LEE))),
        ("/seen", AckSignal(LEE), room(signals=(LEE, DANA))),
        ("/release Lee", ReleaseSeat(LEE), lee_is_away()),
        ("/limit 5", ChangeSettings(replace(Settings(), share_limit=300)), room(queue=(LEE,))),
    ],
)
def test_facilitator_commands(line: str, command: object, state: RoomState) -> None:
    assert parse(line, state, SAM) == Send(command)  # type: ignore[arg-type]
    refused = parse(line, state, DANA)
    assert isinstance(refused, Say)
    assert refused.lines[0].startswith("Only a facilitator")


@pytest.mark.parametrize(
    ("line", "state", "words"),
    [
        ("/round stop", room(), "No round is going."),
        ("/admit Lee", room(), "Lee is not in the waiting room."),
        ("/seen", room(), "No signal is waiting for an answer."),
        ("/seen", room(signals=(SAM,)), "No signal is waiting for an answer."),
        ("/seen Lee", room(), "No signal from Lee is waiting for an answer."),
        ("/release Lee", room(), "Lee is here; only the seat of someone away can be released."),
        ("/release Lee", lee_waits(), "Lee is in the waiting room: admit them or turn them away."),
        ("/release", lee_is_away(), "Say whose seat: /release NAME."),
        ("/lock", room(locked=True), "The room is already locked."),
        ("/take", holding(SAM), "You already hold the stick."),
        ("/pause", room(pause=Pause(SAM, "", 0.0)), "The circle is already paused. /resume "),
        ("/limit 181", room(), "The suggested time per share must be between 0 and 180"),
    ],
)
def test_what_the_room_would_refuse_is_not_sent(line: str, state: RoomState, words: str) -> None:
    refused = parse(line, state, SAM)
    assert isinstance(refused, Say)
    assert refused.lines[0].startswith(words)


def test_mistakes_get_a_sentence_not_a_command() -> None:
    state = room()
    for line in ("/give Nobody", "/limit soon", "/round sideways", "/signal help", "/frobnicate"):
        assert isinstance(parse(line, state, SAM), Say), line
    assert parse("/give Nobody", state, SAM) == Say(
        ("Nobody here is called Nobody. /who lists who is here.",)
    )

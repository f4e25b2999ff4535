"""Plain mode says the narrator's sentences: every kind, hints as slash commands."""

from __future__ import annotations

from dataclasses import replace

from circle_room.protocol.messages import (
    HandRaised,
    MemberJoined,
    Paused,
    RoundStarted,
    SettingsChanged,
    StickGiven,
)
from circle_room.protocol.model import Member, Presence, Role, RoomState, Settings, Via
from circle_room.protocol.room import apply
from circle_room.tui.client.model import Meeting
from circle_room.tui.client.narrator import Kind
from circle_room.tui.plain.describe import SHARE_HINT, describe, spoken

SAM, DANA, LEE = 1, 2, 3


def room() -> RoomState:
    members = {
        SAM: Member(SAM, "Sam", Role.FACILITATOR),
        DANA: Member(DANA, "Dana"),
        LEE: Member(LEE, "Lee"),
    }
    return RoomState(members=members, next_member_id=4)


def said(event: object, state: RoomState, me: int) -> list[str]:
    return describe(event, state, apply(state, event), me)  # type: ignore[arg-type]


def test_hints_become_the_commands_to_type() -> None:
    assert said(StickGiven(DANA, 7, Via.QUEUE, 0.0), room(), DANA) == [
        "You have the stick.",
        SHARE_HINT,
    ]
    waiting = MemberJoined(Member(4, "Kim", presence=Presence.WAITING))
    assert said(waiting, room(), SAM) == ["Kim is in the waiting room. /admit Kim lets them in."]
    agreements = SettingsChanged(replace(Settings(), agreements=("Be kind.", "Pass.")), SAM)
    assert said(agreements, room(), DANA) == [
        "The group agreements were updated.",
        "Our group agreements:",
        "1. Be kind.",
        "2. Pass.",
    ]


def test_both_skins_say_the_same_sentence() -> None:
    """What the app's share log notes, plain mode says in the same words."""
    events = [
        HandRaised(LEE),
        StickGiven(LEE, 1, Via.FACILITATOR, 1.0, SAM),
        Paused(SAM, "Let's breathe", 2.0),
        RoundStarted(SAM, (SAM, LEE, DANA)),
    ]
    meeting = Meeting("tuesday", DANA, room())
    plain: list[str] = []
    for seq, event in enumerate(events, start=1):
        received = meeting.fold(seq, event, 0.0)
        assert received is not None
        plain += spoken(received.lines, received.after)
    logged = [e.line.text for e in meeting.view(0.0).log if e.line.kind is Kind.NOTE][1:]
    assert logged == [
        "Sam gave the stick to Lee.",
        "The facilitator paused the circle: Let's breathe",
        "Sam started a round: each person in turn shares or passes. Order: Sam, Lee and you.",
    ]
    assert plain == ["Lee raised a hand (1st in the queue).", *logged]

"""The client's one meeting model: each event folded once, the same room as the relay's."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circle_room.protocol.errors import Refused
from circle_room.protocol.messages import (
    AckSignal,
    Admit,
    ChangeSettings,
    Deny,
    Event,
    GiveStick,
    Leave,
    Lock,
    LowerAllHands,
    LowerHand,
    MeToo,
    MeTooSet,
    MoveHand,
    Pass,
    PauseCircle,
    Promote,
    RaiseHand,
    ReleaseSeat,
    Remove,
    ResumeCircle,
    SendSignal,
    Share,
    Shared,
    SignalSent,
    StartRound,
    StickGiven,
    StopRound,
    TakeStick,
    Welcome,
    Yield,
)
from circle_room.protocol.model import Member, Role, RoomState, Settings, SignalKind, Via
from circle_room.protocol.room import apply
from circle_room.protocol.text import clean_block, clean_line
from circle_room.server.decide import Disconnect, Expire, Join, Reconnect, decide
from circle_room.tui.client import model
from circle_room.tui.client.model import Meeting
from circle_room.tui.client.narrator import Kind
from tests.server.support import without_metoo_names

ROOT = Path(__file__).resolve().parents[3]
FAY, ANA, BEN = 1, 2, 3
HOST = FAY


def state() -> RoomState:
    return RoomState(
        members={
            FAY: Member(FAY, "Fay", Role.FACILITATOR),
            ANA: Member(ANA, "Ana"),
            BEN: Member(BEN, "Ben"),
        },
        next_member_id=4,
    )


# --- folding -----------------------------------------------------------------------------


def test_an_event_is_folded_once_and_a_repeat_is_ignored() -> None:
    m = Meeting("tuesday", ANA, state())
    stick = StickGiven(BEN, 1, Via.QUEUE, 10.0)
    first = m.fold(1, stick, 10.0)
    assert first is not None
    assert first.before == state() and first.after == m.state == apply(state(), stick)
    assert [line.text for line in first.lines] == ["Ben has the stick."]
    assert m.fold(1, stick, 11.0) is None  # The same seq again changes nothing.
    assert m.seq == 1 and m.state == first.after
    assert [e.line.text for e in m.view(0).log].count("Ben has the stick.") == 1


def test_a_welcome_gives_the_seat_and_the_room() -> None:
    m = Meeting()
    fresh = m.welcomed(Welcome(1, ANA, "t", "e", 7, False, state()), "tuesday", resuming=False)
    assert fresh is None
    assert (m.me, m.seq, m.state, m.room) == (ANA, 7, state(), "tuesday")


def test_a_resumed_seat_keeps_its_room_until_the_missed_events_come() -> None:
    kept = apply(state(), StickGiven(BEN, 1, Via.QUEUE, 10.0))
    m = Meeting(state=kept, seq=3)
    assert m.welcomed(Welcome(1, ANA, "t", "e", 3, True), "tuesday", resuming=True) is None
    assert m.state == kept and m.seq == 3


def test_a_fresh_seat_after_the_grace_period_becomes_you() -> None:
    m = Meeting("tuesday", ANA, state(), seq=5)
    rejoined = replace(state(), members={**state().members, 4: Member(4, "Ana2")}, next_member_id=5)
    welcome = Welcome(1, 4, "t", "e", 9, False, rejoined)
    fresh = m.welcomed(welcome, "tuesday", resuming=True)
    assert fresh is not None and fresh.gap and fresh.member_id == 4
    assert m.me == 4 and m.state == rejoined and m.seq == 9
    assert "was not kept" in m.view(0).log[-1].line.text


def test_a_private_signal_goes_to_the_inbox_under_a_clean_name() -> None:
    room = replace(state(), members={**state().members, ANA: Member(ANA, "An\x1b[2Ja")})
    m = Meeting("tuesday", FAY, room)
    m.fold(1, SignalSent(ANA, SignalKind.OK, 5.0), 5.0)
    assert [(s.name, s.kind) for s in m.view(5.0).inbox] == [("An[2Ja", SignalKind.OK)]
    assert all(e.line.kind is not Kind.SIGNAL for e in m.view(5.0).log)


def test_only_the_model_applies_events_on_the_client() -> None:
    """The app and plain mode read the meeting; neither keeps a copy of the room's rules."""
    appliers = []
    for path in sorted((ROOT / "tui").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "circle_room.protocol.room":
                appliers.append(path.relative_to(ROOT).as_posix())
    assert appliers == ["tui/client/model.py"]


# --- against the relay's own rules ---------------------------------------------------------

words = st.sampled_from(["hello", "", "I felt that\n\n\ntoo", "\x1b[31mred\u202e", "\u200d"])
settings_values = st.builds(
    Settings,
    share_limit=st.sampled_from([0, 60, 300]),
    auto_pass=st.booleans(),
    show_metoo_names=st.booleans(),
    waiting_room=st.booleans(),
    agreements=st.sampled_from([("Be kind.",), ("Be kind.", "Pass freely.")]),
)


def a_turn(data: st.DataObject, room: RoomState) -> tuple[int | None, object]:
    """Someone does something: mostly people in the room, aimed at people in the room."""
    people = [*room.members, 99]
    who = data.draw(st.sampled_from(people))
    if room.holder is not None and data.draw(st.booleans()):
        who = room.holder
    target = data.draw(st.sampled_from(people))
    turn = room.turn.id if room.turn is not None else 0
    command = data.draw(
        st.sampled_from(
            [
                Yield(),
                Pass(),
                RaiseHand(),
                LowerHand(),
                LowerHand(target),
                LowerAllHands(),
                MoveHand(target, 0),
                MeToo(turn, True),
                MeToo(turn, False),
                GiveStick(target),
                TakeStick(),
                StartRound(),
                StopRound(),
                PauseCircle("Let's breathe."),
                ResumeCircle(),
                Remove(target),
                Admit(target),
                Deny(target),
                Lock(data.draw(st.booleans())),
                Promote(target, data.draw(st.sampled_from(Role))),
                SendSignal(data.draw(st.sampled_from(SignalKind))),
                AckSignal(target),
                ReleaseSeat(target),
                ChangeSettings(data.draw(settings_values)),
                Leave(data.draw(st.booleans())),
                Disconnect(),
                Reconnect(),
                Expire(),
            ]
        )
        | st.builds(Share, words)
    )
    if data.draw(st.integers(0, 9)) == 0:
        return None, Join(data.draw(st.sampled_from(["Cy", "Dee", "Eve", "\x1b[1mX"])))
    if who == HOST and isinstance(command, (Leave, Disconnect, Expire)):
        command = RaiseHand()  # The host stays, to watch.
    return who, command


OPENING = [Join("Fay", Role.FACILITATOR), Join("Ana", Role.MEMBER), Join("Ben", Role.MEMBER)]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_folding_what_the_relay_sends_reaches_the_relays_room(data: st.DataObject) -> None:
    room, log = RoomState(), []
    for step in range(data.draw(st.integers(0, 60)) + 3):
        if step < 3:
            name, role = [("Fay", Role.FACILITATOR), ("Ana", Role.MEMBER), ("Ben", Role.MEMBER)][
                step
            ]
            who, command = None, Join(name, role)
        else:
            who, command = a_turn(data, room)
        try:
            events = decide(room, who, command, float(step))
        except Refused:
            continue
        for event in events:
            room = apply(room, event)
            log.append(event)

    # The host joined first; from then on the relay sends it every event but the
    # me-too names, which go to the one who said it (and the comparison leaves out).
    host = Meeting("tuesday", HOST, apply(RoomState(), log[0]), seq=1)
    applied: list[Event] = []
    counting = mock.patch.object(
        model, "apply", side_effect=lambda s, e: applied.append(e) or apply(s, e)
    )
    with counting:
        for seq, event in enumerate(log[1:], start=2):
            if isinstance(event, MeTooSet):
                continue
            received = host.fold(seq, event, float(seq))
            assert received is not None
            assert host.fold(seq, event, float(seq)) is None  # A repeat is not folded again.
            assert received.after == host.state
            for line in received.lines:
                clean = clean_block if line.kind is Kind.SHARE else clean_line
                assert line.text and clean(line.text) == line.text, (event, line)
                assert clean_line(line.who) == line.who
    assert applied == [e for e in log[1:] if not isinstance(e, MeTooSet)]
    assert without_metoo_names(host.state) == without_metoo_names(room)
    assert list(host.state.members) == list(room.members)


def test_a_share_is_logged_clean_and_whole() -> None:
    m = Meeting("tuesday", ANA, apply(state(), StickGiven(BEN, 1, Via.QUEUE, 0.0)), seq=1)
    m.fold(2, Shared(1, BEN, "one\n\n\n\ntwo \x1b[2J"), 1.0)
    share = m.view(1.0).log[-1].line
    assert (share.kind, share.who, share.text) == (Kind.SHARE, "Ben", "one\n\ntwo [2J")

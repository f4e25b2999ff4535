"""``apply``: how each event changes a room."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from circle_room.protocol.codec import encode_state
from circle_room.protocol.messages import (
    HandLowered,
    HandMoved,
    HandRaised,
    HandsCleared,
    LockChanged,
    MemberAdmitted,
    MemberAway,
    MemberBack,
    MemberJoined,
    MemberLeft,
    MeTooCount,
    MeTooSet,
    Paused,
    Resumed,
    RoleChanged,
    RoundEnded,
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
    Round,
    Settings,
    SignalKind,
    Via,
)
from circle_room.protocol.room import apply, apply_all
from circle_room.protocol.skeleton import looks

ROOT = Path(__file__).resolve().parents[2]

FRAN, ANA, BEN, CY = 1, 2, 3, 4


@pytest.fixture
def room() -> RoomState:
    """Fran facilitates; Ana, Ben and Cy are members, in that circle order."""
    return apply_all(
        RoomState(),
        [
            MemberJoined(Member(FRAN, "Fran", Role.FACILITATOR)),
            MemberJoined(Member(ANA, "Ana")),
            MemberJoined(Member(BEN, "Ben")),
            MemberJoined(Member(CY, "Cy")),
        ],
    )


def test_joining_keeps_circle_order_and_counts_ids(room: RoomState) -> None:
    assert list(room.members) == [FRAN, ANA, BEN, CY]
    assert room.next_member_id == 5
    assert [m.name for m in room.present()] == ["Fran", "Ana", "Ben", "Cy"]
    assert room.is_facilitator(FRAN)
    assert not room.is_facilitator(ANA)
    assert room.find_name("ana") == room.members[ANA]


def test_apply_never_modifies_the_state_it_is_given(room: RoomState) -> None:
    members_before = dict(room.members)
    after = apply_all(
        room,
        [
            MemberLeft(ANA, LeaveReason.LEFT),
            MemberJoined(Member(9, "Nia")),
            MemberAway(BEN),
            RoleChanged(CY, Role.COFACILITATOR, FRAN),
        ],
    )
    assert dict(room.members) == members_before
    assert list(after.members) == [FRAN, BEN, CY, 9]
    assert after.members[BEN].presence is Presence.AWAY
    assert after.members[CY].role is Role.COFACILITATOR


def test_apply_refuses_what_is_not_an_event(room: RoomState) -> None:
    with pytest.raises(TypeError):
        apply(room, "not an event")  # type: ignore[arg-type]


# --- the stick ------------------------------------------------------------------------


def test_stick_given_starts_a_turn_and_lowers_the_hand(room: RoomState) -> None:
    state = apply_all(room, [HandRaised(ANA), HandRaised(BEN), HandRaised(CY)])
    assert state.queue == (ANA, BEN, CY)
    state = apply(state, StickGiven(BEN, 7, Via.QUEUE, 100.0))
    assert state.holder == BEN
    assert state.queue == (ANA, CY)
    assert state.turn is not None
    assert state.turn.id == 7
    assert state.turn.started_at == 100.0
    assert state.turn.running_since == 100.0
    assert state.turn.shares == 0
    assert state.next_turn_id == 8


def test_stick_given_replaces_the_previous_turn(room: RoomState) -> None:
    state = apply_all(
        room,
        [
            StickGiven(ANA, 1, Via.QUEUE, 10.0),
            Shared(1, ANA, "words"),
            MeTooSet(1, BEN, True),
            MeTooCount(1, 1),
            StickGiven(CY, 2, Via.FACILITATOR, 20.0, by=FRAN),
        ],
    )
    assert state.turn is not None
    assert state.turn.holder == CY
    assert state.turn.via is Via.FACILITATOR
    assert state.turn.shares == 0
    assert state.turn.metoo == frozenset()
    assert state.turn.metoo_count == 0


def test_stick_given_in_a_round_moves_the_round_past_skipped_members(room: RoomState) -> None:
    state = apply(room, RoundStarted(FRAN, (FRAN, ANA, BEN, CY)))
    assert state.round == Round(FRAN, (FRAN, ANA, BEN, CY))
    state = apply(state, StickGiven(FRAN, 1, Via.ROUND, 1.0))
    assert state.round is not None
    assert state.round.remaining == (ANA, BEN, CY)
    # Ana and Ben were away when their turn came: Cy is next, and they are skipped.
    state = apply(state, StickGiven(CY, 2, Via.ROUND, 2.0))
    assert state.round is not None
    assert state.round.remaining == ()


def test_stick_given_to_someone_outside_the_round_leaves_it_alone(room: RoomState) -> None:
    state = apply(room, RoundStarted(FRAN, (ANA, BEN)))
    state = apply(state, StickGiven(CY, 1, Via.FACILITATOR, 1.0, by=FRAN))
    assert state.round == Round(FRAN, (ANA, BEN))


def test_stick_released_ends_only_the_matching_turn(room: RoomState) -> None:
    state = apply(room, StickGiven(ANA, 3, Via.QUEUE, 1.0))
    assert apply(state, StickReleased(ANA, 2, Release.YIELDED, 2.0)) == state
    after = apply(state, StickReleased(ANA, 3, Release.YIELDED, 2.0))
    assert after.turn is None
    assert after.holder is None
    assert after.next_turn_id == 4


# --- the turn clock -------------------------------------------------------------------


def test_pause_and_resume_freeze_and_restart_the_turn_clock(room: RoomState) -> None:
    state = apply(room, StickGiven(ANA, 1, Via.QUEUE, 100.0))
    assert state.turn is not None
    assert state.turn.elapsed_at(130.0) == 30.0

    state = apply(state, Paused(FRAN, "Let's take a breath.", 130.0))
    assert state.pause == Pause(FRAN, "Let's take a breath.", 130.0)
    assert state.turn is not None
    assert state.turn.running_since is None
    assert state.turn.elapsed == 30.0
    assert state.turn.elapsed_at(130.0) == 30.0
    assert state.turn.elapsed_at(999.0) == 30.0  # the clock is frozen

    state = apply(state, Resumed(FRAN, 200.0))
    assert state.pause is None
    assert state.turn is not None
    assert state.turn.running_since == 200.0
    assert state.turn.elapsed_at(210.0) == 40.0

    state = apply(state, Paused(FRAN, "again", 220.0))
    assert state.turn is not None
    assert state.turn.elapsed_at(500.0) == 50.0


def test_stick_given_during_a_pause_starts_with_a_stopped_clock(room: RoomState) -> None:
    state = apply_all(
        room, [Paused(FRAN, "breathe", 10.0), StickGiven(ANA, 1, Via.FACILITATOR, 12.0, FRAN)]
    )
    assert state.turn is not None
    assert state.turn.running_since is None
    assert state.turn.elapsed_at(50.0) == 0.0
    state = apply(state, Resumed(FRAN, 60.0))
    assert state.turn is not None
    assert state.turn.elapsed_at(65.0) == 5.0


def test_elapsed_never_runs_backwards(room: RoomState) -> None:
    state = apply(room, StickGiven(ANA, 1, Via.QUEUE, 100.0))
    assert state.turn is not None
    assert state.turn.elapsed_at(90.0) == 0.0


def test_pause_and_resume_without_a_turn(room: RoomState) -> None:
    state = apply(room, Paused(FRAN, "breathe", 5.0))
    assert state.turn is None
    assert state.pause is not None
    state = apply(state, Resumed(FRAN, 6.0))
    assert state.pause is None
    assert state == room


# --- leaving --------------------------------------------------------------------------


def test_member_left_clears_holder_queue_and_round(room: RoomState) -> None:
    state = apply_all(
        room,
        [
            RoundStarted(FRAN, (FRAN, ANA, BEN, CY)),
            StickGiven(ANA, 1, Via.ROUND, 1.0),
            HandRaised(BEN),
            HandRaised(CY),
        ],
    )
    assert state.round is not None
    assert state.round.remaining == (BEN, CY)
    state = apply(state, MemberLeft(ANA, LeaveReason.QUIET))
    assert ANA not in state.members
    assert state.turn is None
    state = apply(state, MemberLeft(BEN, LeaveReason.REMOVED))
    assert BEN not in state.members
    assert state.queue == (CY,)
    assert state.round is not None
    assert state.round.remaining == (CY,)


def test_member_left_keeps_someone_elses_turn(room: RoomState) -> None:
    state = apply_all(room, [StickGiven(ANA, 1, Via.QUEUE, 1.0), HandRaised(BEN)])
    after = apply(state, MemberLeft(CY, LeaveReason.TIMED_OUT))
    assert after.turn == state.turn
    assert after.queue == (BEN,)
    assert list(after.members) == [FRAN, ANA, BEN]


def test_a_removed_or_denied_name_is_barred_until_the_meeting_ends(room: RoomState) -> None:
    state = apply(room, MemberJoined(Member(5, "Zo\u00eb", presence=Presence.WAITING)))
    state = apply_all(
        state,
        [
            MemberLeft(ANA, LeaveReason.REMOVED),
            MemberLeft(5, LeaveReason.DENIED),
            MemberLeft(BEN, LeaveReason.LEFT),
            MemberLeft(CY, LeaveReason.TIMED_OUT),
            MemberLeft(99, LeaveReason.REMOVED),  # Nobody: no name to bar.
        ],
    )
    # Kept as skeletons: how the names look, accents, case and lookalikes folded.
    assert state.removed == looks("Ana") | looks("Zo\u00eb") == {"ana", "zoe"}
    # The last person leaving ends the meeting, and its removals with it.
    assert apply(state, MemberLeft(FRAN, LeaveReason.LEFT)).removed == frozenset()


def test_events_about_unknown_members_change_nothing(room: RoomState) -> None:
    for event in (
        MemberAdmitted(99, FRAN),
        MemberAway(99),
        MemberBack(99),
        RoleChanged(99, Role.COFACILITATOR, FRAN),
        MemberLeft(99, LeaveReason.LEFT),
        HandLowered(99, FRAN),
        HandMoved(99, 0, FRAN),
        StickReleased(99, 1, Release.TAKEN, 1.0),
        Shared(1, 99, "nobody"),
        MeTooSet(1, 99, True),
        MeTooCount(1, 3),
    ):
        assert apply(room, event) == room, event


# --- presence and roles ---------------------------------------------------------------


def test_presence_changes(room: RoomState) -> None:
    state = apply(room, MemberJoined(Member(5, "Dee", presence=Presence.WAITING)))
    assert state.members[5].presence is Presence.WAITING
    assert [m.id for m in state.present()] == [FRAN, ANA, BEN, CY]
    state = apply(state, MemberAdmitted(5, FRAN))
    assert state.members[5].presence is Presence.PRESENT
    state = apply(state, MemberAway(ANA))
    assert state.members[ANA].presence is Presence.AWAY
    assert [m.id for m in state.present()] == [FRAN, BEN, CY, 5]
    state = apply(state, MemberBack(ANA))
    assert state.members[ANA].presence is Presence.PRESENT
    assert list(state.members) == [FRAN, ANA, BEN, CY, 5]


def test_role_changed(room: RoomState) -> None:
    state = apply(room, RoleChanged(ANA, Role.COFACILITATOR, FRAN))
    assert state.members[ANA].role is Role.COFACILITATOR
    assert state.is_facilitator(ANA)
    state = apply(state, RoleChanged(ANA, Role.MEMBER, FRAN))
    assert not state.is_facilitator(ANA)


# --- the queue ------------------------------------------------------------------------


def test_queue_events(room: RoomState) -> None:
    state = apply_all(room, [HandRaised(ANA), HandRaised(BEN), HandRaised(CY), HandRaised(ANA)])
    assert state.queue == (ANA, BEN, CY)
    assert apply(state, HandMoved(CY, 0, FRAN)).queue == (CY, ANA, BEN)
    assert apply(state, HandMoved(ANA, 1, FRAN)).queue == (BEN, ANA, CY)
    assert apply(state, HandMoved(ANA, 99, FRAN)).queue == (BEN, CY, ANA)
    assert apply(state, HandMoved(CY, -5, FRAN)).queue == (CY, ANA, BEN)
    assert apply(state, HandLowered(BEN, BEN)).queue == (ANA, CY)
    assert apply(state, HandsCleared(FRAN)).queue == ()


# --- listening ------------------------------------------------------------------------


def test_metoo_applies_only_to_its_turn(room: RoomState) -> None:
    state = apply(room, StickGiven(ANA, 4, Via.QUEUE, 1.0))
    state = apply_all(state, [MeTooSet(4, BEN, True), MeTooSet(4, CY, True), MeTooCount(4, 2)])
    assert state.turn is not None
    assert state.turn.metoo == frozenset({BEN, CY})
    assert state.turn.metoo_count == 2
    state = apply_all(state, [MeTooSet(4, BEN, False), MeTooCount(4, 1)])
    assert state.turn is not None
    assert state.turn.metoo == frozenset({CY})
    assert state.turn.metoo_count == 1
    assert apply_all(state, [MeTooSet(3, FRAN, True), MeTooCount(3, 9)]) == state


def test_shared_counts_shares_but_never_stores_the_text(room: RoomState) -> None:
    secret = "my brother's name is Theodoric and I miss him"
    state = apply(room, StickGiven(ANA, 1, Via.QUEUE, 1.0))
    state = apply_all(state, [Shared(1, ANA, secret), Shared(1, ANA, secret + " so much")])
    assert state.turn is not None
    assert state.turn.shares == 2
    assert secret not in repr(state)
    assert "Theodoric" not in repr(state)
    snapshot = encode_state(state)
    assert secret.encode() not in snapshot
    assert b"Theodoric" not in snapshot
    # A share that lands after its turn ended changes nothing at all.
    assert apply(state, Shared(2, ANA, secret)) == state


# --- the rest -------------------------------------------------------------------------


def test_round_lock_settings_and_signals(room: RoomState) -> None:
    state = apply(room, RoundStarted(FRAN, (ANA, CY)))
    assert state.round == Round(FRAN, (ANA, CY))
    assert apply(state, RoundEnded(None)).round is None
    assert apply(state, RoundEnded(FRAN)).round is None
    assert apply(room, LockChanged(True, FRAN)).locked
    assert not apply(apply(room, LockChanged(True, FRAN)), LockChanged(False, FRAN)).locked
    settings = Settings(share_limit=300, auto_pass=False)
    assert apply(room, SettingsChanged(settings, FRAN)).settings == settings


def test_a_signal_waits_for_its_answer_in_the_order_sent(room: RoomState) -> None:
    state = apply(room, SignalSent(ANA, SignalKind.CHECK_IN, 1.0))
    assert state == replace(room, signals=(ANA,))
    state = apply(state, SignalSent(CY, SignalKind.OK, 2.0))
    # A second signal before the answer keeps the first one's place.
    assert apply(state, SignalSent(ANA, SignalKind.OK, 3.0)).signals == (ANA, CY)
    assert apply(state, SignalSeen(ANA, FRAN)).signals == (CY,)
    assert apply(state, SignalSeen(ANA, FRAN)) == apply(room, SignalSent(CY, SignalKind.OK, 2.0))
    assert apply(state, MemberLeft(CY, LeaveReason.QUIET)).signals == (ANA,)
    # Total: an answer to nobody, or a signal from someone unknown, changes nothing.
    assert apply(room, SignalSeen(ANA, FRAN)) == room
    assert apply(room, SignalSent(99, SignalKind.OK, 1.0)) == room


def test_core_imports_no_ui_network_or_event_loop() -> None:
    code = textwrap.dedent(
        """
        import sys
        import circle_room.protocol, protocol.codec, protocol.room, server.decide
        loaded = sorted(m for m in ("textual", "websockets", "asyncio") if m in sys.modules)
        print(",".join(loaded))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""

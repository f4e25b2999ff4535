"""A member who asked for every seq notices the first one that never came, and nothing else.

With ``Welcome.gapless`` the relay sends each seq once, as its event or as a
``Hidden``; so a gap is a loss. ``Meeting`` must raise ``OutOfOrder`` at the
first frame after a lost one (changing nothing), never otherwise, and must
not look for gaps where they are normal: without ``gapless``, or in the
waiting room.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from circle_room.protocol.errors import OutOfOrder
from circle_room.protocol.messages import LockChanged, MemberAdmitted, Welcome
from circle_room.protocol.model import Member, Presence, Role, RoomState
from circle_room.tui.client.model import Meeting

FAY, ANA = 1, 2
NOW = 1_000.0


def room(ana: Presence = Presence.PRESENT) -> RoomState:
    return RoomState(
        members={
            FAY: Member(FAY, "Fay", Role.FACILITATOR, Presence.PRESENT),
            ANA: Member(ANA, "Ana", Role.MEMBER, ana),
        },
        next_member_id=3,
    )


def welcomed(gapless: bool = True, ana: Presence = Presence.PRESENT) -> Meeting:
    meeting = Meeting()
    welcome = Welcome(1, ANA, "token", "epoch", 2, False, room(ana), gapless=gapless)
    meeting.welcomed(welcome, "tuesday", resuming=False)
    return meeting


frames = st.lists(st.tuples(st.booleans(), st.booleans()), max_size=30)
"""(sent as a ``Hidden``, lost on the way) for seq 3, 4, ..."""


@given(frames)
def test_the_first_frame_after_a_lost_one_raises_and_changes_nothing(
    script: list[tuple[bool, bool]],
) -> None:
    meeting = welcomed()
    lost = None
    for seq, (hidden, gone) in enumerate(script, start=3):
        if gone:
            lost = seq if lost is None else lost
            continue
        before = (meeting.state, meeting.seq)
        event = LockChanged(seq % 2 == 0, FAY)

        def feed(seq: int = seq, hidden: bool = hidden, event: LockChanged = event) -> None:
            if hidden:
                meeting.hidden(seq)
            else:
                meeting.fold(seq, event, NOW)

        if lost is None:
            feed()
            assert meeting.seq == seq
            continue
        with pytest.raises(OutOfOrder) as gap:
            feed()
        assert (gap.value.expected, gap.value.got) == (lost, seq)
        assert (meeting.state, meeting.seq) == before
        return


def test_gaps_are_normal_without_gapless() -> None:
    meeting = welcomed(gapless=False)
    assert meeting.fold(9, LockChanged(True, FAY), NOW) is not None
    meeting.hidden(12)
    assert meeting.seq == 12


def test_the_waiting_room_hears_only_of_its_own_admission() -> None:
    meeting = welcomed(ana=Presence.WAITING)
    received = meeting.fold(7, MemberAdmitted(ANA, FAY), NOW)
    assert received is not None and meeting.seq == 7
    # Now in the circle: every seq counts.
    with pytest.raises(OutOfOrder):
        meeting.fold(9, LockChanged(True, FAY), NOW)


def test_a_second_gap_in_a_row_is_counted() -> None:
    meeting = welcomed()
    for expected in (1, 2):
        with pytest.raises(OutOfOrder):
            meeting.fold(5, LockChanged(True, FAY), NOW)
        assert meeting.misses == expected
    meeting.fold(3, LockChanged(True, FAY), NOW)
    assert meeting.misses == 0


@given(st.integers(min_value=1, max_value=6), st.integers(min_value=0, max_value=6))
def test_a_run_of_hidden_seqs_is_a_gap_only_if_it_starts_past_the_next_seq(
    span: int, skipped: int
) -> None:
    # Version 2's ``HiddenRun``: seqs ``seq - span + 1`` to ``seq`` were not for us.
    meeting = welcomed()
    first = meeting.seq + 1 + skipped
    last = first + span - 1
    if skipped:
        with pytest.raises(OutOfOrder) as gap:
            meeting.hidden(last, span)
        assert (gap.value.expected, gap.value.got) == (3, first)
        assert meeting.seq == 2
    else:
        meeting.hidden(last, span)
        assert meeting.seq == last

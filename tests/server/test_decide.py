"""``decide``: who may do what, when, and what happens when they do."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace

import pytest

from circle_room.protocol.errors import Refused
from circle_room.protocol.messages import (
    AckSignal,
    Admit,
    ChangeSettings,
    Command,
    Deny,
    Event,
    GiveStick,
    HandLowered,
    HandMoved,
    HandRaised,
    HandsCleared,
    Leave,
    Lock,
    LockChanged,
    LowerAllHands,
    LowerHand,
    MemberAdmitted,
    MemberAway,
    MemberBack,
    MemberJoined,
    MemberLeft,
    MeToo,
    MeTooCount,
    MeTooSet,
    MoveHand,
    Pass,
    PauseCircle,
    Paused,
    Promote,
    RaiseHand,
    ReleaseSeat,
    Remove,
    ResumeCircle,
    Resumed,
    RoleChanged,
    RoundEnded,
    RoundStarted,
    SendSignal,
    SettingsChanged,
    Share,
    Shared,
    SignalSeen,
    SignalSent,
    StartRound,
    StickGiven,
    StickReleased,
    StopRound,
    TakeStick,
    Yield,
)
from circle_room.protocol.model import (
    LeaveReason,
    Member,
    Presence,
    Release,
    Role,
    RoomState,
    Settings,
    SignalKind,
    Via,
)
from circle_room.protocol.room import apply_all
from circle_room.protocol.room_settings import (
    MAX_AGREEMENT_CHARS,
    MAX_AGREEMENTS,
    MAX_SHARE_LIMIT,
)
from circle_room.server.decide import (
    Disconnect,
    Expire,
    Join,
    Observed,
    Reconnect,
    decide,
)

NOW = 1000.0
FRAN, ANA, BEN, CY, DEE = 1, 2, 3, 4, 5

Action = Command | Observed


def act(state: RoomState, who: int | None, command: Action, now: float = NOW) -> RoomState:
    """Decide ``command`` and return the state after its events."""
    return apply_all(state, decide(state, who, command, now))


def events(state: RoomState, who: int | None, command: Action, now: float = NOW) -> list[Event]:
    return decide(state, who, command, now)


def refuse(state: RoomState, who: int | None, command: Action, code: str) -> Refused:
    """Assert ``command`` is refused with ``code`` and the state is untouched."""
    before = copy.deepcopy(state)
    with pytest.raises(Refused) as info:
        decide(state, who, command, NOW)
    assert info.value.code == code, info.value
    assert info.value.message
    assert state == before
    return info.value


def join(state: RoomState, name: str, role: Role = Role.MEMBER) -> tuple[RoomState, int]:
    (joined,) = decide(state, None, Join(name, role), NOW)
    assert isinstance(joined, MemberJoined)
    return apply_all(state, [joined]), joined.member.id


@pytest.fixture
def room() -> RoomState:
    """Fran facilitates; Ana, Ben and Cy are members, in that circle order."""
    state = RoomState()
    for name, role, expected in (
        ("Fran", Role.FACILITATOR, FRAN),
        ("Ana", Role.MEMBER, ANA),
        ("Ben", Role.MEMBER, BEN),
        ("Cy", Role.MEMBER, CY),
    ):
        state, member_id = join(state, name, role)
        assert member_id == expected
    return state


def holding(state: RoomState, member_id: int) -> RoomState:
    """The state after a facilitator gives ``member_id`` the stick."""
    state = act(state, FRAN, GiveStick(member_id) if member_id != FRAN else TakeStick())
    assert state.holder == member_id
    return state


def with_hands(state: RoomState, *member_ids: int) -> RoomState:
    for member_id in member_ids:
        state = act(state, member_id, RaiseHand())
    return state


def turn_id(state: RoomState) -> int:
    assert state.turn is not None
    return state.turn.id


# --- joining --------------------------------------------------------------------------


def test_joining_gives_new_ids_in_circle_order(room: RoomState) -> None:
    assert list(room.members) == [FRAN, ANA, BEN, CY]
    assert room.members[FRAN].role is Role.FACILITATOR
    assert all(m.presence is Presence.PRESENT for m in room.members.values())
    assert events(room, None, Join("Dee")) == [MemberJoined(Member(DEE, "Dee"))]


def test_names_are_cleaned_on_join(room: RoomState) -> None:
    assert events(room, None, Join("  \x1b[31mRed\u202e  ")) == [
        MemberJoined(Member(DEE, "[31mRed"))
    ]


@pytest.mark.parametrize(
    "name",
    [
        "Ana",
        "ana",
        "ANA",
        "  Ana ",
        "A\u200bna",
        "Ana\x1b",
        "\u202eAna",
        "Ana\u200d",  # Issue 11: "Fac\u200d" beside the facilitator "Fac"
        "\u0410na",  # Issue 11: a Cyrillic lookalike
        "A\u034fna",  # U+034F COMBINING GRAPHEME JOINER
    ],
)
def test_a_taken_name_is_refused_case_insensitively(room: RoomState, name: str) -> None:
    refuse(room, None, Join(name), "name_taken")
    refuse(room, None, Join(name, Role.FACILITATOR), "name_taken")


@pytest.mark.parametrize("taken", ["Zo\u00e9", "Zoe\u0301"])
@pytest.mark.parametrize("name", ["Zo\u00e9", "Zoe\u0301", "ZOE\u0301", "Zoe\u200b\u0301"])
def test_names_that_look_the_same_are_the_same_name(room: RoomState, taken: str, name: str) -> None:
    state, _ = join(room, taken)
    refuse(state, None, Join(name), "name_taken")


@pytest.mark.parametrize("name", ["", "   ", "\x1b\u202e", "x" * 33, "\u200d\u200c"])
def test_a_bad_name_is_refused(room: RoomState, name: str) -> None:
    refuse(room, None, Join(name), "bad_name")


def test_a_locked_room_refuses_members_but_not_facilitators(room: RoomState) -> None:
    assert events(room, FRAN, Lock()) == [LockChanged(True, FRAN)]
    state = act(room, FRAN, Lock())
    refuse(state, FRAN, Lock(), "no_change")
    refuse(state, None, Join("Dee"), "locked")
    state, gil = join(state, "Gil", Role.COFACILITATOR)
    assert state.members[gil].presence is Presence.PRESENT
    state, _ = join(state, "Host", Role.FACILITATOR)
    state = act(state, FRAN, Lock(False))
    assert not state.locked
    state, dee = join(state, "Dee")
    assert dee in state.members


def test_commands_from_outside_the_room_are_refused(room: RoomState) -> None:
    refuse(room, 99, RaiseHand(), "not_in_room")
    refuse(room, None, RaiseHand(), "not_in_room")
    refuse(room, 99, Leave(), "not_in_room")


def test_an_unknown_command_is_refused(room: RoomState) -> None:
    refuse(room, ANA, "dance", "unknown_command")  # type: ignore[arg-type]


# --- facilitator-only commands ----------------------------------------------------------------


def _plain(state: RoomState) -> RoomState:
    return state


def _paused(state: RoomState) -> RoomState:
    return act(state, FRAN, PauseCircle())


def _hands(state: RoomState) -> RoomState:
    return with_hands(holding(state, FRAN), ANA, BEN, CY)


def _waiting(state: RoomState) -> RoomState:
    state = act(state, FRAN, ChangeSettings(Settings(waiting_room=True)))
    state, dee = join(state, "Dee")
    assert dee == DEE
    assert state.members[DEE].presence is Presence.WAITING
    return state


def _in_round(state: RoomState) -> RoomState:
    return act(state, FRAN, StartRound())


def _signalled(state: RoomState) -> RoomState:
    return act(state, CY, SendSignal(SignalKind.CHECK_IN))


def _away(state: RoomState) -> RoomState:
    return act(state, CY, Disconnect())


FACILITATOR_ONLY: list[tuple[Callable[[RoomState], RoomState], Command]] = [
    (_plain, PauseCircle("breathe")),
    (_paused, ResumeCircle()),
    (_plain, GiveStick(CY)),
    (_plain, TakeStick()),
    (_hands, MoveHand(CY, 0)),
    (_hands, LowerHand(CY)),
    (_hands, LowerAllHands()),
    (_plain, Remove(CY)),
    (_plain, Lock()),
    (_waiting, Admit(DEE)),
    (_waiting, Deny(DEE)),
    (_plain, Promote(CY)),
    (_plain, ChangeSettings(Settings(share_limit=300))),
    (_plain, StartRound()),
    (_in_round, StopRound()),
    (_signalled, AckSignal(CY)),
    (_away, ReleaseSeat(CY)),
]


@pytest.mark.parametrize(
    ("setup", "command"), FACILITATOR_ONLY, ids=[type(c).__name__ for _, c in FACILITATOR_ONLY]
)
def test_only_facilitators_may(
    room: RoomState, setup: Callable[[RoomState], RoomState], command: Command
) -> None:
    state = setup(room)
    refuse(state, ANA, command, "not_facilitator")
    assert events(state, FRAN, command)
    cofacilitated = act(state, FRAN, Promote(BEN))
    assert cofacilitated.members[BEN].role is Role.COFACILITATOR
    if isinstance(command, Promote):
        refuse(cofacilitated, BEN, command, "not_facilitator")
    else:
        assert events(cofacilitated, BEN, command)


# --- the stick ------------------------------------------------------------------------


def test_only_the_holder_shares(room: RoomState) -> None:
    refuse(room, ANA, Share("hello"), "not_holder")
    state = holding(room, ANA)
    refuse(state, BEN, Share("hello"), "not_holder")
    refuse(state, FRAN, Share("hello"), "not_holder")
    assert events(state, ANA, Share("hello\x1b[2J")) == [Shared(turn_id(state), ANA, "hello[2J")]
    assert state.turn is not None
    assert act(state, ANA, Share("hello")).turn == replace(state.turn, shares=1)


def test_an_empty_or_long_share_is_refused(room: RoomState) -> None:
    state = holding(room, ANA)
    refuse(state, ANA, Share(" \n\x1b "), "empty_share")
    refuse(state, ANA, Share("\u200d"), "empty_share")
    refuse(state, ANA, Share("x" * 4001), "share_too_long")


def test_only_the_holder_yields_or_passes(room: RoomState) -> None:
    state = holding(room, ANA)
    for who in (BEN, FRAN):
        refuse(state, who, Yield(), "not_holder")
        refuse(state, who, Pass(), "not_holder")


def test_the_queue_is_in_the_order_hands_were_raised(room: RoomState) -> None:
    state = holding(room, FRAN)
    assert events(state, CY, RaiseHand()) == [HandRaised(CY)]
    state = with_hands(state, CY, ANA, BEN)
    assert state.queue == (CY, ANA, BEN)
    refuse(state, ANA, RaiseHand(), "hand_raised")
    refuse(state, FRAN, RaiseHand(), "already_holder")


def test_receiving_the_stick_lowers_the_hand(room: RoomState) -> None:
    state = with_hands(holding(room, FRAN), CY, ANA)
    first = turn_id(state)
    assert events(state, FRAN, Yield()) == [
        StickReleased(FRAN, first, Release.YIELDED, NOW),
        StickGiven(CY, first + 1, Via.QUEUE, NOW),
    ]
    state = act(state, FRAN, Yield())
    assert state.holder == CY
    assert state.queue == (ANA,)


def test_a_hand_raised_while_nobody_holds_the_stick_gets_it(room: RoomState) -> None:
    assert events(room, ANA, RaiseHand()) == [HandRaised(ANA), StickGiven(ANA, 1, Via.QUEUE, NOW)]
    state = act(room, ANA, RaiseHand())
    assert state.holder == ANA
    assert state.queue == ()


def test_pass_is_allowed_before_sharing_but_not_after(room: RoomState) -> None:
    state = with_hands(holding(room, ANA), BEN)
    first = turn_id(state)
    assert events(state, ANA, Pass()) == [
        StickReleased(ANA, first, Release.PASSED, NOW),
        StickGiven(BEN, first + 1, Via.QUEUE, NOW),
    ]
    shared = act(state, ANA, Share("Just a little."))
    refuse(shared, ANA, Pass(), "already_shared")
    assert events(shared, ANA, Yield())[0] == StickReleased(ANA, first, Release.YIELDED, NOW)


def test_yield_with_no_hands_leaves_the_stick_free(room: RoomState) -> None:
    state = holding(room, ANA)
    assert events(state, ANA, Yield()) == [StickReleased(ANA, turn_id(state), Release.YIELDED, NOW)]
    assert act(state, ANA, Yield()).turn is None


def test_auto_pass_off_leaves_the_stick_with_nobody(room: RoomState) -> None:
    state = act(room, FRAN, ChangeSettings(Settings(auto_pass=False)))
    # A hand raised while nobody holds the stick waits for the facilitator.
    assert events(state, ANA, RaiseHand()) == [HandRaised(ANA)]
    state = with_hands(holding(state, BEN), ANA)
    assert events(state, BEN, Yield()) == [StickReleased(BEN, turn_id(state), Release.YIELDED, NOW)]
    state = act(state, BEN, Yield())
    assert state.turn is None
    assert state.queue == (ANA,)
    # The facilitator passes it by hand...
    given = events(state, FRAN, GiveStick(ANA))
    assert given == [StickGiven(ANA, state.next_turn_id, Via.FACILITATOR, NOW, FRAN)]
    # ...or turns automatic passing back on, and the next hand gets it at once.
    turned_on = events(state, FRAN, ChangeSettings(Settings(auto_pass=True)))
    assert turned_on == [
        SettingsChanged(Settings(auto_pass=True), FRAN),
        StickGiven(ANA, state.next_turn_id, Via.QUEUE, NOW),
    ]


def test_giving_the_stick(room: RoomState) -> None:
    state = with_hands(holding(room, ANA), BEN)
    first = turn_id(state)
    assert events(state, FRAN, GiveStick(BEN)) == [
        StickReleased(ANA, first, Release.TAKEN, NOW),
        StickGiven(BEN, first + 1, Via.FACILITATOR, NOW, FRAN),
    ]
    assert act(state, FRAN, GiveStick(BEN)).queue == ()
    refuse(state, FRAN, GiveStick(ANA), "already_holder")
    refuse(state, FRAN, GiveStick(99), "no_such_member")
    away = act(state, CY, Disconnect())
    refuse(away, FRAN, GiveStick(CY), "not_present")


def test_taking_the_stick(room: RoomState) -> None:
    state = holding(room, ANA)
    assert events(state, FRAN, TakeStick()) == [
        StickReleased(ANA, turn_id(state), Release.TAKEN, NOW),
        StickGiven(FRAN, turn_id(state) + 1, Via.FACILITATOR, NOW, FRAN),
    ]
    refuse(act(state, FRAN, TakeStick()), FRAN, TakeStick(), "already_holder")


# --- the queue ------------------------------------------------------------------------


def test_lowering_hands(room: RoomState) -> None:
    state = with_hands(holding(room, FRAN), ANA, BEN, CY)
    assert events(state, BEN, LowerHand()) == [HandLowered(BEN, BEN)]
    assert act(state, BEN, LowerHand()).queue == (ANA, CY)
    refuse(state, BEN, LowerHand(ANA), "not_facilitator")
    assert events(state, FRAN, LowerHand(ANA)) == [HandLowered(ANA, FRAN)]
    assert events(state, FRAN, LowerAllHands()) == [HandsCleared(FRAN)]
    cleared = act(state, FRAN, LowerAllHands())
    assert cleared.queue == ()
    refuse(cleared, ANA, LowerHand(), "hand_not_raised")
    refuse(cleared, FRAN, LowerHand(ANA), "hand_not_raised")
    refuse(cleared, FRAN, LowerAllHands(), "hand_not_raised")


def test_moving_hands(room: RoomState) -> None:
    state = with_hands(holding(room, FRAN), ANA, BEN, CY)
    assert events(state, FRAN, MoveHand(CY, 0)) == [HandMoved(CY, 0, FRAN)]
    assert act(state, FRAN, MoveHand(CY, 0)).queue == (CY, ANA, BEN)
    assert act(state, FRAN, MoveHand(ANA, 1)).queue == (BEN, ANA, CY)
    # Positions past either end mean "last" and "next".
    assert events(state, FRAN, MoveHand(ANA, 99)) == [HandMoved(ANA, 2, FRAN)]
    assert act(state, FRAN, MoveHand(ANA, 99)).queue == (BEN, CY, ANA)
    assert act(state, FRAN, MoveHand(CY, -3)).queue == (CY, ANA, BEN)
    refuse(state, FRAN, MoveHand(ANA, 0), "no_change")
    refuse(state, FRAN, MoveHand(CY, 7), "no_change")
    refuse(state, FRAN, MoveHand(FRAN, 0), "hand_not_raised")


# --- pause ----------------------------------------------------------------------------


@pytest.fixture
def paused(room: RoomState) -> RoomState:
    """Ana holds the stick, Ben's hand is raised, and Fran has paused the circle."""
    state = with_hands(holding(room, ANA), BEN)
    state = act(state, FRAN, PauseCircle("Let's take a breath"))
    assert state.pause is not None
    return state


def test_pause_message_is_cleaned_or_defaulted(room: RoomState) -> None:
    assert events(room, FRAN, PauseCircle(" Breathe\x1b[5m\n in ")) == [
        Paused(FRAN, "Breathe[5m in", NOW)
    ]
    assert events(room, FRAN, PauseCircle()) == [Paused(FRAN, "Let's take a breath.", NOW)]
    refuse(room, FRAN, PauseCircle("x" * 201), "message_too_long")
    refuse(room, FRAN, ResumeCircle(), "not_paused")


def test_while_paused_members_can_only_signal_or_leave(paused: RoomState) -> None:
    turn = turn_id(paused)
    for who, command in (
        (ANA, Share("words")),
        (ANA, Yield()),
        (ANA, Pass()),
        (CY, RaiseHand()),
        (BEN, LowerHand()),
        (BEN, MeToo(turn)),
    ):
        refuse(paused, who, command, "paused")
    assert events(paused, BEN, SendSignal(SignalKind.CHECK_IN)) == [
        SignalSent(BEN, SignalKind.CHECK_IN, NOW)
    ]
    assert events(paused, CY, Leave(quiet=True)) == [MemberLeft(CY, LeaveReason.QUIET)]
    refuse(paused, FRAN, PauseCircle(), "paused")


def test_nobody_shares_while_paused_not_even_a_facilitator(paused: RoomState) -> None:
    state = act(paused, FRAN, TakeStick())
    refuse(state, FRAN, Share("words"), "paused")


def test_a_facilitator_can_still_steer_while_paused(paused: RoomState) -> None:
    assert events(paused, FRAN, LowerHand(BEN)) == [HandLowered(BEN, FRAN)]
    state = act(paused, FRAN, GiveStick(BEN))
    assert state.holder == BEN
    assert state.turn is not None
    assert state.turn.running_since is None  # no clock runs during a pause


def test_the_holder_leaving_during_a_pause_waits_for_resume(paused: RoomState) -> None:
    state = act(paused, ANA, Leave())
    assert state.turn is None
    assert state.queue == (BEN,)
    assert events(state, FRAN, ResumeCircle()) == [
        Resumed(FRAN, NOW),
        StickGiven(BEN, state.next_turn_id, Via.QUEUE, NOW),
    ]


def test_pause_stops_the_share_timer_and_resume_restarts_it(room: RoomState) -> None:
    state = act(room, ANA, RaiseHand(), now=100.0)
    state = act(state, FRAN, PauseCircle(), now=130.0)
    state = act(state, FRAN, ResumeCircle(), now=200.0)
    assert state.turn is not None
    assert state.turn.elapsed_at(200.0) == 30.0
    assert state.turn.elapsed_at(210.0) == 40.0


# --- rounds ---------------------------------------------------------------------------


def _run_round(state: RoomState) -> tuple[RoomState, list[int], list[Event]]:
    """Let each holder yield or pass until the round ends; return who held it."""
    holders: list[int] = []
    last: list[Event] = []
    for step in range(20):
        if state.round is None:
            return state, holders, last
        holder = state.holder
        assert holder is not None
        holders.append(holder)
        last = events(state, holder, Pass() if step % 2 else Yield())
        state = apply_all(state, last)
    raise AssertionError("the round never ended")


def test_a_round_visits_everyone_present_once_in_circle_order(room: RoomState) -> None:
    state = holding(room, BEN)
    started = events(state, FRAN, StartRound())
    assert started == [
        StickReleased(BEN, turn_id(state), Release.TAKEN, NOW),
        RoundStarted(FRAN, (FRAN, ANA, BEN, CY)),
        StickGiven(FRAN, turn_id(state) + 1, Via.ROUND, NOW),
    ]
    state, holders, last = _run_round(apply_all(state, started))
    assert holders == [FRAN, ANA, BEN, CY]
    assert last[-1] == RoundEnded(None)
    assert state.turn is None


def test_a_round_skips_members_who_are_away(room: RoomState) -> None:
    state = act(room, BEN, Disconnect())
    state = act(state, FRAN, StartRound())
    assert state.round is not None
    assert state.round.remaining == (ANA, CY)  # Ben was away at the start
    state = act(act(room, FRAN, StartRound()), CY, Disconnect())
    state, holders, last = _run_round(state)
    assert holders == [FRAN, ANA, BEN]  # Cy dropped out during the round
    assert last[-1] == RoundEnded(None)


def test_a_round_leaves_out_the_waiting_room(room: RoomState) -> None:
    state = act(_waiting(room), FRAN, StartRound())
    assert state.round is not None
    assert DEE not in state.round.remaining


def test_a_round_goes_on_without_auto_pass(room: RoomState) -> None:
    state = act(room, FRAN, ChangeSettings(Settings(auto_pass=False)))
    state = act(state, FRAN, StartRound())
    _, holders, _ = _run_round(state)
    assert holders == [FRAN, ANA, BEN, CY]


def test_hands_wait_for_the_round_to_end(room: RoomState) -> None:
    state = act(room, FRAN, StartRound())
    state, dee = join(state, "Dee")  # joined after the round began: not in it
    state = with_hands(state, dee, BEN)
    assert state.queue == (dee, BEN)
    state, holders, last = _run_round(state)
    assert holders == [FRAN, ANA, BEN, CY]
    assert last[-2] == RoundEnded(None)
    assert isinstance(last[-1], StickGiven)
    assert last[-1].member_id == dee
    assert last[-1].via is Via.QUEUE
    assert state.queue == ()  # Ben's hand went down when his round turn came


def test_a_turn_given_out_of_order_does_not_cost_others_their_round_turn(
    room: RoomState,
) -> None:
    # During a check-in round the facilitator lets Cy go before Ana and Ben.
    # Ana and Ben are present and have not spoken: the round must still reach them.
    state = act(room, FRAN, StartRound())
    state = act(state, FRAN, GiveStick(CY))
    assert state.round is not None
    assert ANA in state.round.remaining
    assert BEN in state.round.remaining
    state, holders, _ = _run_round(state)
    assert holders == [CY, ANA, BEN]


def test_stopping_a_round(room: RoomState) -> None:
    refuse(room, FRAN, StopRound(), "no_round")
    state = act(room, FRAN, StartRound())
    refuse(state, FRAN, StartRound(), "round_running")
    assert events(state, FRAN, StopRound()) == [RoundEnded(FRAN)]
    stopped = act(state, FRAN, StopRound())
    assert stopped.round is None
    assert stopped.holder == FRAN  # the stick stays where it is


# --- waiting room ---------------------------------------------------------------------


def test_joiners_wait_until_admitted(room: RoomState) -> None:
    state = _waiting(room)
    assert state.members[DEE] == Member(DEE, "Dee", Role.MEMBER, Presence.WAITING)
    state, gil = join(state, "Gil", Role.COFACILITATOR)
    assert state.members[gil].presence is Presence.PRESENT
    for command in (RaiseHand(), SendSignal(SignalKind.OK), LowerHand(), Reconnect()):
        refuse(state, DEE, command, "waiting")
    assert events(state, FRAN, Admit(DEE)) == [MemberAdmitted(DEE, FRAN)]
    admitted = act(state, FRAN, Admit(DEE))
    assert admitted.members[DEE].presence is Presence.PRESENT
    refuse(admitted, FRAN, Admit(DEE), "not_waiting")
    refuse(admitted, FRAN, Deny(DEE), "not_waiting")
    refuse(state, FRAN, Admit(99), "no_such_member")


def test_deny_removes(room: RoomState) -> None:
    state = _waiting(room)
    assert events(state, FRAN, Deny(DEE)) == [MemberLeft(DEE, LeaveReason.DENIED)]
    assert DEE not in act(state, FRAN, Deny(DEE)).members


def test_a_waiting_member_may_leave_or_drop(room: RoomState) -> None:
    state = _waiting(room)
    assert events(state, DEE, Leave()) == [MemberLeft(DEE, LeaveReason.LEFT)]
    assert events(state, DEE, Disconnect()) == [MemberLeft(DEE, LeaveReason.QUIET)]


def test_turning_the_waiting_room_off_admits_everyone_waiting(room: RoomState) -> None:
    state = _waiting(room)
    state, eve = join(state, "Eve")
    assert events(state, FRAN, ChangeSettings(Settings(waiting_room=False))) == [
        SettingsChanged(Settings(waiting_room=False), FRAN),
        MemberAdmitted(DEE, FRAN),
        MemberAdmitted(eve, FRAN),
    ]
    state = act(state, FRAN, ChangeSettings(Settings()))
    assert all(m.presence is Presence.PRESENT for m in state.members.values())


# --- me too ---------------------------------------------------------------------------


def test_metoo_once_per_member_per_turn(room: RoomState) -> None:
    state = holding(room, ANA)
    turn = turn_id(state)
    assert events(state, BEN, MeToo(turn)) == [MeTooSet(turn, BEN, True), MeTooCount(turn, 1)]
    state = act(state, BEN, MeToo(turn))
    assert events(state, BEN, MeToo(turn)) == []  # a repeat changes nothing
    state = act(state, CY, MeToo(turn))
    assert state.turn is not None
    assert state.turn.metoo == frozenset({BEN, CY})
    assert state.turn.metoo_count == 2
    assert events(state, BEN, MeToo(turn, on=False)) == [
        MeTooSet(turn, BEN, False),
        MeTooCount(turn, 1),
    ]
    assert events(state, FRAN, MeToo(turn))[-1] == MeTooCount(turn, 3)


def test_metoo_not_on_your_own_share(room: RoomState) -> None:
    state = holding(room, ANA)
    refuse(state, ANA, MeToo(turn_id(state)), "own_share")


def test_metoo_on_a_finished_share_is_refused(room: RoomState) -> None:
    refuse(room, BEN, MeToo(1), "share_over")
    state = with_hands(holding(room, ANA), CY)
    old = turn_id(state)
    state = act(state, BEN, MeToo(old))
    refuse(state, BEN, MeToo(old + 1), "share_over")
    state = act(state, ANA, Yield())
    assert state.holder == CY
    refuse(state, BEN, MeToo(old), "share_over")
    # The next speaker starts with no "me too" at all.
    assert events(state, BEN, MeToo(turn_id(state))) == [
        MeTooSet(turn_id(state), BEN, True),
        MeTooCount(turn_id(state), 1),
    ]


# --- dropping and coming back ---------------------------------------------------------


def test_an_away_member_keeps_their_hand_but_is_passed_over(room: RoomState) -> None:
    state = with_hands(holding(room, FRAN), ANA, BEN)
    assert events(state, ANA, Disconnect()) == [MemberAway(ANA)]
    state = act(state, ANA, Disconnect())
    assert state.queue == (ANA, BEN)
    refuse(state, ANA, Disconnect(), "already_away")
    state = act(state, FRAN, Yield())
    assert state.holder == BEN
    assert state.queue == (ANA,)
    assert events(state, ANA, Reconnect()) == [MemberBack(ANA)]
    state = act(act(state, ANA, Reconnect()), BEN, Yield())
    assert state.holder == ANA


def test_coming_back_to_a_free_stick_takes_it(room: RoomState) -> None:
    state = with_hands(holding(room, FRAN), ANA)
    state = act(act(state, ANA, Disconnect()), FRAN, Yield())
    assert state.turn is None
    assert state.queue == (ANA,)
    assert events(state, ANA, Reconnect()) == [
        MemberBack(ANA),
        StickGiven(ANA, state.next_turn_id, Via.QUEUE, NOW),
    ]


def test_the_holder_keeps_the_stick_while_away(room: RoomState) -> None:
    state = with_hands(holding(room, ANA), BEN)
    turn = state.turn
    state = act(state, ANA, Disconnect())
    assert state.turn == turn
    state = act(state, ANA, Reconnect())
    assert state.turn == turn
    assert state.members[ANA].presence is Presence.PRESENT
    refuse(state, ANA, Reconnect(), "not_away")


def test_expiry_drops_hand_and_stick(room: RoomState) -> None:
    state = with_hands(holding(room, ANA), BEN, CY)
    turn = turn_id(state)
    refuse(state, ANA, Expire(), "not_away")
    state = act(state, ANA, Disconnect())
    assert events(state, ANA, Expire()) == [
        StickReleased(ANA, turn, Release.LEFT, NOW),
        MemberLeft(ANA, LeaveReason.TIMED_OUT),
        StickGiven(BEN, turn + 1, Via.QUEUE, NOW),
    ]
    after = act(state, ANA, Expire())
    assert ANA not in after.members
    state = act(after, CY, Disconnect())
    assert act(state, CY, Expire()).queue == ()


# --- moderation -----------------------------------------------------------------------


def test_removing_the_holder_passes_the_stick_on(room: RoomState) -> None:
    state = with_hands(holding(room, ANA), BEN)
    turn = turn_id(state)
    assert events(state, FRAN, Remove(ANA)) == [
        StickReleased(ANA, turn, Release.LEFT, NOW),
        MemberLeft(ANA, LeaveReason.REMOVED),
        StickGiven(BEN, turn + 1, Via.QUEUE, NOW),
        SettingsChanged(WAITING, FRAN, after_removal=True),
    ]


def test_who_can_be_removed(room: RoomState) -> None:
    refuse(room, FRAN, Remove(FRAN), "not_yourself")
    refuse(room, FRAN, Remove(99), "no_such_member")
    state = act(act(room, FRAN, Promote(BEN)), FRAN, Promote(CY))
    refuse(state, BEN, Remove(FRAN), "not_allowed")
    refuse(state, BEN, Remove(CY), "not_allowed")
    assert events(state, BEN, Remove(ANA))[0] == MemberLeft(ANA, LeaveReason.REMOVED)
    assert events(state, FRAN, Remove(CY))[0] == MemberLeft(CY, LeaveReason.REMOVED)


WAITING = Settings(waiting_room=True)
"""The default settings with the waiting room on."""


@pytest.mark.parametrize(
    "name",
    [
        "Ana",
        "ANA",
        "Ana\u200d",  # Issue 11: a zero-width joiner
        "\u0410na",  # Issue 11: Cyrillic A
        "An\u0430",  # ... and Cyrillic a
        "A\u034fna",  # COMBINING GRAPHEME JOINER
        "\uff21na",  # fullwidth A
        "A\u0301na",  # an accent
    ],
)
def test_a_removed_name_and_its_lookalikes_stay_out(room: RoomState, name: str) -> None:
    state = act(room, FRAN, Remove(ANA))
    refuse(state, None, Join(name), "removed")
    # Only the facilitator's own key seats a name that was removed.
    assert events(state, None, Join(name, Role.FACILITATOR))


def test_after_a_removal_newcomers_wait_until_the_facilitator_turns_it_off(
    room: RoomState,
) -> None:
    assert events(room, FRAN, Remove(ANA)) == [
        MemberLeft(ANA, LeaveReason.REMOVED),
        SettingsChanged(WAITING, FRAN, after_removal=True),
    ]
    state = act(room, FRAN, Remove(ANA))
    assert state.settings.waiting_room
    # Issue 11: another name walked straight back in.
    state, ana2 = join(state, "Ana2")
    assert state.members[ana2].presence is Presence.WAITING
    # The facilitator can turn it off: whoever waits is let in.
    state = act(state, FRAN, ChangeSettings(Settings()))
    assert state.members[ana2].presence is Presence.PRESENT
    state, dee = join(state, "Dee")
    assert state.members[dee].presence is Presence.PRESENT
    # A second removal turns it on again; with it on already, a removal changes no setting.
    assert events(state, FRAN, Remove(dee))[-1] == SettingsChanged(
        WAITING, FRAN, after_removal=True
    )
    state = act(state, FRAN, Remove(dee))
    assert events(state, FRAN, Remove(ana2)) == [MemberLeft(ana2, LeaveReason.REMOVED)]


def test_denying_a_newcomer_changes_no_setting(room: RoomState) -> None:
    state = act(room, FRAN, ChangeSettings(WAITING))
    state, dee = join(state, "Dee")
    assert events(state, FRAN, Deny(dee)) == [MemberLeft(dee, LeaveReason.DENIED)]
    refuse(act(state, FRAN, Deny(dee)), None, Join("D\u0435e"), "removed")


def test_promoting_and_demoting(room: RoomState) -> None:
    assert events(room, FRAN, Promote(ANA)) == [RoleChanged(ANA, Role.COFACILITATOR, FRAN)]
    state = act(room, FRAN, Promote(ANA))
    assert events(state, ANA, PauseCircle())  # now allowed
    refuse(state, FRAN, Promote(ANA), "no_change")
    refuse(state, FRAN, Promote(ANA, Role.FACILITATOR), "not_allowed")
    refuse(state, FRAN, Promote(FRAN, Role.MEMBER), "not_allowed")
    state = act(state, FRAN, Promote(ANA, Role.MEMBER))
    refuse(state, ANA, PauseCircle(), "not_facilitator")


def test_leaving(room: RoomState) -> None:
    assert events(room, ANA, Leave()) == [MemberLeft(ANA, LeaveReason.LEFT)]
    assert events(room, ANA, Leave(quiet=True)) == [MemberLeft(ANA, LeaveReason.QUIET)]


def test_a_signal_waits_until_a_facilitator_answers_it(room: RoomState) -> None:
    sent = events(room, ANA, SendSignal(SignalKind.STEPPING_OUT))
    assert sent == [SignalSent(ANA, SignalKind.STEPPING_OUT, NOW)]
    state = apply_all(room, sent)
    assert state == replace(room, signals=(ANA,))
    state = act(state, FRAN, Promote(BEN))
    assert events(state, BEN, AckSignal(ANA)) == [SignalSeen(ANA, BEN)]
    answered = act(state, BEN, AckSignal(ANA))
    assert answered.signals == ()
    # The other facilitator's "seen" comes too late: it is answered.
    refuse(answered, FRAN, AckSignal(ANA), "no_signal")
    refuse(state, ANA, AckSignal(ANA), "not_facilitator")


def test_a_quiet_exit_drops_the_signal_that_waited(room: RoomState) -> None:
    state = act(room, ANA, SendSignal(SignalKind.CHECK_IN))
    assert events(state, ANA, Leave(quiet=True)) == [MemberLeft(ANA, LeaveReason.QUIET)]
    assert act(state, ANA, Leave(quiet=True)).signals == ()


def test_releasing_an_away_seat_is_a_grace_period_ended_now(room: RoomState) -> None:
    state = with_hands(holding(room, ANA), BEN)
    turn = turn_id(state)
    refuse(state, FRAN, ReleaseSeat(ANA), "not_away")
    state = act(state, ANA, Disconnect())
    refuse(state, CY, ReleaseSeat(ANA), "not_facilitator")
    assert events(state, FRAN, ReleaseSeat(ANA)) == [
        StickReleased(ANA, turn, Release.LEFT, NOW),
        MemberLeft(ANA, LeaveReason.TIMED_OUT, by=FRAN),
        StickGiven(BEN, turn + 1, Via.QUEUE, NOW),
    ]
    released = act(state, FRAN, ReleaseSeat(ANA))
    assert ANA not in released.members
    assert released.removed == frozenset()  # Released, not barred.
    # The name is free again at once: the same person joins again as a newcomer.
    back, ana = join(released, "Ana")
    assert ana not in (ANA, BEN, CY, FRAN)
    assert back.members[ana].name == "Ana"
    # And the seat being kept would have refused that name before.
    refuse(state, None, Join("Ana"), "name_taken")


# --- settings -------------------------------------------------------------------------


def test_settings_are_checked_and_cleaned(room: RoomState) -> None:
    refuse(room, FRAN, ChangeSettings(Settings()), "no_change")
    refuse(room, FRAN, ChangeSettings(Settings(share_limit=-1)), "bad_setting")
    refuse(room, FRAN, ChangeSettings(Settings(share_limit=MAX_SHARE_LIMIT + 1)), "bad_setting")
    many = tuple(f"Agreement {i}" for i in range(MAX_AGREEMENTS + 1))
    refuse(room, FRAN, ChangeSettings(Settings(agreements=many)), "bad_setting")
    long = ("x" * (MAX_AGREEMENT_CHARS + 1),)
    refuse(room, FRAN, ChangeSettings(Settings(agreements=long)), "bad_setting")
    raw = Settings(share_limit=MAX_SHARE_LIMIT, agreements=("  Be\x1b kind. ", "\u202e", "Listen."))
    assert events(room, FRAN, ChangeSettings(raw)) == [
        SettingsChanged(
            Settings(share_limit=MAX_SHARE_LIMIT, agreements=("Be kind.", "Listen.")), FRAN
        )
    ]


def test_the_name_of_an_away_member_is_kept_for_them_and_the_refusal_says_so() -> None:
    state = RoomState()
    state = apply_all(state, decide(state, None, Join("Dana"), 0.0))
    dana = state.find_name("Dana")
    assert dana is not None
    state = apply_all(state, decide(state, dana.id, Disconnect(), 1.0))
    with pytest.raises(Refused) as refused:
        decide(state, None, Join("dana"), 2.0)
    assert refused.value.code == "name_taken"
    assert "being kept" in refused.value.message

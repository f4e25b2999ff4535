"""Random meetings: ``decide`` and ``apply`` keep the room's invariants, whatever people do."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from circle_room.protocol.codec import decode, decode_state, encode, encode_state
from circle_room.protocol.errors import Refused
from circle_room.protocol.messages import (
    COMMAND_TYPES,
    AckSignal,
    Admit,
    ChangeSettings,
    CommandFrame,
    Deny,
    Event,
    EventFrame,
    GiveStick,
    Leave,
    Lock,
    LowerAllHands,
    LowerHand,
    MemberJoined,
    MemberLeft,
    MeToo,
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
    StartRound,
    StopRound,
    TakeStick,
    Yield,
)
from circle_room.protocol.model import (
    DEFAULT_AGREEMENTS,
    LeaveReason,
    Presence,
    Role,
    RoomState,
    Settings,
    SignalKind,
)
from circle_room.protocol.room import apply_all
from circle_room.protocol.rules import why_not
from circle_room.protocol.skeleton import looks, same_name
from circle_room.server.audience import view_for
from circle_room.server.decide import Disconnect, Expire, Join, Reconnect, decide
from circle_room.server.store import CircleSnapshot

ids = st.integers(min_value=0, max_value=12)
words = st.sampled_from(
    ["", "hello", "  I felt that\n\n\ntoo ", "\x1b[31mred", "e\u0301"]
) | st.text(max_size=12)
settings_values = st.builds(
    Settings,
    share_limit=st.sampled_from([0, 60, 300, -1, 20_000]),
    auto_pass=st.booleans(),
    show_metoo_names=st.booleans(),
    waiting_room=st.booleans(),
    agreements=st.sampled_from([DEFAULT_AGREEMENTS, ("Be kind.",), (), ("\x1b", "ok")]),
)

COMMANDS: dict[type, st.SearchStrategy[Any]] = {
    Share: st.builds(Share, words),
    Yield: st.just(Yield()),
    Pass: st.just(Pass()),
    RaiseHand: st.just(RaiseHand()),
    LowerHand: st.builds(LowerHand, st.none() | ids),
    LowerAllHands: st.just(LowerAllHands()),
    MoveHand: st.builds(MoveHand, ids, st.integers(min_value=-2, max_value=8)),
    MeToo: st.builds(MeToo, st.integers(min_value=0, max_value=12), st.booleans()),
    PauseCircle: st.builds(PauseCircle, words),
    ResumeCircle: st.just(ResumeCircle()),
    GiveStick: st.builds(GiveStick, ids),
    TakeStick: st.just(TakeStick()),
    StartRound: st.just(StartRound()),
    StopRound: st.just(StopRound()),
    SendSignal: st.builds(SendSignal, st.sampled_from(SignalKind)),
    Leave: st.builds(Leave, st.booleans()),
    Remove: st.builds(Remove, ids),
    Lock: st.builds(Lock, st.booleans()),
    Admit: st.builds(Admit, ids),
    Deny: st.builds(Deny, ids),
    Promote: st.builds(Promote, ids, st.sampled_from(Role)),
    ChangeSettings: st.builds(ChangeSettings, settings_values),
    AckSignal: st.builds(AckSignal, ids),
    ReleaseSeat: st.builds(ReleaseSeat, ids),
}
assert set(COMMANDS) == set(COMMAND_TYPES)
commands = st.one_of(*COMMANDS.values())
observed = st.sampled_from([Disconnect(), Reconnect(), Expire()])

BARRED = (LeaveReason.REMOVED, LeaveReason.DENIED)
ALLOWED_WHILE_PAUSED = (SendSignal, Leave, Disconnect, Reconnect, Expire, Join)
FACILITATOR_ONLY = (AckSignal, ReleaseSeat, Remove, Admit, Deny, GiveStick, TakeStick)
NAMES = [
    *("Ana", "ana", "Ben", "Cy", "Dee", "Eve", "Zo\u00e9", "Zoe\u0301", "", "\x1b[1m"),
    # Lookalikes: a Cyrillic A, a zero-width joiner, no accent, a digit for a letter.
    *("\u0410na", "Ana\u200d", "Zoe", "B3n", "Dee2"),
]


class Meeting(RuleBasedStateMachine):
    """A room driven only through ``decide``, as the relay drives it."""

    def __init__(self) -> None:
        super().__init__()
        self.state = RoomState()
        self.log: list[Event] = []
        self.now = 1_000.0
        self.refusals = 0

    # -- driving ----------------------------------------------------------------------

    def step(self, who: int | None, command: Any) -> list[Event] | None:
        """Decide ``command``; the events, or ``None`` if it was refused."""
        before = self.state
        kept = copy.deepcopy(before)
        verdict = why_not(before, who, command)
        try:
            events = decide(before, who, command, self.now)
        except Refused as refusal:
            assert refusal.code
            assert refusal.message
            # decide refuses exactly what the rule book refuses, in the same words.
            assert verdict is not None
            assert (verdict.code, verdict.message) == (refusal.code, refusal.message)
            # A refused command changes nothing, not even by mutating in place.
            assert self.state == kept
            assert dict(before.members) == dict(kept.members)
            self.refusals += 1
            return None
        assert verdict is None, verdict
        after = apply_all(before, events)
        if isinstance(command, Join):
            self.check_admission(before, command, events)
        if isinstance(command, FACILITATOR_ONLY):
            assert who is not None and before.is_facilitator(who)
        if isinstance(command, ReleaseSeat):
            self.check_release(before, after, command, events)
        if isinstance(command, AckSignal):
            assert command.member_id in before.signals
            assert command.member_id not in after.signals
        if isinstance(command, SendSignal):
            assert who in after.signals
        for event in events:
            if isinstance(event, MemberLeft) and event.reason in BARRED:
                # A removed or denied name is barred for the rest of the meeting.
                assert looks(before.members[event.member_id].name) <= after.removed
        # Removals are forgotten only when the meeting ends.
        assert before.removed <= after.removed or not after.members
        if (
            before.pause is not None
            and who is not None
            and who in before.members
            and before.members[who].role is Role.MEMBER
            and not isinstance(command, ALLOWED_WHILE_PAUSED)
        ):
            # While paused, only facilitators change anything.
            assert after == before, (command, events)
        for event in events:
            self.log.append(event)
            frame = EventFrame(len(self.log), event)
            assert decode(encode(frame)) == frame
        if not isinstance(command, (Join, Disconnect, Reconnect, Expire)):
            wire = CommandFrame(len(self.log), command)
            assert decode(encode(wire)) == wire
        self.state = after
        return events

    @staticmethod
    def check_admission(before: RoomState, join: Join, events: list[Event]) -> None:
        """A seat was given: every admission rule held."""
        [joined] = events
        assert isinstance(joined, MemberJoined)
        member = join.role is Role.MEMBER
        assert not (member and before.locked)
        assert join.agreed or not before.settings.agreements
        assert not (member and not before.removed.isdisjoint(looks(joined.member.name)))
        assert len(before.members) < join.max_members
        waiting = member and before.settings.waiting_room
        assert joined.member.presence is (Presence.WAITING if waiting else Presence.PRESENT)

    @staticmethod
    def check_release(
        before: RoomState, after: RoomState, command: ReleaseSeat, events: list[Event]
    ) -> None:
        """An away seat was released: they left as if timed out, and their name is free."""
        released = before.members[command.member_id]
        assert released.presence is Presence.AWAY
        assert any(
            isinstance(e, MemberLeft)
            and e.member_id == released.id
            and e.reason is LeaveReason.TIMED_OUT
            and e.by is not None
            for e in events
        )
        assert released.id not in after.members
        assert released.name.casefold() not in after.removed  # Released, not barred.
        if after.members and not after.locked:
            # The same name may take a seat again at once.
            assert why_not(after, None, Join(released.name, Role.MEMBER)) is None

    def someone(self, data: st.DataObject) -> int:
        """Mostly a member of the room; sometimes an id nobody has."""
        present = list(self.state.members)
        return data.draw(st.sampled_from([*present, 0, 99]) if present else ids)

    @initialize(waiting_room=st.booleans(), auto_pass=st.booleans())
    def open_room(self, waiting_room: bool, auto_pass: bool) -> None:
        self.step(None, Join("Fran", Role.FACILITATOR))
        wanted = Settings(waiting_room=waiting_room, auto_pass=auto_pass)
        if wanted != Settings():
            self.step(1, ChangeSettings(wanted))
        for name, role in (
            ("Gil", Role.COFACILITATOR),
            ("Ana", Role.MEMBER),
            ("Ben", Role.MEMBER),
            ("Cy", Role.MEMBER),
        ):
            self.step(None, Join(name, role))
        assert len(self.state.members) == 5

    @rule(
        name=st.sampled_from(NAMES) | st.text(max_size=6),
        role=st.sampled_from(Role),
        agreed=st.sampled_from([True, True, True, False]),
        max_members=st.sampled_from([500, 500, 6]),
    )
    def join(self, name: str, role: Role, agreed: bool, max_members: int) -> None:
        self.step(None, Join(name, role, agreed, max_members))

    @rule(data=st.data(), role=st.sampled_from([Role.MEMBER, Role.FACILITATOR]))
    def someone_removed_tries_again(self, data: st.DataObject, role: Role) -> None:
        if not self.state.removed:
            return
        name = data.draw(st.sampled_from(sorted(self.state.removed)))
        seated = self.step(None, Join(name.upper(), role))
        if role is Role.MEMBER:
            assert seated is None  # Only the room's key outranks a removal.

    @rule(data=st.data(), command=commands)
    def command(self, data: st.DataObject, command: Any) -> None:
        self.step(self.someone(data), command)

    @rule(data=st.data(), command=observed)
    def connection(self, data: st.DataObject, command: Any) -> None:
        self.step(self.someone(data), command)

    @rule(data=st.data(), expire=st.booleans())
    def someone_away_comes_back_or_expires(self, data: st.DataObject, expire: bool) -> None:
        away = [m.id for m in self.state.members.values() if m.presence is Presence.AWAY]
        if away:
            self.step(data.draw(st.sampled_from(away)), Expire() if expire else Reconnect())

    @rule(
        command=st.sampled_from([Share("I hear you."), Share("\x1b]52;c;x\x07"), Yield(), Pass()])
    )
    def holder_acts(self, command: Any) -> None:
        self.step(self.state.holder, command)

    @rule(data=st.data(), on=st.booleans())
    def metoo_now(self, data: st.DataObject, on: bool) -> None:
        if self.state.turn is not None:
            self.step(self.someone(data), MeToo(self.state.turn.id, on))

    @rule(data=st.data(), command=st.sampled_from([RaiseHand(), LowerHand()]))
    def hands(self, data: st.DataObject, command: Any) -> None:
        self.step(self.someone(data), command)

    @rule()
    def everyone_raises_a_hand(self) -> None:
        for member_id in list(self.state.members):
            self.step(member_id, RaiseHand())

    @rule()
    def pause_or_resume(self) -> None:
        host = [m.id for m in self.state.members.values() if m.role is not Role.MEMBER]
        if host:
            paused = self.state.pause is not None
            self.step(host[0], ResumeCircle() if paused else PauseCircle())

    @rule(data=st.data())
    def facilitate(self, data: st.DataObject) -> None:
        facilitators = [m.id for m in self.state.members.values() if m.role is not Role.MEMBER]
        if facilitators:
            self.step(data.draw(st.sampled_from(facilitators)), data.draw(commands))

    @rule(data=st.data())
    def facilitator_steers(self, data: st.DataObject) -> None:
        """Facilitation aimed at people actually in the room, so it mostly succeeds."""
        state = self.state
        facilitators = [m.id for m in state.members.values() if m.role is not Role.MEMBER]
        if not facilitators:
            return
        host = [m.id for m in state.members.values() if m.role is Role.FACILITATOR]
        target = data.draw(st.sampled_from([*state.members, 99]))
        hand = data.draw(st.sampled_from([*state.queue, 99]))
        waiting = [m.id for m in state.members.values() if m.presence is Presence.WAITING]
        waiter = data.draw(st.sampled_from([*waiting, 99]))
        away = [m.id for m in state.members.values() if m.presence is Presence.AWAY]
        command = data.draw(
            st.sampled_from(
                [
                    PauseCircle("breathe"),
                    ResumeCircle(),
                    StartRound(),
                    StopRound(),
                    GiveStick(target),
                    TakeStick(),
                    MoveHand(hand, data.draw(st.integers(min_value=-1, max_value=5))),
                    LowerHand(hand),
                    Admit(waiter),
                    Deny(waiter),
                    Remove(target),
                    Promote(target, data.draw(st.sampled_from([Role.COFACILITATOR, Role.MEMBER]))),
                    ChangeSettings(data.draw(settings_values)),
                    AckSignal(data.draw(st.sampled_from([*state.signals, target]))),
                    ReleaseSeat(data.draw(st.sampled_from([*away, target]))),
                ]
            )
        )
        who = host if isinstance(command, Promote) and host else facilitators
        self.step(data.draw(st.sampled_from(who)), command)

    @rule(data=st.data(), kind=st.sampled_from(SignalKind))
    def someone_signals_and_is_answered(self, data: st.DataObject, kind: SignalKind) -> None:
        self.step(self.someone(data), SendSignal(kind))
        facilitators = [m.id for m in self.state.members.values() if m.role is not Role.MEMBER]
        if self.state.signals and facilitators:
            who = data.draw(st.sampled_from(facilitators))
            self.step(who, AckSignal(data.draw(st.sampled_from(self.state.signals))))

    @rule(data=st.data())
    def someone_drops_and_their_seat_is_released(self, data: st.DataObject) -> None:
        if not self.state.members:
            return
        dropped = data.draw(st.sampled_from(list(self.state.members)))
        self.step(dropped, Disconnect())
        facilitators = [m.id for m in self.state.members.values() if m.role is not Role.MEMBER]
        if facilitators:
            self.step(data.draw(st.sampled_from(facilitators)), ReleaseSeat(dropped))

    @rule(seconds=st.floats(min_value=0.0, max_value=600.0))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds

    # -- invariants -------------------------------------------------------------------

    @invariant()
    def the_stick_and_the_queue_make_sense(self) -> None:
        state = self.state
        assert state.holder not in state.queue
        assert len(set(state.queue)) == len(state.queue)
        assert all(m in state.members for m in state.queue)
        assert all(state.members[m].presence is not Presence.WAITING for m in state.queue)
        if state.turn is not None:
            assert state.turn.holder in state.members
            assert state.members[state.turn.holder].presence is not Presence.WAITING
            assert state.turn.holder not in state.turn.metoo
            # The server sees every "me too", so its count is exact.
            assert state.turn.metoo_count == len(state.turn.metoo)
            assert state.turn.id < state.next_turn_id
            assert state.turn.elapsed_at(self.now) >= 0.0
            assert (state.turn.running_since is None) == (state.pause is not None)
        if state.round is not None:
            assert len(set(state.round.remaining)) == len(state.round.remaining)
            assert all(m in state.members for m in state.round.remaining)

    @invariant()
    def only_members_in_the_circle_wait_for_an_answer(self) -> None:
        state = self.state
        assert len(set(state.signals)) == len(state.signals)
        assert all(m in state.members for m in state.signals)
        assert all(state.members[m].presence is not Presence.WAITING for m in state.signals)
        for viewer in state.members:
            # A member sees at most their own signal waiting; a facilitator, all of them.
            seen = view_for(state, viewer).signals
            mine = tuple(m for m in state.signals if m == viewer)
            assert seen == (state.signals if state.is_facilitator(viewer) else mine)

    @invariant()
    def members_are_unique(self) -> None:
        state = self.state
        assert all(member_id == m.id for member_id, m in state.members.items())
        assert all(m.id < state.next_member_id for m in state.members.values())
        # No two names look alike (``same_name``): nobody can pass for someone else.
        names = [m.name for m in state.members.values()]
        assert not any(same_name(a, b) for i, a in enumerate(names) for b in names[i + 1 :])
        assert all(m.name for m in state.members.values())

    @invariant()
    def the_stick_is_never_idle_when_someone_is_waiting_for_it(self) -> None:
        state = self.state
        if state.turn is not None or state.pause is not None:
            return
        present = {m.id for m in state.present()}
        if state.round is not None:
            assert not present & set(state.round.remaining)
        if state.settings.auto_pass:
            assert not present & set(state.queue)

    @invariant()
    def replaying_the_log_reaches_the_same_room(self) -> None:
        decoded = [decode(encode(EventFrame(seq, e))) for seq, e in enumerate(self.log, 1)]
        replayed = apply_all(RoomState(), [f.event for f in decoded if isinstance(f, EventFrame)])
        assert replayed == self.state
        assert list(replayed.members) == list(self.state.members)

    @invariant()
    def a_snapshot_is_the_room(self) -> None:
        stored = CircleSnapshot.unpack(CircleSnapshot(self.state, {}).pack())
        assert stored.state == self.state
        # What travels is the room without the relay's list of removed names.
        sent = replace(self.state, removed=frozenset())
        assert decode_state(encode_state(self.state)) == sent

    @invariant()
    def removed_names_stay_with_the_relay(self) -> None:
        state = self.state
        assert state.members or not state.removed, "the meeting ended: removals end too"
        assert all(view_for(state, m).removed == frozenset() for m in state.members)
        assert all(looks(name) == {name} for name in state.removed), "skeletons only"


Meeting.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestMeeting = Meeting.TestCase

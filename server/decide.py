"""Carrying out commands: ``decide(state, member, command, now) -> events``.

``decide`` is pure: time comes in as ``now`` and ids come from the state's
counters. It asks the rule book (``protocol.rules``) first: a command the rules
refuse raises that ``Refused`` and changes nothing. An allowed command becomes
the events that carry it out, which the relay then logs, applies and
broadcasts. Nothing below asks who may do what; that is the rule book's alone.

Besides the wire commands, the relay feeds in the membership changes it
observes (``Join``, ``Disconnect``, ``Reconnect``, ``Expire``, defined in
``protocol.observed``) so that every change to a room, whoever causes it, goes
through this one function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from circle_room.protocol.admission import Admission, admission
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
    RoomState,
    Via,
)
from circle_room.protocol.observed import Disconnect, Expire, Join, Observed, Reconnect
from circle_room.protocol.room import apply
from circle_room.protocol.room_settings import checked_settings
from circle_room.protocol.rules import clamped_position, why_not
from circle_room.protocol.text import checked_message, clean_block

# The relay and its tests reach the observed commands through here too.
__all__ = ["Disconnect", "Expire", "Join", "Observed", "Reconnect", "decide"]


class _Plan:
    """Events decided so far, and the state they lead to."""

    def __init__(self, state: RoomState, now: float) -> None:
        self.state = state
        self.now = now
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)
        self.state = apply(self.state, event)

    def release(self, reason: Release) -> None:
        turn = self.state.turn
        if turn is not None:
            self.emit(StickReleased(turn.holder, turn.id, reason, self.now))

    def give(self, member_id: int, via: Via, by: int | None = None) -> None:
        self.emit(StickGiven(member_id, self.state.next_turn_id, via, self.now, by))

    def advance(self) -> None:
        """Hand the stick on if nobody holds it: next in the round, else next hand."""
        state = self.state
        if state.turn is not None or state.pause is not None:
            return
        if state.round is not None:
            for member_id in state.round.remaining:
                member = state.members.get(member_id)
                if member is not None and member.presence is Presence.PRESENT:
                    self.give(member_id, Via.ROUND)
                    return
            self.emit(RoundEnded(None))
        if state.settings.auto_pass:
            for member_id in state.queue:
                member = state.members.get(member_id)
                # An away member keeps their place but is passed over until back.
                if member is not None and member.presence is Presence.PRESENT:
                    self.give(member_id, Via.QUEUE)
                    return

    def leave(self, member_id: int, reason: LeaveReason, by: int | None = None) -> None:
        if self.state.holder == member_id:
            self.release(Release.LEFT)
        self.emit(MemberLeft(member_id, reason, by))
        self.advance()


def decide(
    state: RoomState, member_id: int | None, command: Command | Observed, now: float
) -> list[Event]:
    """Events that carry out ``command`` from ``member_id`` at time ``now``.

    ``member_id`` is ``None`` only for ``Join``. Raises the rule book's
    ``Refused`` when the command is not allowed; the state is then unchanged.
    """
    plan = _Plan(state, now)
    if isinstance(command, Join):
        # The rule book's admission both judges and seats: asked once.
        seat = admission(state, command)
        if isinstance(seat, Refused):
            raise seat
        _join(plan, command, seat)
        return plan.events
    refused = why_not(state, member_id, command)
    if refused is not None:
        raise refused
    assert member_id is not None  # The rule book refuses anyone not in the room.
    _HANDLERS[type(command)](plan, state.members[member_id], command)
    return plan.events


# --- membership --------------------------------------------------------------


def _join(plan: _Plan, command: Join, seat: Admission) -> None:
    member = Member(plan.state.next_member_id, seat.name, command.role, seat.presence)
    plan.emit(MemberJoined(member))


def _disconnect(plan: _Plan, me: Member, command: Disconnect) -> None:
    if me.presence is Presence.WAITING:
        # Nothing to keep for someone not yet admitted.
        plan.leave(me.id, LeaveReason.QUIET)
    else:
        plan.emit(MemberAway(me.id))


def _reconnect(plan: _Plan, me: Member, command: Reconnect) -> None:
    plan.emit(MemberBack(me.id))
    plan.advance()


def _expire(plan: _Plan, me: Member, command: Expire) -> None:
    plan.leave(me.id, LeaveReason.TIMED_OUT)


def _leave(plan: _Plan, me: Member, command: Leave) -> None:
    plan.leave(me.id, LeaveReason.QUIET if command.quiet else LeaveReason.LEFT)


# --- the stick -----------------------------------------------------------------


def _share(plan: _Plan, me: Member, command: Share) -> None:
    turn = plan.state.turn
    assert turn is not None
    # The rule book has checked the share (``checked_share``); only its cleaning is left.
    plan.emit(Shared(turn.id, me.id, clean_block(command.text)))


def _yield(plan: _Plan, me: Member, command: Yield) -> None:
    plan.release(Release.YIELDED)
    plan.advance()


def _pass(plan: _Plan, me: Member, command: Pass) -> None:
    plan.release(Release.PASSED)
    plan.advance()


def _give(plan: _Plan, me: Member, command: GiveStick) -> None:
    plan.release(Release.TAKEN)
    plan.give(command.member_id, Via.FACILITATOR, me.id)


def _take(plan: _Plan, me: Member, command: TakeStick) -> None:
    plan.release(Release.TAKEN)
    plan.give(me.id, Via.FACILITATOR, me.id)


# --- the queue -------------------------------------------------------------------


def _raise_hand(plan: _Plan, me: Member, command: RaiseHand) -> None:
    plan.emit(HandRaised(me.id))
    plan.advance()


def _lower_hand(plan: _Plan, me: Member, command: LowerHand) -> None:
    target_id = me.id if command.member_id is None else command.member_id
    plan.emit(HandLowered(target_id, me.id))


def _lower_all(plan: _Plan, me: Member, command: LowerAllHands) -> None:
    plan.emit(HandsCleared(me.id))


def _move_hand(plan: _Plan, me: Member, command: MoveHand) -> None:
    position = clamped_position(plan.state.queue, command.position)
    plan.emit(HandMoved(command.member_id, position, me.id))


# --- listening ---------------------------------------------------------------------


def _metoo(plan: _Plan, me: Member, command: MeToo) -> None:
    turn = plan.state.turn
    assert turn is not None
    if (me.id in turn.metoo) == command.on:
        return  # Already so: a repeat after a reconnect is not an error.
    plan.emit(MeTooSet(turn.id, me.id, command.on))
    count = len(plan.state.turn.metoo) if plan.state.turn else 0
    plan.emit(MeTooCount(turn.id, count))


def _signal(plan: _Plan, me: Member, command: SendSignal) -> None:
    plan.emit(SignalSent(me.id, command.kind, plan.now))


def _ack_signal(plan: _Plan, me: Member, command: AckSignal) -> None:
    plan.emit(SignalSeen(command.member_id, me.id))


# --- facilitation -------------------------------------------------------------------


def _pause(plan: _Plan, me: Member, command: PauseCircle) -> None:
    message = checked_message(command.message) or "Let's take a breath."
    plan.emit(Paused(me.id, message, plan.now))


def _resume(plan: _Plan, me: Member, command: ResumeCircle) -> None:
    plan.emit(Resumed(me.id, plan.now))
    plan.advance()


def _start_round(plan: _Plan, me: Member, command: StartRound) -> None:
    order = tuple(m.id for m in plan.state.present())
    plan.release(Release.TAKEN)
    plan.emit(RoundStarted(me.id, order))
    plan.advance()


def _stop_round(plan: _Plan, me: Member, command: StopRound) -> None:
    plan.emit(RoundEnded(me.id))


def _remove(plan: _Plan, me: Member, command: Remove) -> None:
    plan.leave(command.member_id, LeaveReason.REMOVED)
    settings = plan.state.settings
    if not settings.waiting_room:
        # The removed name is barred, lookalikes too, but "Mallory2" is another
        # name: from now on a facilitator sees each newcomer before they are in.
        plan.emit(SettingsChanged(replace(settings, waiting_room=True), me.id, after_removal=True))


def _release_seat(plan: _Plan, me: Member, command: ReleaseSeat) -> None:
    # As if their grace period had run out, only sooner: the name is free again.
    plan.leave(command.member_id, LeaveReason.TIMED_OUT, by=me.id)


def _lock(plan: _Plan, me: Member, command: Lock) -> None:
    plan.emit(LockChanged(command.locked, me.id))


def _admit(plan: _Plan, me: Member, command: Admit) -> None:
    plan.emit(MemberAdmitted(command.member_id, me.id))
    plan.advance()


def _deny(plan: _Plan, me: Member, command: Deny) -> None:
    plan.leave(command.member_id, LeaveReason.DENIED)


def _promote(plan: _Plan, me: Member, command: Promote) -> None:
    plan.emit(RoleChanged(command.member_id, command.role, me.id))


def _settings(plan: _Plan, me: Member, command: ChangeSettings) -> None:
    settings = checked_settings(command.settings)
    plan.emit(SettingsChanged(settings, me.id))
    if not settings.waiting_room:
        # Turning the waiting room off lets everyone who was waiting in.
        for member in list(plan.state.members.values()):
            if member.presence is Presence.WAITING:
                plan.emit(MemberAdmitted(member.id, me.id))
    plan.advance()


_HANDLERS: dict[type, Callable[[_Plan, Member, Any], None]] = {
    Disconnect: _disconnect,
    Reconnect: _reconnect,
    Expire: _expire,
    Leave: _leave,
    Share: _share,
    Yield: _yield,
    Pass: _pass,
    GiveStick: _give,
    TakeStick: _take,
    RaiseHand: _raise_hand,
    LowerHand: _lower_hand,
    LowerAllHands: _lower_all,
    MoveHand: _move_hand,
    MeToo: _metoo,
    SendSignal: _signal,
    PauseCircle: _pause,
    ResumeCircle: _resume,
    StartRound: _start_round,
    StopRound: _stop_round,
    Remove: _remove,
    Lock: _lock,
    Admit: _admit,
    Deny: _deny,
    Promote: _promote,
    ChangeSettings: _settings,
    AckSignal: _ack_signal,
    ReleaseSeat: _release_seat,
}

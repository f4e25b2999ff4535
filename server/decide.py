"""Who may do what, when: ``decide(state, member, command, now) -> events``.

``decide`` is pure: time comes in as ``now`` and ids come from the state's
counters. It either returns the events that carry out the command (which the
relay then logs, applies and broadcasts) or raises ``Refused`` with a stable
code and a sentence for the person; a refused command changes nothing.

Besides the wire commands, the relay feeds in the membership changes it
observes (``Join``, ``Disconnect``, ``Reconnect``, ``Expire``) so that every
change to a room, whoever causes it, goes through this one function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from circle_room.protocol.errors import Refused
from circle_room.protocol.messages import (
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
    Via,
)
from circle_room.protocol.room import apply
from circle_room.protocol.text import checked_message, checked_name, checked_share, clean_line

MAX_SHARE_LIMIT = 3 * 60 * 60
MAX_AGREEMENTS = 12
MAX_AGREEMENT_CHARS = 300


# --- what the relay observes, fed in as commands ---------------------------


@dataclass(frozen=True)
class Join:
    """A new person passed the handshake and wants a seat."""

    name: str
    role: Role = Role.MEMBER


@dataclass(frozen=True)
class Disconnect:
    """The member's connection dropped; they may come back within the grace period."""


@dataclass(frozen=True)
class Reconnect:
    """The member resumed on a new connection."""


@dataclass(frozen=True)
class Expire:
    """The grace period ran out while the member was away."""


Observed = Join | Disconnect | Reconnect | Expire


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

    def leave(self, member_id: int, reason: LeaveReason) -> None:
        if self.state.holder == member_id:
            self.release(Release.LEFT)
        self.emit(MemberLeft(member_id, reason))
        self.advance()


def decide(
    state: RoomState, member_id: int | None, command: Command | Observed, now: float
) -> list[Event]:
    """Events that carry out ``command`` from ``member_id`` at time ``now``.

    ``member_id`` is ``None`` only for ``Join``. Raises ``Refused`` when the
    command is not allowed; the state is then unchanged.
    """
    plan = _Plan(state, now)
    if isinstance(command, Join):
        _join(plan, command)
        return plan.events
    if member_id is None or member_id not in state.members:
        raise Refused("not_in_room", "You are not in this room.")
    me = state.members[member_id]
    handler = _HANDLERS.get(type(command))
    if handler is None:
        raise Refused("unknown_command", "That command is not known here.")
    if me.presence is Presence.WAITING and not isinstance(command, (Leave, Disconnect)):
        raise Refused("waiting", "Please wait: a facilitator will let you in shortly.")
    handler(plan, me, command)
    return plan.events


# --- helpers ---------------------------------------------------------------


def _need_facilitator(me: Member) -> None:
    if me.role is Role.MEMBER:
        raise Refused("not_facilitator", "Only a facilitator can do that.")


def _need_not_paused(plan: _Plan, me: Member) -> None:
    if plan.state.pause is not None and me.role is Role.MEMBER:
        raise Refused("paused", "The circle is paused; this can wait until it resumes.")


def _need_holder(plan: _Plan, me: Member) -> None:
    if plan.state.holder != me.id:
        raise Refused("not_holder", "Only the person holding the stick can do that.")


def _target(plan: _Plan, member_id: int) -> Member:
    member = plan.state.members.get(member_id)
    if member is None:
        raise Refused("no_such_member", "That person is not in the room.")
    return member


# --- membership --------------------------------------------------------------


def _join(plan: _Plan, command: Join) -> None:
    state = plan.state
    name = checked_name(command.name)
    taken = state.find_name(name)
    if taken is not None and taken.presence is Presence.AWAY:
        raise Refused(
            "name_taken",
            f"{name}'s seat is being kept for a little while after a dropped connection. "
            "If that is you, your own client takes it back by itself; from a new "
            "terminal, join under another name for now.",
        )
    if taken is not None:
        raise Refused("name_taken", f"Someone here is already called {name}; pick another name.")
    if state.locked and command.role is Role.MEMBER:
        raise Refused("locked", "The room is locked; the facilitator is not admitting anyone.")
    waiting = state.settings.waiting_room and command.role is Role.MEMBER
    presence = Presence.WAITING if waiting else Presence.PRESENT
    plan.emit(MemberJoined(Member(state.next_member_id, name, command.role, presence)))


def _disconnect(plan: _Plan, me: Member, command: Disconnect) -> None:
    if me.presence is Presence.WAITING:
        # Nothing to keep for someone not yet admitted.
        plan.leave(me.id, LeaveReason.QUIET)
    elif me.presence is Presence.PRESENT:
        plan.emit(MemberAway(me.id))
    else:
        raise Refused("already_away", "That member is already away.")


def _reconnect(plan: _Plan, me: Member, command: Reconnect) -> None:
    if me.presence is not Presence.AWAY:
        raise Refused("not_away", "That member is not away.")
    plan.emit(MemberBack(me.id))
    plan.advance()


def _expire(plan: _Plan, me: Member, command: Expire) -> None:
    if me.presence is not Presence.AWAY:
        raise Refused("not_away", "That member came back in time.")
    plan.leave(me.id, LeaveReason.TIMED_OUT)


def _leave(plan: _Plan, me: Member, command: Leave) -> None:
    plan.leave(me.id, LeaveReason.QUIET if command.quiet else LeaveReason.LEFT)


# --- the stick -----------------------------------------------------------------


def _share(plan: _Plan, me: Member, command: Share) -> None:
    _need_holder(plan, me)
    if plan.state.pause is not None:
        raise Refused("paused", "The circle is paused; your words will wait until it resumes.")
    turn = plan.state.turn
    assert turn is not None
    plan.emit(Shared(turn.id, me.id, checked_share(command.text)))


def _yield(plan: _Plan, me: Member, command: Yield) -> None:
    _need_holder(plan, me)
    _need_not_paused(plan, me)
    plan.release(Release.YIELDED)
    plan.advance()


def _pass(plan: _Plan, me: Member, command: Pass) -> None:
    _need_holder(plan, me)
    _need_not_paused(plan, me)
    turn = plan.state.turn
    assert turn is not None
    if turn.shares:
        raise Refused("already_shared", "You have already shared; yield to pass the stick on.")
    plan.release(Release.PASSED)
    plan.advance()


def _give(plan: _Plan, me: Member, command: GiveStick) -> None:
    _need_facilitator(me)
    target = _target(plan, command.member_id)
    if target.presence is not Presence.PRESENT:
        raise Refused("not_present", f"{target.name} is not in the circle right now.")
    if plan.state.holder == target.id:
        raise Refused("already_holder", f"{target.name} already holds the stick.")
    plan.release(Release.TAKEN)
    plan.give(target.id, Via.FACILITATOR, me.id)


def _take(plan: _Plan, me: Member, command: TakeStick) -> None:
    _need_facilitator(me)
    if plan.state.holder == me.id:
        raise Refused("already_holder", "You already hold the stick.")
    plan.release(Release.TAKEN)
    plan.give(me.id, Via.FACILITATOR, me.id)


# --- the queue -------------------------------------------------------------------


def _raise_hand(plan: _Plan, me: Member, command: RaiseHand) -> None:
    _need_not_paused(plan, me)
    if plan.state.holder == me.id:
        raise Refused("already_holder", "You hold the stick; there is no need to raise a hand.")
    if me.id in plan.state.queue:
        raise Refused("hand_raised", "Your hand is already raised.")
    plan.emit(HandRaised(me.id))
    plan.advance()


def _lower_hand(plan: _Plan, me: Member, command: LowerHand) -> None:
    target_id = me.id if command.member_id is None else command.member_id
    if target_id != me.id:
        _need_facilitator(me)
    else:
        _need_not_paused(plan, me)
    if target_id not in plan.state.queue:
        raise Refused("hand_not_raised", "That hand is not raised.")
    plan.emit(HandLowered(target_id, me.id))


def _lower_all(plan: _Plan, me: Member, command: LowerAllHands) -> None:
    _need_facilitator(me)
    if not plan.state.queue:
        raise Refused("hand_not_raised", "No hands are raised.")
    plan.emit(HandsCleared(me.id))


def _move_hand(plan: _Plan, me: Member, command: MoveHand) -> None:
    _need_facilitator(me)
    queue = plan.state.queue
    if command.member_id not in queue:
        raise Refused("hand_not_raised", "That hand is not raised.")
    position = min(max(command.position, 0), len(queue) - 1)
    if queue.index(command.member_id) == position:
        raise Refused("no_change", "That hand is already there.")
    plan.emit(HandMoved(command.member_id, position, me.id))


# --- listening ---------------------------------------------------------------------


def _metoo(plan: _Plan, me: Member, command: MeToo) -> None:
    turn = plan.state.turn
    if turn is None or turn.id != command.turn_id:
        raise Refused("share_over", "That share has ended.")
    if turn.holder == me.id:
        raise Refused("own_share", "This is your own share.")
    _need_not_paused(plan, me)
    if (me.id in turn.metoo) == command.on:
        return  # Already so: a repeat after a reconnect is not an error.
    plan.emit(MeTooSet(turn.id, me.id, command.on))
    count = len(plan.state.turn.metoo) if plan.state.turn else 0
    plan.emit(MeTooCount(turn.id, count))


def _signal(plan: _Plan, me: Member, command: SendSignal) -> None:
    plan.emit(SignalSent(me.id, command.kind, plan.now))


# --- facilitation -------------------------------------------------------------------


def _pause(plan: _Plan, me: Member, command: PauseCircle) -> None:
    _need_facilitator(me)
    if plan.state.pause is not None:
        raise Refused("paused", "The circle is already paused.")
    message = checked_message(command.message) or "Let's take a breath."
    plan.emit(Paused(me.id, message, plan.now))


def _resume(plan: _Plan, me: Member, command: ResumeCircle) -> None:
    _need_facilitator(me)
    if plan.state.pause is None:
        raise Refused("not_paused", "The circle is not paused.")
    plan.emit(Resumed(me.id, plan.now))
    plan.advance()


def _start_round(plan: _Plan, me: Member, command: StartRound) -> None:
    _need_facilitator(me)
    if plan.state.round is not None:
        raise Refused("round_running", "A round is already going.")
    order = tuple(m.id for m in plan.state.present())
    plan.release(Release.TAKEN)
    plan.emit(RoundStarted(me.id, order))
    plan.advance()


def _stop_round(plan: _Plan, me: Member, command: StopRound) -> None:
    _need_facilitator(me)
    if plan.state.round is None:
        raise Refused("no_round", "No round is going.")
    plan.emit(RoundEnded(me.id))


def _remove(plan: _Plan, me: Member, command: Remove) -> None:
    _need_facilitator(me)
    target = _target(plan, command.member_id)
    if target.id == me.id:
        raise Refused("not_yourself", "To leave, use leave rather than remove.")
    if target.role is Role.FACILITATOR or (
        target.role is Role.COFACILITATOR and me.role is not Role.FACILITATOR
    ):
        raise Refused("not_allowed", f"{target.name} is a facilitator and cannot be removed.")
    plan.leave(target.id, LeaveReason.REMOVED)


def _lock(plan: _Plan, me: Member, command: Lock) -> None:
    _need_facilitator(me)
    if plan.state.locked == command.locked:
        raise Refused(
            "no_change", "The room is already " + ("locked." if command.locked else "open.")
        )
    plan.emit(LockChanged(command.locked, me.id))


def _admit(plan: _Plan, me: Member, command: Admit) -> None:
    _need_facilitator(me)
    target = _target(plan, command.member_id)
    if target.presence is not Presence.WAITING:
        raise Refused("not_waiting", f"{target.name} is not in the waiting room.")
    plan.emit(MemberAdmitted(target.id, me.id))
    plan.advance()


def _deny(plan: _Plan, me: Member, command: Deny) -> None:
    _need_facilitator(me)
    target = _target(plan, command.member_id)
    if target.presence is not Presence.WAITING:
        raise Refused("not_waiting", f"{target.name} is not in the waiting room.")
    plan.leave(target.id, LeaveReason.DENIED)


def _promote(plan: _Plan, me: Member, command: Promote) -> None:
    if me.role is not Role.FACILITATOR:
        raise Refused("not_facilitator", "Only the host facilitator can change roles.")
    target = _target(plan, command.member_id)
    if command.role is Role.FACILITATOR or target.role is Role.FACILITATOR:
        raise Refused("not_allowed", "The host facilitator role comes only with the room's key.")
    if target.presence is Presence.WAITING:
        raise Refused("not_present", f"{target.name} is still in the waiting room.")
    if target.role is command.role:
        raise Refused("no_change", f"{target.name} already has that role.")
    plan.emit(RoleChanged(target.id, command.role, me.id))


def _settings(plan: _Plan, me: Member, command: ChangeSettings) -> None:
    _need_facilitator(me)
    settings = _checked_settings(command.settings)
    if settings == plan.state.settings:
        raise Refused("no_change", "Those are the settings already.")
    plan.emit(SettingsChanged(settings, me.id))
    if not settings.waiting_room:
        # Turning the waiting room off lets everyone who was waiting in.
        for member in list(plan.state.members.values()):
            if member.presence is Presence.WAITING:
                plan.emit(MemberAdmitted(member.id, me.id))
    plan.advance()


def _checked_settings(settings: Settings) -> Settings:
    if not 0 <= settings.share_limit <= MAX_SHARE_LIMIT:
        raise Refused("bad_setting", "The share limit must be between 0 and 3 hours.")
    agreements = tuple(a for a in (clean_line(a) for a in settings.agreements) if a)
    if len(agreements) > MAX_AGREEMENTS or any(len(a) > MAX_AGREEMENT_CHARS for a in agreements):
        raise Refused(
            "bad_setting",
            f"Keep to {MAX_AGREEMENTS} agreements of at most {MAX_AGREEMENT_CHARS} characters.",
        )
    return replace(settings, agreements=agreements)


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
}

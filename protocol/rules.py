"""The rule book: who may do what, when, written once and asked by everyone.

``why_not(state, member_id, command)`` is the room's verdict before anything
happens: ``None`` when the command is allowed, else the ``Refused`` the relay
sends back (a stable ``RefusalCode`` and a sentence for the person).
``server.decide`` asks it first and then only carries the command out. Every
surface that offers an action asks it too (the app's keys, footer and member
menu, plain mode's slash commands, the SSH login), so a screen never offers
what the room would refuse: ``tests/server/test_rules_offers.py`` proves it.

``why_not_kind`` answers for a kind of command before its words are chosen
(may this member open the share box, the pause message, the settings?): when
it refuses, every command of that kind is refused the same way. Who may take
a seat is ``protocol.admission``'s, which ``why_not`` asks for a ``Join``;
whom a facilitator's command may name is ``protocol.targets``'s.

Pure: no I/O and no clock. A refusal is a value here; whoever acts raises it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from circle_room.protocol import targets
from circle_room.protocol.admission import admission
from circle_room.protocol.errors import Refused
from circle_room.protocol.messages import (
    AckSignal,
    Admit,
    ChangeSettings,
    Command,
    Deny,
    GiveStick,
    Leave,
    Lock,
    LowerAllHands,
    LowerHand,
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
from circle_room.protocol.model import Member, Presence, Role, RoomState
from circle_room.protocol.observed import Disconnect, Expire, Join, Observed, Reconnect
from circle_room.protocol.refusals import RefusalCode as Code
from circle_room.protocol.room_settings import checked_settings
from circle_room.protocol.text import checked_message, checked_share

Verdict = Refused | None
"""``None``: allowed. A ``Refused``: not allowed, and what to tell the person."""


def why_not(state: RoomState, member_id: int | None, command: Command | Observed) -> Verdict:
    """Why ``member_id`` may not send ``command`` now, or ``None`` if they may.

    ``member_id`` is ``None`` only for ``Join``, which ``admission`` judges.
    """
    if isinstance(command, Join):
        seat = admission(state, command)
        return seat if isinstance(seat, Refused) else None
    found = _rule_for(state, member_id, type(command))
    if isinstance(found, Refused):
        return found
    rule, me = found
    return _first(rule.gates, state, me) or _first(rule.checks, state, me, command)


def allows(state: RoomState, member_id: int | None, command: Command | Observed) -> bool:
    """Whether ``command`` from ``member_id`` would be carried out now."""
    return why_not(state, member_id, command) is None


def why_not_kind(state: RoomState, member_id: int | None, kind: type) -> Verdict:
    """What refuses every command of type ``kind`` from ``member_id`` now, if anything.

    Only what does not depend on the command's fields: a ``None`` here means
    some command of this kind may be allowed, and ``why_not`` judges the one
    actually written (a share's text, a target, new settings).
    """
    found = _rule_for(state, member_id, kind)
    if isinstance(found, Refused):
        return found
    rule, me = found
    return _first(rule.gates, state, me)


def allows_kind(state: RoomState, member_id: int | None, kind: type) -> bool:
    """Whether some command of type ``kind`` from ``member_id`` may be allowed now."""
    return why_not_kind(state, member_id, kind) is None


# --- the table: each command's checks, in the order they are made -------------------

_Gate = Callable[[RoomState, Member], Verdict]
_Check = Callable[[RoomState, Member, Any], Verdict]


@dataclass(frozen=True)
class _Rule:
    gates: tuple[_Gate, ...] = ()
    """The checks that do not depend on the command's fields, first."""
    checks: tuple[_Check, ...] = ()
    """Then the ones that do."""


def _first(checks: tuple[Callable[..., Verdict], ...], *args: Any) -> Verdict:
    for check in checks:
        refused = check(*args)
        if refused is not None:
            return refused
    return None


def _rule_for(
    state: RoomState, member_id: int | None, kind: type
) -> tuple[_Rule, Member] | Refused:
    """The rule for ``kind`` and the sender, or what refuses them before any rule."""
    me = state.members.get(member_id) if member_id is not None else None
    if me is None:
        return Refused(Code.NOT_IN_ROOM, "You are not in this room.")
    rule = _RULES.get(kind)
    if rule is None:
        return Refused(Code.UNKNOWN_COMMAND, "That command is not known here.")
    if me.presence is Presence.WAITING and kind not in (Leave, Disconnect):
        return Refused(Code.WAITING, "Please wait: a facilitator will let you in shortly.")
    return rule, me


def clamped_position(queue: tuple[int, ...], position: int) -> int:
    """Where ``MoveHand(position)`` puts a hand already in ``queue``: out of range is an end."""
    return min(max(position, 0), len(queue) - 1)


# --- who: roles and the stick ----------------------------------------------------------


def _facilitator(state: RoomState, me: Member) -> Verdict:
    if me.role is Role.MEMBER:
        return Refused(Code.NOT_FACILITATOR, "Only a facilitator can do that.")
    return None


def _host(state: RoomState, me: Member) -> Verdict:
    if me.role is not Role.FACILITATOR:
        return Refused(Code.NOT_FACILITATOR, "Only the host facilitator can change roles.")
    return None


def _holder(state: RoomState, me: Member) -> Verdict:
    if state.holder != me.id:
        return Refused(Code.NOT_HOLDER, "Only the person holding the stick can do that.")
    return None


def _not_paused(state: RoomState, me: Member) -> Verdict:
    """While paused, members wait; facilitators go on steering."""
    if state.pause is not None and me.role is Role.MEMBER:
        return Refused(Code.PAUSED, "The circle is paused; this can wait until it resumes.")
    return None


def _nobody_paused(state: RoomState, me: Member) -> Verdict:
    """Not even a facilitator speaks into a paused circle."""
    if state.pause is not None:
        return Refused(Code.PAUSED, "The circle is paused; your words will wait until it resumes.")
    return None


# --- when: the room's state -------------------------------------------------------------


def _away(state: RoomState, me: Member) -> Verdict:
    if me.presence is Presence.AWAY:
        return Refused(Code.ALREADY_AWAY, "That member is already away.")
    return None


def _not_away(state: RoomState, me: Member) -> Verdict:
    if me.presence is not Presence.AWAY:
        return Refused(Code.NOT_AWAY, "That member is not away.")
    return None


def _came_back(state: RoomState, me: Member) -> Verdict:
    if me.presence is not Presence.AWAY:
        return Refused(Code.NOT_AWAY, "That member came back in time.")
    return None


def _shared(state: RoomState, me: Member) -> Verdict:
    if state.turn is not None and state.turn.shares:
        return Refused(Code.ALREADY_SHARED, "You have already shared; yield to pass the stick on.")
    return None


def _holding(state: RoomState, me: Member) -> Verdict:
    if state.holder == me.id:
        return Refused(Code.ALREADY_HOLDER, "You already hold the stick.")
    return None


def _holding_for_hand(state: RoomState, me: Member) -> Verdict:
    if state.holder == me.id:
        return Refused(Code.ALREADY_HOLDER, "You hold the stick; there is no need to raise a hand.")
    return None


def _hand_up(state: RoomState, me: Member) -> Verdict:
    if me.id in state.queue:
        return Refused(Code.HAND_RAISED, "Your hand is already raised.")
    return None


def _no_hands(state: RoomState, me: Member) -> Verdict:
    if not state.queue:
        return Refused(Code.HAND_NOT_RAISED, "No hands are raised.")
    return None


def _paused(state: RoomState, me: Member) -> Verdict:
    if state.pause is not None:
        return Refused(Code.PAUSED, "The circle is already paused.")
    return None


def _not_paused_yet(state: RoomState, me: Member) -> Verdict:
    if state.pause is None:
        return Refused(Code.NOT_PAUSED, "The circle is not paused.")
    return None


def _round(state: RoomState, me: Member) -> Verdict:
    if state.round is not None:
        return Refused(Code.ROUND_RUNNING, "A round is already going.")
    return None


def _no_round(state: RoomState, me: Member) -> Verdict:
    if state.round is None:
        return Refused(Code.NO_ROUND, "No round is going.")
    return None


# --- what: the command's own fields (whom it names: ``protocol.targets``) ---------------


def _text(check: Callable[[str], str], text: str) -> Verdict:
    try:
        check(text)
    except Refused as refused:
        return refused
    return None


def _share_text(state: RoomState, me: Member, command: Share) -> Verdict:
    return _text(checked_share, command.text)


def _pause_message(state: RoomState, me: Member, command: PauseCircle) -> Verdict:
    return _text(checked_message, command.message)


def _lower_hand(state: RoomState, me: Member, command: LowerHand) -> Verdict:
    target_id = me.id if command.member_id is None else command.member_id
    refused = _facilitator(state, me) if target_id != me.id else _not_paused(state, me)
    if refused is None and target_id not in state.queue:
        return Refused(Code.HAND_NOT_RAISED, "That hand is not raised.")
    return refused


def _move_hand(state: RoomState, me: Member, command: MoveHand) -> Verdict:
    queue = state.queue
    if command.member_id not in queue:
        return Refused(Code.HAND_NOT_RAISED, "That hand is not raised.")
    if queue.index(command.member_id) == clamped_position(queue, command.position):
        return Refused(Code.NO_CHANGE, "That hand is already there.")
    return None


def _metoo(state: RoomState, me: Member, command: MeToo) -> Verdict:
    turn = state.turn
    if turn is None or turn.id != command.turn_id:
        return Refused(Code.SHARE_OVER, "That share has ended.")
    if turn.holder == me.id:
        return Refused(Code.OWN_SHARE, "This is your own share.")
    # Saying it twice is not an error: a repeat after a reconnect changes nothing.
    return _not_paused(state, me)


def _lock(state: RoomState, me: Member, command: Lock) -> Verdict:
    if state.locked == command.locked:
        already = "locked." if command.locked else "open."
        return Refused(Code.NO_CHANGE, "The room is already " + already)
    return None


def _settings(state: RoomState, me: Member, command: ChangeSettings) -> Verdict:
    try:
        settings = checked_settings(command.settings)
    except Refused as refused:
        return refused
    if settings == state.settings:
        return Refused(Code.NO_CHANGE, "Those are the settings already.")
    return None


_RULES: dict[type, _Rule] = {
    Disconnect: _Rule((_away,)),
    Reconnect: _Rule((_not_away,)),
    Expire: _Rule((_came_back,)),
    Leave: _Rule(),
    Share: _Rule((_holder, _nobody_paused), (_share_text,)),
    Yield: _Rule((_holder, _not_paused)),
    Pass: _Rule((_holder, _not_paused, _shared)),
    GiveStick: _Rule((_facilitator,), (targets.give,)),
    TakeStick: _Rule((_facilitator, _holding)),
    RaiseHand: _Rule((_not_paused, _holding_for_hand, _hand_up)),
    LowerHand: _Rule((), (_lower_hand,)),
    LowerAllHands: _Rule((_facilitator, _no_hands)),
    MoveHand: _Rule((_facilitator,), (_move_hand,)),
    MeToo: _Rule((), (_metoo,)),
    SendSignal: _Rule(),
    PauseCircle: _Rule((_facilitator, _paused), (_pause_message,)),
    ResumeCircle: _Rule((_facilitator, _not_paused_yet)),
    StartRound: _Rule((_facilitator, _round)),
    StopRound: _Rule((_facilitator, _no_round)),
    Remove: _Rule((_facilitator,), (targets.remove,)),
    Lock: _Rule((_facilitator,), (_lock,)),
    Admit: _Rule((_facilitator,), (targets.waiting,)),
    Deny: _Rule((_facilitator,), (targets.waiting,)),
    Promote: _Rule((_host,), (targets.promote,)),
    ChangeSettings: _Rule((_facilitator,), (_settings,)),
    AckSignal: _Rule((_facilitator,), (targets.ack_signal,)),
    ReleaseSeat: _Rule((_facilitator,), (targets.release_seat,)),
}

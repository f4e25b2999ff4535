"""The rule book's checks on the member a facilitator's command names.

Giving the stick, removing, admitting or denying, promoting, answering a
private signal and releasing an away seat all name someone: whether that
someone may be named so is judged here, after ``protocol.rules`` has checked
who is asking. Each check takes the room, the sender and the command and
returns the ``Refused`` to send back, or ``None``.

Pure: no I/O and no clock.
"""

from __future__ import annotations

from circle_room.protocol.errors import Refused
from circle_room.protocol.messages import (
    AckSignal,
    Admit,
    Deny,
    GiveStick,
    Promote,
    ReleaseSeat,
    Remove,
)
from circle_room.protocol.model import Member, Presence, Role, RoomState
from circle_room.protocol.refusals import RefusalCode as Code

Verdict = Refused | None


def _target(state: RoomState, member_id: int) -> Member | Refused:
    member = state.members.get(member_id)
    if member is None:
        return Refused(Code.NO_SUCH_MEMBER, "That person is not in the room.")
    return member


def _outranks(me: Member, target: Member) -> bool:
    """Whether ``me`` may end ``target``'s place in the meeting (remove, release)."""
    if target.role is Role.FACILITATOR:
        return False
    return target.role is not Role.COFACILITATOR or me.role is Role.FACILITATOR


def give(state: RoomState, me: Member, command: GiveStick) -> Verdict:
    target = _target(state, command.member_id)
    if isinstance(target, Refused):
        return target
    if target.presence is not Presence.PRESENT:
        return Refused(Code.NOT_PRESENT, f"{target.name} is not in the circle right now.")
    if state.holder == target.id:
        return Refused(Code.ALREADY_HOLDER, f"{target.name} already holds the stick.")
    return None


def remove(state: RoomState, me: Member, command: Remove) -> Verdict:
    target = _target(state, command.member_id)
    if isinstance(target, Refused):
        return target
    if target.id == me.id:
        return Refused(Code.NOT_YOURSELF, "To leave, use leave rather than remove.")
    if not _outranks(me, target):
        return Refused(Code.NOT_ALLOWED, f"{target.name} is a facilitator and cannot be removed.")
    return None


def waiting(state: RoomState, me: Member, command: Admit | Deny) -> Verdict:
    target = _target(state, command.member_id)
    if isinstance(target, Refused):
        return target
    if target.presence is not Presence.WAITING:
        return Refused(Code.NOT_WAITING, f"{target.name} is not in the waiting room.")
    return None


def promote(state: RoomState, me: Member, command: Promote) -> Verdict:
    target = _target(state, command.member_id)
    if isinstance(target, Refused):
        return target
    if command.role is Role.FACILITATOR or target.role is Role.FACILITATOR:
        return Refused(
            Code.NOT_ALLOWED, "The host facilitator role comes only with the room's key."
        )
    if target.presence is Presence.WAITING:
        return Refused(Code.NOT_PRESENT, f"{target.name} is still in the waiting room.")
    if target.role is command.role:
        return Refused(Code.NO_CHANGE, f"{target.name} already has that role.")
    return None


def ack_signal(state: RoomState, me: Member, command: AckSignal) -> Verdict:
    target = _target(state, command.member_id)
    if isinstance(target, Refused):
        return target
    if target.id == me.id:
        return Refused(Code.NOT_YOURSELF, "Your own signal is for another facilitator to answer.")
    if target.id not in state.signals:
        # Answered already (perhaps by another facilitator), or never sent.
        return Refused(Code.NO_SIGNAL, f"No signal from {target.name} is waiting for an answer.")
    return None


def release_seat(state: RoomState, me: Member, command: ReleaseSeat) -> Verdict:
    target = _target(state, command.member_id)
    if isinstance(target, Refused):
        return target
    if target.presence is Presence.WAITING:
        return Refused(
            Code.NOT_AWAY, f"{target.name} is in the waiting room: admit them or turn them away."
        )
    if target.presence is Presence.PRESENT:
        return Refused(
            Code.NOT_AWAY, f"{target.name} is here; only the seat of someone away can be released."
        )
    if not _outranks(me, target):
        return Refused(
            Code.NOT_ALLOWED, f"{target.name} is a facilitator; their seat cannot be released."
        )
    return None

"""Who receives each event. Policy, so it lives on the server side."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace

from circle_room.protocol.messages import (
    Event,
    MemberAdmitted,
    MemberAway,
    MemberBack,
    MemberJoined,
    MemberLeft,
    MeTooCount,
    MeTooSet,
    RoleChanged,
    SignalSeen,
    SignalSent,
)
from circle_room.protocol.model import Member, Presence, Role, RoomState


class Scope(enum.Enum):
    ALL = 0
    """Everyone admitted to the circle (not the waiting room)."""
    FACILITATORS = 1
    ONE = 2
    """Only ``Audience.subjects``."""


@dataclass(frozen=True)
class Audience:
    scope: Scope
    subjects: frozenset[int] = frozenset()
    """Members who receive the event whatever the scope (e.g. the sender)."""


EVERYONE = Audience(Scope.ALL)


def audience_of(event: Event, state: RoomState) -> Audience:
    """The audience of ``event``, given the state right after it was applied."""
    if isinstance(event, (SignalSent, SignalSeen)):
        return Audience(Scope.FACILITATORS, frozenset({event.member_id}))
    if isinstance(event, MeTooSet):
        if state.settings.show_metoo_names and state.turn is not None:
            # Names go to the speaker (and the facilitators), never to the room.
            return Audience(Scope.FACILITATORS, frozenset({event.member_id, state.turn.holder}))
        return Audience(Scope.ONE, frozenset({event.member_id}))
    if isinstance(event, MeTooCount):
        # For whoever shows the count: the speaker of that turn and the facilitators
        # (a version-1 connection gets it anyway, as it always did: ``server.versions``).
        turn = state.turn
        speaker = {turn.holder} if turn is not None and turn.id == event.turn_id else set()
        return Audience(Scope.FACILITATORS, frozenset(speaker))
    if isinstance(event, (MemberAdmitted, MemberLeft)):
        # The waiting member hears of their own admission, or refusal.
        return Audience(Scope.ALL, frozenset({event.member_id}))
    return EVERYONE


def may_read(state: RoomState, member_id: int, audience: Audience) -> bool:
    """Whether ``audience`` reaches ``member_id`` in ``state``."""
    if member_id in audience.subjects:
        return True
    member = state.members.get(member_id)
    if member is None:
        return False
    if audience.scope is Scope.ALL:
        return member.presence is not Presence.WAITING
    if audience.scope is Scope.FACILITATORS:
        return member.role is not Role.MEMBER
    return False


def admitted(state: RoomState) -> frozenset[int]:
    """Everyone ``EVERYONE`` reaches: the members not in the waiting room."""
    return frozenset(m.id for m in state.members.values() if m.presence is not Presence.WAITING)


_ONE_MEMBER = (MemberJoined, MemberAdmitted, MemberAway, MemberBack, MemberLeft, RoleChanged)
"""Events that change one member's entry and no other's."""


class Everyone:
    """``admitted(state)`` for the states of one room, without a walk of all members per event.

    Most events go to everyone; walking every member to find them made each
    join O(n) in Python. The set is kept for one members mapping and carried
    over an event that changes a single member (``carry``); anything else
    walks them once.
    """

    def __init__(self) -> None:
        self._members: Mapping[int, Member] | None = None
        self._ids: frozenset[int] = frozenset()

    def of(self, state: RoomState) -> frozenset[int]:
        if self._members is not state.members:
            self._members, self._ids = state.members, admitted(state)
        return self._ids

    def carry(self, before: RoomState, event: Event, state: RoomState) -> None:
        """``event`` took ``before`` to ``state``: follow it if it changed one member."""
        if self._members is not before.members or not isinstance(event, _ONE_MEMBER):
            return
        member_id = event.member.id if isinstance(event, MemberJoined) else event.member_id
        member = state.members.get(member_id)
        now_in = member is not None and member.presence is not Presence.WAITING
        ids = self._ids
        if now_in and member_id not in ids:
            ids = ids | {member_id}
        elif not now_in and member_id in ids:
            ids = ids - {member_id}
        self._members, self._ids = state.members, ids


def readers_of(audience: Audience, state: RoomState) -> frozenset[int]:
    """Every member ``audience`` reaches in ``state``, its subjects included.

    A subject may no longer be a member (``MemberLeft`` reaches the one who
    left), so the readers are not always a subset of ``state.members``.
    """
    if audience.scope is Scope.ALL:
        return admitted(state) | audience.subjects
    return audience.subjects | {m for m in state.members if may_read(state, m, audience)}


def view_for(state: RoomState, viewer: int) -> RoomState:
    """The state as ``viewer`` may see it in a welcome or snapshot.

    Matches what that member would reach by applying only the events sent to
    them, but for the me-too count, which it holds as the room has it: me-too
    names stay hidden unless the room shows them, and someone in
    the waiting room sees only the room's settings and themself. With names
    on, only the speaker and the facilitators see who said "me too"; only
    facilitators see who waits for an answer to a signal (a member, whether
    they do themself). Names
    removed earlier in the meeting are the relay's alone: never part of it.
    """
    me = state.members.get(viewer)
    if me is not None and me.presence is Presence.WAITING:
        return RoomState(
            members={viewer: me},
            locked=state.locked,
            settings=state.settings,
            next_member_id=state.next_member_id,
            next_turn_id=state.next_turn_id,
        )
    turn = state.turn
    sees_names = state.settings.show_metoo_names and (
        (turn is not None and turn.holder == viewer) or state.is_facilitator(viewer)
    )
    if turn is not None and not sees_names:
        turn = replace(turn, metoo=turn.metoo & {viewer})
    signals = state.signals
    if not state.is_facilitator(viewer):
        signals = tuple(m for m in signals if m == viewer)
    return replace(state, turn=turn, signals=signals, removed=frozenset())

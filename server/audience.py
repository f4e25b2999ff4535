"""Who receives each event. Policy, so it lives on the server side."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from protocol.messages import (
    Event,
    MemberAdmitted,
    MemberLeft,
    MeTooSet,
    SignalSent,
)
from protocol.model import Presence, RoomState


class Scope(enum.Enum):
    ALL = 0
    """Everyone admitted to the circle (not the waiting room)."""
    FACILITATORS = 1
    ONE = 2
    """Only ``Audience.subject``."""


@dataclass(frozen=True)
class Audience:
    scope: Scope
    subject: int | None = None
    """A member who receives the event whatever the scope (e.g. the sender)."""


EVERYONE = Audience(Scope.ALL)


def audience_of(event: Event, state: RoomState) -> Audience:
    """The audience of ``event``, given the state right after it was applied."""
    if isinstance(event, SignalSent):
        return Audience(Scope.FACILITATORS, event.member_id)
    if isinstance(event, MeTooSet):
        if state.settings.show_metoo_names:
            return EVERYONE
        return Audience(Scope.ONE, event.member_id)
    if isinstance(event, (MemberAdmitted, MemberLeft)):
        # The waiting member hears of their own admission, or refusal.
        return Audience(Scope.ALL, event.member_id)
    return EVERYONE


STRUCTURAL_EXCEPTIONS = (SignalSent, MeTooSet)
"""Events that change nothing a restarted relay needs (with Shared and MeTooCount)."""


def view_for(state: RoomState, viewer: int) -> RoomState:
    """The state as ``viewer`` may see it in a welcome or snapshot.

    Matches what that member would reach by applying only the events sent to
    them: me-too names stay hidden unless the room shows them, and someone in
    the waiting room sees only the room's settings and themself.
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
    if turn is not None and not state.settings.show_metoo_names:
        turn = replace(turn, metoo=turn.metoo & {viewer})
    return replace(state, turn=turn)

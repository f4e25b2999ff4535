"""How each event changes a room: ``apply(state, event) -> state``.

Server and clients run this same function over the same events, so a
client's view is the server's state by construction. ``apply`` is total: an
event that does not fit the state (a client that missed a private event, say)
changes what it can and never raises.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from functools import singledispatch

from circle_room.protocol.messages import (
    Event,
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
from circle_room.protocol.model import LeaveReason, Pause, Presence, RoomState, Round, Turn, Via
from circle_room.protocol.skeleton import looks


def apply(state: RoomState, event: Event) -> RoomState:
    """Return the state after ``event``; ``state`` itself is never modified."""
    return _apply(event, state)


def apply_all(state: RoomState, events: Iterable[Event]) -> RoomState:
    for event in events:
        state = _apply(event, state)
    return state


@singledispatch
def _apply(event: Event, state: RoomState) -> RoomState:
    raise TypeError(f"not an event: {event!r}")


def _with_presence(state: RoomState, member_id: int, presence: Presence) -> RoomState:
    member = state.members.get(member_id)
    if member is None:
        return state
    members = dict(state.members)
    members[member_id] = replace(member, presence=presence)
    return replace(state, members=members)


def _without(ids: tuple[int, ...], member_id: int) -> tuple[int, ...]:
    return tuple(m for m in ids if m != member_id)


@_apply.register
def _(event: MemberJoined, state: RoomState) -> RoomState:
    members = dict(state.members)
    members[event.member.id] = event.member
    return replace(
        state,
        members=members,
        next_member_id=max(state.next_member_id, event.member.id + 1),
    )


@_apply.register
def _(event: MemberAdmitted, state: RoomState) -> RoomState:
    return _with_presence(state, event.member_id, Presence.PRESENT)


@_apply.register
def _(event: MemberAway, state: RoomState) -> RoomState:
    return _with_presence(state, event.member_id, Presence.AWAY)


@_apply.register
def _(event: MemberBack, state: RoomState) -> RoomState:
    return _with_presence(state, event.member_id, Presence.PRESENT)


@_apply.register
def _(event: MemberLeft, state: RoomState) -> RoomState:
    members = dict(state.members)
    leaving = members.pop(event.member_id, None)
    removed = state.removed
    if leaving is not None and event.reason in (LeaveReason.REMOVED, LeaveReason.DENIED):
        removed = removed | looks(leaving.name)
    if not members:
        # The last person left: the meeting is over, and its removals end with it.
        removed = frozenset()
    turn = state.turn
    if turn is not None and turn.holder == event.member_id:
        turn = None
    round_ = state.round
    if round_ is not None:
        round_ = replace(round_, remaining=_without(round_.remaining, event.member_id))
    return replace(
        state,
        members=members,
        queue=_without(state.queue, event.member_id),
        turn=turn,
        round=round_,
        signals=_without(state.signals, event.member_id),
        removed=removed,
    )


@_apply.register
def _(event: RoleChanged, state: RoomState) -> RoomState:
    member = state.members.get(event.member_id)
    if member is None:
        return state
    members = dict(state.members)
    members[event.member_id] = replace(member, role=event.role)
    return replace(state, members=members)


@_apply.register
def _(event: HandRaised, state: RoomState) -> RoomState:
    if event.member_id in state.queue:
        return state
    return replace(state, queue=(*state.queue, event.member_id))


@_apply.register
def _(event: HandLowered, state: RoomState) -> RoomState:
    return replace(state, queue=_without(state.queue, event.member_id))


@_apply.register
def _(event: HandsCleared, state: RoomState) -> RoomState:
    return replace(state, queue=())


@_apply.register
def _(event: HandMoved, state: RoomState) -> RoomState:
    if event.member_id not in state.queue:
        return state
    queue = list(_without(state.queue, event.member_id))
    position = min(max(event.position, 0), len(queue))
    queue.insert(position, event.member_id)
    return replace(state, queue=tuple(queue))


@_apply.register
def _(event: StickGiven, state: RoomState) -> RoomState:
    running = None if state.pause is not None else event.at
    turn = Turn(
        id=event.turn_id,
        holder=event.member_id,
        via=event.via,
        started_at=event.at,
        running_since=running,
    )
    round_ = state.round
    if round_ is not None and event.member_id in round_.remaining:
        if event.via is Via.ROUND:
            # The round moves past everyone before this member, too: they were
            # skipped because they were away when their turn came.
            index = round_.remaining.index(event.member_id)
            remaining = round_.remaining[index + 1 :]
        else:
            # A facilitator gave this member the stick out of order: that is
            # their turn in the round, and nobody else loses theirs.
            remaining = _without(round_.remaining, event.member_id)
        round_ = replace(round_, remaining=remaining)
    return replace(
        state,
        turn=turn,
        queue=_without(state.queue, event.member_id),
        round=round_,
        next_turn_id=max(state.next_turn_id, event.turn_id + 1),
    )


@_apply.register
def _(event: StickReleased, state: RoomState) -> RoomState:
    if state.turn is None or state.turn.id != event.turn_id:
        return state
    return replace(state, turn=None)


@_apply.register
def _(event: Shared, state: RoomState) -> RoomState:
    turn = state.turn
    if turn is None or turn.id != event.turn_id:
        return state
    # Only the count: share text is never part of the state.
    return replace(state, turn=replace(turn, shares=turn.shares + 1))


@_apply.register
def _(event: MeTooSet, state: RoomState) -> RoomState:
    turn = state.turn
    if turn is None or turn.id != event.turn_id:
        return state
    metoo = turn.metoo | {event.member_id} if event.on else turn.metoo - {event.member_id}
    return replace(state, turn=replace(turn, metoo=metoo))


@_apply.register
def _(event: MeTooCount, state: RoomState) -> RoomState:
    turn = state.turn
    if turn is None or turn.id != event.turn_id:
        return state
    return replace(state, turn=replace(turn, metoo_count=event.count))


@_apply.register
def _(event: Paused, state: RoomState) -> RoomState:
    turn = state.turn
    if turn is not None and turn.running_since is not None:
        turn = replace(turn, elapsed=turn.elapsed_at(event.at), running_since=None)
    return replace(state, pause=Pause(event.by, event.message, event.at), turn=turn)


@_apply.register
def _(event: Resumed, state: RoomState) -> RoomState:
    turn = state.turn
    if turn is not None and turn.running_since is None:
        turn = replace(turn, running_since=event.at)
    return replace(state, pause=None, turn=turn)


@_apply.register
def _(event: RoundStarted, state: RoomState) -> RoomState:
    return replace(state, round=Round(event.by, event.order))


@_apply.register
def _(event: RoundEnded, state: RoomState) -> RoomState:
    return replace(state, round=None)


@_apply.register
def _(event: LockChanged, state: RoomState) -> RoomState:
    return replace(state, locked=event.locked)


@_apply.register
def _(event: SettingsChanged, state: RoomState) -> RoomState:
    return replace(state, settings=event.settings)


@_apply.register
def _(event: SignalSent, state: RoomState) -> RoomState:
    # Only that someone waits for an answer is state; the kind is the inbox's.
    # A second signal before the answer keeps its place: they have waited longest.
    if event.member_id in state.signals or event.member_id not in state.members:
        return state
    return replace(state, signals=(*state.signals, event.member_id))


@_apply.register
def _(event: SignalSeen, state: RoomState) -> RoomState:
    return replace(state, signals=_without(state.signals, event.member_id))

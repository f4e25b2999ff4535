"""Plain line mode, events to sentences: what each event means to one member.

Nothing here does I/O or reads the clock. Every sentence is one line, reads
like speech ("Dana has the stick.") and is built only from cleaned text
(``protocol.text.clean_line``), so nobody's name or share can move a cursor,
recolour a screen or confuse a screen reader.

``describe(event, before, after, me)`` says what an event means to member ``me``.
"""

from __future__ import annotations

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
    SignalSent,
    StickGiven,
    StickReleased,
)
from circle_room.protocol.model import (
    LeaveReason,
    Member,
    Presence,
    Release,
    Role,
    RoomState,
    SignalKind,
    Via,
)
from circle_room.protocol.text import clean_line

SIGNALS: dict[str, SignalKind] = {
    "checkin": SignalKind.CHECK_IN,
    "check-in": SignalKind.CHECK_IN,
    "out": SignalKind.STEPPING_OUT,
    "ok": SignalKind.OK,
}
SIGNAL_WORDS: dict[SignalKind, str] = {
    SignalKind.CHECK_IN: "I need a check-in",
    SignalKind.STEPPING_OUT: "I'm stepping out for a moment",
    SignalKind.OK: "I'm OK",
}

# --- small words ------------------------------------------------------------------------


def people(count: int) -> str:
    return "1 person" if count == 1 else f"{count} people"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def minutes_text(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 1:
        return f"{int(seconds)} seconds"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def name_of(state: RoomState, member_id: int | None, me: int, *, you: str = "You") -> str:
    """A member's cleaned name, ``you`` for oneself, "Someone" when unknown."""
    if member_id is not None and member_id == me:
        return you
    member = state.members.get(member_id) if member_id is not None else None
    return clean_line(member.name) if member is not None else "Someone"


def join_names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _verb(subject: str, you: str, them: str) -> str:
    return you if subject == "You" else them


# --- events -> sentences ---------------------------------------------------------------


def describe(event: Event, before: RoomState, after: RoomState, me: int) -> list[str]:
    """What ``event`` means to member ``me``, as zero or more lines.

    ``before`` and ``after`` are the room around the event as this member sees it.
    """
    if isinstance(event, Shared):
        who = name_of(before, event.member_id, me)
        return [f"{who}: {clean_line(event.text)}"]
    if isinstance(event, StickGiven):
        return _stick_given(event, after, me)
    if isinstance(event, StickReleased):
        return _stick_released(event, before, me)
    if isinstance(event, MeTooSet):
        if event.member_id == me:
            return ["You said me too." if event.on else "You took back your me too."]
        if after.holder == me and event.on:
            return [f"{name_of(after, event.member_id, me)} said me too."]
        return []
    if isinstance(event, MeTooCount):
        if after.holder == me:
            return [f"{people(event.count)} said me too."]
        return []
    if isinstance(event, HandRaised):
        return _hand_raised(event, after, me)
    if isinstance(event, HandLowered):
        return _hand_lowered(event, before, me)
    if isinstance(event, HandsCleared):
        return [f"{name_of(before, event.by, me)} lowered all hands."]
    if isinstance(event, HandMoved):
        who = name_of(after, event.member_id, me, you="your")
        whose = "your" if who == "your" else f"{who}'s"
        place = ordinal(event.position + 1)
        return [f"{name_of(after, event.by, me)} moved {whose} hand to {place} in the queue."]
    if isinstance(event, (Paused, Resumed)):
        return _pause(event, before, me)
    if isinstance(event, (MemberJoined, MemberAdmitted, MemberAway, MemberBack, MemberLeft)):
        return _presence(event, before, after, me)
    if isinstance(event, RoundStarted):
        order = join_names([name_of(after, m, me, you="you") for m in event.order])
        by = name_of(before, event.by, me)
        return [f"{by} started a round: each person in turn shares or passes. Order: {order}."]
    if isinstance(event, RoundEnded):
        if event.by is None:
            return ["The round is complete."]
        return [f"{name_of(before, event.by, me)} ended the round."]
    if isinstance(event, LockChanged):
        if event.locked:
            return ["The room is locked: nobody new can join."]
        return ["The room is open again."]
    if isinstance(event, RoleChanged):
        who = name_of(after, event.member_id, me)
        role = {
            Role.MEMBER: "a member",
            Role.COFACILITATOR: "a co-facilitator",
            Role.FACILITATOR: "the facilitator",
        }[event.role]
        return [f"{who} {_verb(who, 'are', 'is')} now {role}."]
    if isinstance(event, SettingsChanged):
        return _settings(event, before)
    if isinstance(event, SignalSent):
        words = SIGNAL_WORDS[event.kind]
        if event.member_id == me:
            return [f"Sent to the facilitators only: {words}."]
        return [f"Private signal from {name_of(after, event.member_id, me)}: {words}."]
    return []


def _stick_given(event: StickGiven, after: RoomState, me: int) -> list[str]:
    who = name_of(after, event.member_id, me)
    how = " in the round" if event.via is Via.ROUND else ""
    if event.via is Via.FACILITATOR and event.by is not None and event.by != event.member_id:
        line = f"{name_of(after, event.by, me)} gave the stick to {who if who != 'You' else 'you'}."
    else:
        line = f"{who} {_verb(who, 'have', 'has')} the stick{how}."
    if event.member_id != me:
        return [line]
    if after.pause is not None:
        return [line, "The circle is paused; you can share once it resumes."]
    return [line, "Type to share. /yield when you are done, or /pass to pass it on."]


def _stick_released(event: StickReleased, before: RoomState, me: int) -> list[str]:
    who = name_of(before, event.member_id, me)
    if event.reason is Release.PASSED:
        return [f"{who} passed."]
    if event.reason is Release.YIELDED:
        return [f"{who} yielded the stick."]
    if event.reason is Release.TAKEN and event.member_id == me and not before.is_facilitator(me):
        return ["A facilitator took the stick back from you."]
    return []


def _hand_raised(event: HandRaised, after: RoomState, me: int) -> list[str]:
    place = (
        ordinal(after.queue.index(event.member_id) + 1) if event.member_id in after.queue else ""
    )
    if event.member_id == me:
        return [f"Your hand is raised; you are {place} in the queue."]
    return [f"{name_of(after, event.member_id, me)} raised a hand ({place} in the queue)."]


def _hand_lowered(event: HandLowered, before: RoomState, me: int) -> list[str]:
    who = name_of(before, event.member_id, me)
    if event.by == event.member_id:
        return ["You lowered your hand."] if who == "You" else [f"{who} lowered their hand."]
    by = name_of(before, event.by, me)
    whose = "your" if who == "You" else f"{who}'s"
    return [f"{by} lowered {whose} hand."]


def _pause(event: Paused | Resumed, before: RoomState, me: int) -> list[str]:
    by = "You" if event.by == me else "The facilitator"
    if isinstance(event, Resumed):
        return ["You resumed the circle."] if by == "You" else ["The circle resumed."]
    message = clean_line(event.message)
    return [f"{by} paused the circle: {message}" if message else f"{by} paused the circle."]


def _presence(
    event: MemberJoined | MemberAdmitted | MemberAway | MemberBack | MemberLeft,
    before: RoomState,
    after: RoomState,
    me: int,
) -> list[str]:
    if isinstance(event, MemberJoined):
        if event.member.id == me:
            return []
        name = clean_line(event.member.name)
        if event.member.presence is Presence.WAITING:
            if after.is_facilitator(me):
                return [f"{name} is in the waiting room. /admit {name} lets them in."]
            return []
        return [f"{name} joined."]
    if isinstance(event, MemberAdmitted):
        if event.member_id == me:
            return ["You are in the circle. Welcome."]
        return [f"{name_of(after, event.member_id, me)} joined from the waiting room."]
    if isinstance(event, MemberAway):
        if event.member_id == me:
            return []
        return [
            f"{name_of(after, event.member_id, me)} lost their connection; their place is kept."
        ]
    if isinstance(event, MemberBack):
        if event.member_id == me:
            return []
        return [f"{name_of(after, event.member_id, me)} is back."]
    who = name_of(before, event.member_id, me)
    if event.member_id == me:
        if event.reason is LeaveReason.REMOVED:
            return ["A facilitator removed you from this meeting."]
        if event.reason is LeaveReason.DENIED:
            return ["A facilitator did not admit you to this meeting."]
        return []
    return {
        LeaveReason.LEFT: [f"{who} left."],
        LeaveReason.QUIET: [],
        LeaveReason.TIMED_OUT: [f"{who} could not reconnect in time and has left."],
        LeaveReason.REMOVED: [f"{who} was removed from the meeting."],
        LeaveReason.DENIED: [f"{who} was not admitted."],
    }[event.reason]


def _settings(event: SettingsChanged, before: RoomState) -> list[str]:
    old, new = before.settings, event.settings
    lines = []
    if new.share_limit != old.share_limit:
        if new.share_limit:
            lines.append(f"Suggested time per share: {minutes_text(new.share_limit)}.")
        else:
            lines.append("There is no suggested time per share now.")
    if new.waiting_room != old.waiting_room:
        lines.append(
            "Newcomers now wait until a facilitator admits them."
            if new.waiting_room
            else "Newcomers now join directly."
        )
    if new.auto_pass != old.auto_pass:
        lines.append(
            "The stick now goes to the next raised hand by itself."
            if new.auto_pass
            else "The facilitator now passes the stick to the next person."
        )
    return lines


# --- the room at a glance ------------------------------------------------------------------


def welcome_lines(state: RoomState, me: int, room: str) -> list[str]:
    """What a member hears on entering (or re-entering) the circle."""
    member = state.members.get(me)
    if member is not None and member.presence is Presence.WAITING:
        return [
            f"You are in the waiting room of {clean_line(room)}.",
            "A facilitator will let you in shortly.",
        ]
    here = len(state.present())
    lines = [
        f"You are in the circle {clean_line(room)} as {name_of(state, me, 0)}, "
        f"with {people(here)} present. Type /help for the commands."
    ]
    return lines + status_lines(state, me)


def status_lines(state: RoomState, me: int) -> list[str]:
    """Pause, stick and queue, as a member would ask "where are we?"."""
    lines = []
    if state.pause is not None:
        message = clean_line(state.pause.message)
        lines.append("The circle is paused" + (f": {message}" if message else "."))
    if state.holder is None:
        lines.append("Nobody holds the stick.")
    else:
        who = name_of(state, state.holder, me)
        lines.append(f"{who} {_verb(who, 'have', 'has')} the stick.")
    lines.append(queue_line(state, me))
    return lines


def queue_line(state: RoomState, me: int) -> str:
    if not state.queue:
        return "No hands are raised."
    names = [name_of(state, m, me, you="you") for m in state.queue]
    return "Hands raised, in order: " + join_names(names) + "."


def who_line(state: RoomState, me: int) -> str:
    parts = [_member_part(state, m, me) for m in state.members.values()]
    parts = [p for p in parts if p]
    return "In the circle: " + ", ".join(parts) + "." if parts else "Nobody is here."


def _member_part(state: RoomState, member: Member, me: int) -> str:
    if member.presence is Presence.WAITING and not state.is_facilitator(me):
        return ""
    notes = []
    if member.id == me:
        notes.append("you")
    if member.role is Role.FACILITATOR:
        notes.append("facilitator")
    elif member.role is Role.COFACILITATOR:
        notes.append("co-facilitator")
    if state.holder == member.id:
        notes.append("has the stick")
    if member.id in state.queue:
        notes.append(f"hand raised, {ordinal(state.queue.index(member.id) + 1)}")
    if member.presence is Presence.AWAY:
        notes.append("away")
    elif member.presence is Presence.WAITING:
        notes.append("waiting room")
    name = clean_line(member.name)
    return f"{name} ({', '.join(notes)})" if notes else name


def agreement_lines(room: str, agreements: tuple[str, ...]) -> list[str]:
    name = clean_line(room)
    lines = ["Welcome to the circle." if name == "circle" else f"Welcome to the {name} circle."]
    if agreements:
        lines.append("Our group agreements:")
        lines.extend(f"{i}. {clean_line(a)}" for i, a in enumerate(agreements, 1))
        lines.append("Type yes to accept them and join, or /quit to leave.")
    return lines


def nudge_line(limit: float) -> str:
    return (
        f"You have shared for {minutes_text(limit)}, the suggested time. "
        "There is no rush; /yield when you are ready."
    )

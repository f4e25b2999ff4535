"""Plain line mode's words: the narrator's sentences as lines, and the room at a glance.

What an event means is worded once, by ``tui.client.narrator``; this module
only says it the line-mode way: every kind of sentence (a full screen shows
hands and "me too" elsewhere; here words are all there is), one line each,
and hints as the slash commands to type. The rest answers "where are we?":
who is here, who holds the stick, whose hands are up.

Nothing here does I/O or reads the clock, and every line is built from
cleaned text, so nobody's name or share can drive a terminal.
"""

from __future__ import annotations

from collections.abc import Iterable

from circle_room.protocol.messages import Event
from circle_room.protocol.model import Member, Presence, Role, RoomState, SignalKind
from circle_room.protocol.text import clean_line
from circle_room.tui.client.narrator import Hint, Kind, Line, join_names, minutes_text, narrate
from circle_room.tui.client.narrator import name_of as name_of
from circle_room.tui.client.narrator import ordinal as ordinal
from circle_room.tui.client.narrator import people as people

SIGNALS: dict[str, SignalKind] = {
    "checkin": SignalKind.CHECK_IN,
    "check-in": SignalKind.CHECK_IN,
    "out": SignalKind.STEPPING_OUT,
    "ok": SignalKind.OK,
}
"""What may follow ``/signal``."""

SHARE_HINT = "Type to share. /yield when you are done, or /pass to pass it on."


# --- sentences -> lines ----------------------------------------------------------------


def spoken(lines: Iterable[Line], state: RoomState) -> list[str]:
    """The narrator's ``lines`` as plain mode says them, in ``state`` (the room after)."""
    out: list[str] = []
    for line in lines:
        if line.kind is Kind.SHARE:
            out.append(f"{line.who}: {clean_line(line.text)}")
        elif line.hint is Hint.ADMIT:
            out.append(f"{line.text} /admit {line.who} lets them in.")
        else:
            out.append(line.text)
        if line.hint is Hint.SHARE:
            out.append(SHARE_HINT)
        elif line.hint is Hint.AGREEMENTS:
            out.extend(_agreements(state.settings.agreements))
        elif line.hint is Hint.ANSWER:
            out.append(f"/seen {line.who} tells them you saw it.")
    return out


def describe(event: Event, before: RoomState, after: RoomState, me: int) -> list[str]:
    """What ``event`` means to member ``me``, as plain mode says it."""
    return spoken(narrate(event, before, after, me), after)


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
        f"You are in {_the_circle(room)} as {name_of(state, me, 0)}, "
        f"with {people(here)} present. Type /help for the commands."
    ]
    return lines + status_lines(state, me)


def _the_circle(room: str) -> str:
    """ "the tuesday circle", or "the circle" for the room called circle (not "circle circle")."""
    name = clean_line(room)
    return "the circle" if name.casefold() == "circle" else f"the {name} circle"


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
        lines.append(f"{who} {'have' if who == 'You' else 'has'} the stick.")
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
    lines = [f"Welcome to {_the_circle(room)}."]
    if agreements:
        lines.extend(_agreements(agreements))
        lines.append("Type yes to accept them and join, or /quit to leave.")
    return lines


def _agreements(agreements: tuple[str, ...]) -> list[str]:
    if not agreements:
        return []
    return ["Our group agreements:"] + [
        f"{i}. {clean_line(a)}" for i, a in enumerate(agreements, 1)
    ]


def nudge_line(limit: float) -> str:
    return (
        f"You have shared for {minutes_text(limit)}, the suggested time. "
        "There is no rush; /yield when you are ready."
    )

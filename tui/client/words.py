"""Small words the narrator builds its sentences from: counts, places, names, signals.

Pure and Textual-free; every name comes out cleaned (``protocol.text``), so a
sentence made of these words is safe to show as it is.
"""

from __future__ import annotations

from circle_room.protocol.model import RoomState, SignalKind
from circle_room.protocol.text import clean_line

SIGNAL_WORDS: dict[SignalKind, str] = {
    SignalKind.CHECK_IN: "I need a check-in",
    SignalKind.STEPPING_OUT: "I'm stepping out for a moment",
    SignalKind.OK: "I'm OK",
}
"""A private signal as the member means it."""
SIGNAL_TAGS: dict[SignalKind, str] = {
    SignalKind.CHECK_IN: "check-in",
    SignalKind.STEPPING_OUT: "stepped out",
    SignalKind.OK: "OK",
}
"""A private signal in a word or two, for a narrow inbox."""
QUIET_EXIT_TAG = "left quietly"
"""A quiet exit in the facilitators' inbox, beside the signals' tags."""


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
    """A member's cleaned name, ``you`` for oneself, "Someone" when unknown (or blank)."""
    if member_id is not None and member_id == me:
        return you
    member = state.members.get(member_id) if member_id is not None else None
    return (clean_line(member.name) if member is not None else "") or "Someone"


def join_names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]

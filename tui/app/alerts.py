"""When to ring the bell: the stick came to you, or you just became next.

A member looking away (another window, the kettle) should not miss their
turn. The bell is the terminal's (BEL), which terminals show as a sound, a
flash or a badge, as their owner chose; the member can turn it off. It rings
on a change only, never again for the same turn or the same place in line.
Pure: two views in, an alert or ``None`` out.
"""

from __future__ import annotations

import enum

from circle_room.tui.client.view import View


class Alert(enum.Enum):
    STICK = "The stick has come to you."
    NEXT = "You are next."


def _next(view: View) -> bool:
    """Whether this member is the next to hold the stick (and does not hold it now)."""
    state = view.state
    if view.holding or view.waiting or view.myself is None:
        return False
    if state.round is not None:
        return bool(state.round.remaining) and state.round.remaining[0] == view.me
    return bool(state.queue) and state.queue[0] == view.me and state.turn is not None


def alert(before: View | None, after: View) -> Alert | None:
    """What changed for this member between two views that deserves the bell, if anything."""
    if before is None or before.me != after.me:
        return None  # Joining or resuming is not news to the person who did it.
    if after.holding and not before.holding:
        return Alert.STICK
    raised_now = after.me in after.state.queue and before.me not in before.state.queue
    if _next(after) and not _next(before) and not raised_now:
        # Raising your own hand into an empty line is not news either.
        return Alert.NEXT
    return None

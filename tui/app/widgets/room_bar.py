"""The top line: the room, how many are here, lock and waiting room, and who you are."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import var

from circle_room.protocol.model import Presence, Role
from circle_room.tui.app.widgets.safe import TextPanel, fit
from circle_room.tui.client.view import View


def describe(view: View) -> Text:
    state = view.state
    me = view.myself
    text = Text()
    text.append("Circle", style="bold")
    text.append(f" · {fit(view.room, 24)}")
    if me is not None and me.presence is Presence.WAITING:
        # The waiting room sees nobody in the circle: a count would say "0 here".
        text.append(" · in the waiting room", style="bold")
    else:
        here = sum(1 for m in state.members.values() if m.presence is Presence.PRESENT)
        text.append(f" · {here} here")
    if state.locked:
        text.append(" · locked", style="bold")
    waiting = len(view.waiting_members())
    if waiting:
        text.append(f" · {waiting} waiting", style="bold")
    if view.paused:
        text.append(" · paused", style="bold")
    if me is not None:
        role = {Role.FACILITATOR: "facilitator", Role.COFACILITATOR: "co-facilitator"}.get(
            me.role, "member"
        )
        text.append(f" · you: {fit(me.name, 20)} ({role})")
    if view.join_hint and view.is_facilitator:
        text.append("\n")
        text.append("Join: ", style="bold")
        text.append(view.join_hint)
    return text


class RoomBar(TextPanel):
    DEFAULT_CSS = """
    RoomBar { height: auto; padding: 0 1; background: $primary 30%; }
    """

    view: var[View | None] = var(None, always_update=True, init=False)

    def watch_view(self, view: View | None) -> None:
        if view is not None:
            self.show(describe(view))

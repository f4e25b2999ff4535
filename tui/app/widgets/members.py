"""Who is here: one line per person, with an icon *and* words for their state."""

from __future__ import annotations

import contextlib

from rich.text import Text
from textual.reactive import var
from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from circle_room.protocol.model import Member, Presence, Role
from circle_room.tui.app.widgets.safe import fit
from circle_room.tui.client.narrator import SIGNAL_TAGS
from circle_room.tui.client.view import View

ICON_HOLDER = "▶"
ICON_HAND = "↑"
ICON_AWAY = "◌"
ICON_WAITING = "◔"
ICON_FACILITATOR = "★"
ICON_PRESENT = "·"


def describe(view: View, member: Member) -> tuple[str, list[str]]:
    """The icon and the words for one member, as everyone (or a facilitator) sees them."""
    words: list[str] = []
    icon = ICON_PRESENT
    if member.role is Role.FACILITATOR:
        words.append("facilitator")
        icon = ICON_FACILITATOR
    elif member.role is Role.COFACILITATOR:
        words.append("co-facilitator")
        icon = ICON_FACILITATOR
    if member.presence is Presence.WAITING:
        words.insert(0, "waiting")
        icon = ICON_WAITING
    elif member.presence is Presence.AWAY:
        words.insert(0, "away, reconnecting")
        icon = ICON_AWAY
    position = view.hand_position(member.id)
    if position is not None:
        words.insert(0, f"hand {position}")
        icon = ICON_HAND if member.presence is not Presence.AWAY else icon
    if view.state.holder == member.id:
        words.insert(0, "sharing")
        icon = ICON_HOLDER
    if view.is_facilitator and member.id in view.last_signal:
        words.append("✉ " + SIGNAL_TAGS[view.last_signal[member.id]])
    return icon, words


def entry(view: View, member: Member, width: int) -> Text:
    icon, words = describe(view, member)
    you = " (you)" if member.id == view.me else ""
    tail = (" · " + ", ".join(words)) if words else ""
    room_for_name = max(4, width - 2 - len(you) - Text(tail).cell_len)
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{icon} ", style="bold")
    text.append(fit(member.name, room_for_name), style="bold" if member.id == view.me else "")
    text.append(you)
    text.append(tail, style="italic")
    return text


class MemberList(OptionList):
    """The circle in circle order, then the waiting room; the highlight picks a member."""

    DEFAULT_CSS = """
    MemberList {
        height: 1fr;
        border: round $panel-lighten-2;
        border-title-align: left;
        padding: 0;
    }
    MemberList:focus { border: round $accent; }
    """

    view: var[View | None] = var(None, always_update=True, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "In the circle"
        self._key: tuple[object, ...] = ()

    @property
    def selected(self) -> int | None:
        """The highlighted member's id, if any."""
        option = self.highlighted_option
        if option is None or option.id is None or not option.id.startswith("m"):
            return None
        return int(option.id[1:])

    def select_member(self, member_id: int) -> None:
        with contextlib.suppress(OptionDoesNotExist):
            self.highlighted = self.get_option_index(f"m{member_id}")

    def on_resize(self) -> None:
        self._key = ()
        self.watch_view(self.view)

    def watch_view(self, view: View | None) -> None:
        if view is None:
            return
        width = max(10, self.scrollable_content_region.width - 1)
        members = list(view.state.members.values())
        key = (
            width,
            view.me,
            view.is_facilitator,
            view.state.holder,
            view.state.queue,
            tuple((m.id, m.name, m.role, m.presence) for m in members),
            tuple(sorted(view.last_signal.items())) if view.is_facilitator else (),
        )
        if key == self._key:
            return
        self._key = key
        chosen = self.selected
        index = self.highlighted
        circle = [m for m in members if m.presence is not Presence.WAITING]
        waiting = [m for m in members if m.presence is Presence.WAITING]
        options: list[Option | None] = [
            Option(entry(view, m, width), id=f"m{m.id}") for m in circle
        ]
        if waiting:
            options.append(Option(Text("Waiting room", style="bold underline"), disabled=True))
            options.extend(Option(entry(view, m, width), id=f"m{m.id}") for m in waiting)
        self.set_options(options)
        self.border_title = f"In the circle ({len(circle)})"
        if chosen is not None and f"m{chosen}" in {o.id for o in self.options}:
            self.select_member(chosen)
        elif self.option_count:
            self.highlighted = min(index or 0, self.option_count - 1)

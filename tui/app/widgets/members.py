"""Who is here: one line per person, with an icon *and* words for their state.

The list is in the order the room will go: whoever holds the stick, then
the round still to go (during a round), then raised hands in queue order,
then everyone else in circle order, then the waiting room. So the queue a
facilitator moves with ``[`` and ``]`` moves on screen too, and "you're next"
is read at a glance. Only facilitators act on rows, so only they get a
cursor; for everyone else the list is read-only.
"""

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
ICON_ROUND = "↻"
ICON_AWAY = "◌"
ICON_WAITING = "◔"
ICON_FACILITATOR = "★"
ICON_PRESENT = "·"
ICON_SIGNAL = "✉"

LEGEND: tuple[tuple[str, str], ...] = (
    (ICON_HOLDER, "holds the stick and is sharing"),
    (ICON_HAND, "hand raised; the words say the place in line (next, 2nd, ...)"),
    (ICON_ROUND, "still to share or pass in the round"),
    (ICON_FACILITATOR, "a facilitator or co-facilitator"),
    (ICON_PRESENT, "here and listening"),
    (ICON_AWAY, "away: the connection dropped, the seat is kept for a while"),
    (ICON_WAITING, "in the waiting room"),
    (ICON_SIGNAL, "a private signal (facilitators only see it)"),
)
"""Every icon of the list, for the help screen."""


def ordinal(place: int) -> str:
    """1 -> "next", 2 -> "2nd", 11 -> "11th": a place in line, as people say it."""
    if place == 1:
        return "next"
    suffix = "th" if 10 <= place % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(place % 10, "th")
    return f"{place}{suffix}"


def round_place(view: View, member_id: int) -> int | None:
    """1-based place among those still to go in the round, if one is going."""
    state = view.state
    if state.round is None or member_id not in state.round.remaining:
        return None
    return state.round.remaining.index(member_id) + 1


def in_order(view: View) -> tuple[list[Member], list[Member]]:
    """The circle in the order the stick will go, and the waiting room."""
    state = view.state
    members = state.members
    first: list[int] = []
    if state.holder is not None:
        first.append(state.holder)
    if state.round is not None:
        first.extend(state.round.remaining)
    first.extend(state.queue)
    ordered: list[Member] = []
    seen: set[int] = set()
    for member_id in first:
        member = members.get(member_id)
        if member is not None and member_id not in seen and member.presence is not Presence.WAITING:
            ordered.append(member)
            seen.add(member_id)
    rest = [m for m in members.values() if m.id not in seen and m.presence is not Presence.WAITING]
    waiting = [m for m in members.values() if m.presence is Presence.WAITING]
    return ordered + rest, waiting


def place_words(view: View, member_id: int) -> str | None:
    """A place in line: ``"you're next"``, ``"2nd"`` (next to a hand), ``"3rd in round"``."""
    you = member_id == view.me
    turn = round_place(view, member_id)
    if turn is not None:
        return "you're next" if you and turn == 1 else f"{ordinal(turn)} in round"
    hand = view.hand_position(member_id)
    if hand is None:
        return None
    if you:
        return "you're next" if hand == 1 else f"{ordinal(hand)} in line"
    return ordinal(hand)


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
    place = place_words(view, member.id)
    if place is not None:
        words.insert(0, place)
        if member.presence is not Presence.AWAY:
            icon = ICON_ROUND if round_place(view, member.id) is not None else ICON_HAND
    if view.state.holder == member.id:
        words.insert(0, "sharing")
        icon = ICON_HOLDER
    if view.is_facilitator and member.id in view.last_signal:
        words.append(f"{ICON_SIGNAL} " + SIGNAL_TAGS[view.last_signal[member.id]])
    return icon, words


def entry(view: View, member: Member, width: int) -> Text:
    icon, words = describe(view, member)
    you = " (you)" if member.id == view.me else ""
    tail = (" · " + ", ".join(words)) if words else ""
    room_for_name = max(4, width - 2 - len(you) - Text(tail).cell_len)
    holder = view.state.holder == member.id
    text = Text(no_wrap=True, overflow="ellipsis")
    # The speaker's row stands out in every theme, without colour: bold and reversed.
    text.append(f"{icon} ", style="bold reverse" if holder else "bold")
    bold = holder or member.id == view.me
    text.append(fit(member.name, room_for_name), style="bold" if bold else "")
    text.append(you)
    text.append(tail, style="bold" if holder else "italic")
    text.truncate(width, overflow="ellipsis")  # A row is one line, whatever the words.
    return text


def strip(view: View) -> Text:
    """The whole circle on one line, for windows too narrow for the list.

    New private signals come first for a facilitator: the inbox is folded away too.
    """
    circle, waiting = in_order(view)
    text = Text(no_wrap=True, overflow="ellipsis")
    unread = view.unread() if view.is_facilitator else 0
    if unread:
        text.append(f"{ICON_SIGNAL} {unread} new", style="bold reverse")
        text.append("  ")
    text.append(f"{len(circle)} here: ", style="bold")
    for n, member in enumerate(circle):
        icon, _ = describe(view, member)
        if n:
            text.append("  ")
        name = "you" if member.id == view.me else fit(member.name, 12)
        holder = view.state.holder == member.id
        text.append(icon + name, style="bold reverse" if holder else "")
    if waiting:
        text.append(f"  · {len(waiting)} waiting", style="bold")
    return text


class MemberList(OptionList):
    """The circle in the order the stick goes, then the waiting room.

    For facilitators the highlight picks a member, and it follows that member
    as rows move; if they leave, nobody is picked rather than their neighbour.
    """

    DEFAULT_CSS = """
    MemberList {
        height: 1fr;
        border: round $panel-lighten-2;
        border-title-align: left;
        padding: 0;
        border-title-color: $text-muted;
    }
    MemberList:focus { border: double $accent; border-title-color: $accent; }
    MemberList.-readonly > .option-list--option-highlighted,
    MemberList.-readonly:focus > .option-list--option-highlighted {
        color: $foreground;
        background: transparent;
        text-style: none;
    }
    """

    view: var[View | None] = var(None, always_update=True, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "In the circle"
        self._key: tuple[object, ...] = ()
        self._chosen: int | None = None
        self.add_class("-readonly")

    @property
    def selected(self) -> int | None:
        """The picked member's id, if any (never for a member: they act on no rows)."""
        if self.has_class("-readonly"):
            return None
        option = self.highlighted_option
        if option is None or option.id is None or not option.id.startswith("m"):
            return None
        return int(option.id[1:])

    def select_member(self, member_id: int) -> None:
        with contextlib.suppress(OptionDoesNotExist):
            self.highlighted = self.get_option_index(f"m{member_id}")
            self._chosen = member_id

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._chosen = self.selected

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
            view.state.round,
            tuple((m.id, m.name, m.role, m.presence) for m in members),
            tuple(sorted(view.last_signal.items())) if view.is_facilitator else (),
        )
        if key == self._key:
            return
        self._key = key
        chosen = self._chosen
        self.set_class(not view.is_facilitator, "-readonly")
        circle, waiting = in_order(view)
        options: list[Option | None] = [
            Option(entry(view, m, width), id=f"m{m.id}") for m in circle
        ]
        if waiting:
            options.append(Option(Text("Waiting room", style="bold underline"), disabled=True))
            options.extend(Option(entry(view, m, width), id=f"m{m.id}") for m in waiting)
        self.set_options(options)
        self.border_title = f"In the circle ({len(circle)})"
        if not view.is_facilitator:
            self.highlighted = None
        elif chosen is not None and chosen in view.state.members:
            self.select_member(chosen)
        else:
            # The picked member left: pick nobody rather than whoever slid into the row.
            self.highlighted = None
            self._chosen = None

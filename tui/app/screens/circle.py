"""The circle: who holds the stick, who is here, the shares since you joined, your draft.

One screen for members and facilitators alike (a member can be promoted in the
middle of a meeting): facilitator panels and keys appear when ``view`` says you
are one. The screen renders the ``View`` the app sets and turns keys into
``SendCommand`` and ``Goodbye`` requests; it never touches the network.

Typing always writes (see ``tui.app.keys``): the draft box has the focus, and
a letter typed while the list or the shares have it is put in the draft box
instead. Below 80 columns the list folds into a one-line strip; Tab opens it
in full, and Esc or Tab closes it again.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import OptionList

from circle_room.protocol.messages import Share
from circle_room.tui.app import keys
from circle_room.tui.app.keys import shown
from circle_room.tui.app.offers import key_offered, may_share
from circle_room.tui.app.screens.circle_actions import CircleActions
from circle_room.tui.app.widgets.inbox import Inbox
from circle_room.tui.app.widgets.key_bar import KeyBar
from circle_room.tui.app.widgets.members import MemberList, ordinal, strip
from circle_room.tui.app.widgets.now_sharing import NowSharing
from circle_room.tui.app.widgets.room_bar import RoomBar
from circle_room.tui.app.widgets.safe import TextPanel
from circle_room.tui.app.widgets.selection import Selection
from circle_room.tui.app.widgets.share_box import ShareBox
from circle_room.tui.app.widgets.share_log import ShareLog
from circle_room.tui.app.widgets.status_line import StatusLine
from circle_room.tui.client.view import View

ALWAYS = frozenset({"help", "leave", "toggle_bell", "next_area"})
NARROW = 80
"""Below this many columns the member list folds into a strip."""
SHORT = 24
"""Below this many rows the status line shows only when the link is not well, and the
host's join lines are squeezed into one (help shows them in full)."""
LIST_KEYS = frozenset({"left_square_bracket", "right_square_bracket"})
"""Keys a facilitator's list keeps for itself; every other character goes to the draft."""


def held_words(view: View) -> str:
    """Why Enter did not share, and what to do: on the draft box's border."""
    if view.waiting:
        return "Not shared: you are in the waiting room. Your draft waits."
    if view.paused:
        return "Not shared: the circle is paused. Your draft waits."
    mine = view.my_hand
    if mine is not None:
        place = "you're next" if mine == 1 else f"{ordinal(mine)} in line"
        return f"Not shared yet: your hand is up ({place}). Your draft waits."
    return f"Not shared: {shown(keys.HAND)} raises your hand. Your draft waits."


class CircleScreen(CircleActions):
    DEFAULT_CSS = """
    CircleScreen { layout: vertical; }
    CircleScreen #body { height: 1fr; }
    CircleScreen #side { width: 32; }
    CircleScreen #main { width: 1fr; }
    CircleScreen Inbox, CircleScreen Selection { display: none; }
    CircleScreen.-facilitator Inbox, CircleScreen.-facilitator Selection { display: block; }
    CircleScreen #strip { display: none; height: 1; padding: 0 1; }
    CircleScreen #undo { display: none; height: auto; padding: 0 1; text-style: bold reverse; }
    CircleScreen.-pending #undo { display: block; }
    CircleScreen.-narrow #side { display: none; }
    CircleScreen.-narrow #strip { display: block; }
    CircleScreen.-narrow.-list-open #side { display: block; width: 1fr; }
    CircleScreen.-narrow.-list-open #main { display: none; }
    CircleScreen.-narrow NowSharing { max-height: 7; }
    CircleScreen.-short #status { display: none; }
    CircleScreen.-short #status.-reconnecting, CircleScreen.-short #status.-offline {
        display: block;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(keys.HAND, "raise_hand", "Raise hand", priority=True),
        Binding(keys.HAND, "lower_hand", "Lower hand", priority=True),
        Binding(keys.METOO, "metoo", "Me too", priority=True),
        Binding(keys.METOO, "undo_metoo", "Undo me too", priority=True),
        Binding(keys.YIELD, "pass_stick", "Pass", priority=True),
        Binding(keys.YIELD, "yield_stick", "Yield", priority=True),
        Binding(keys.UNDO, "undo", "Undo", priority=True),
        Binding(keys.SIGNAL, "signal", "Signal", priority=True),
        Binding(keys.SIGNAL, "ack_signal", "Seen", priority=True),
        Binding(keys.PAUSE, "pause", "Pause", priority=True),
        Binding(keys.PAUSE, "resume", "Resume", priority=True),
        Binding(keys.PAUSE_TOO, "pause", show=False, priority=True),
        Binding(keys.PAUSE_TOO, "resume", show=False, priority=True),
        Binding(keys.READ, "mark_read", "Mark read", priority=True),
        Binding(keys.SETTINGS, "settings", "Settings", priority=True),
        Binding(keys.SETTINGS, "my_settings", "Settings", priority=True),
        Binding(keys.HELP, "help", "Help", priority=True),
        Binding("f1", "help", "Help", show=False, priority=True),
        Binding(keys.LEAVE, "leave", "Leave", priority=True),
        Binding("left_square_bracket", "move(-1)", "Move up", key_display="["),
        Binding("right_square_bracket", "move(1)", "Move down", key_display="]"),
        Binding("escape", "back_to_draft", "Back to draft"),
        Binding("tab", "next_area", show=False),
        Binding("shift+tab", "next_area(-1)", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._ready = False
        self._holding = False
        self._bindings_key: tuple[object, ...] = ()
        self.room_bar = RoomBar(id="room")
        self.members = MemberList(id="members")
        self.selection = Selection(id="selection")
        self.inbox = Inbox(id="inbox")
        self.now_sharing = NowSharing(id="now")
        self.strip = TextPanel(id="strip")
        self.share_log = ShareLog(id="log")
        self.undo_bar = TextPanel(id="undo")
        self.share_box = ShareBox(id="box")
        self.status_line = StatusLine(id="status")
        self.key_bar = KeyBar(id="keys")

    def compose(self) -> ComposeResult:
        yield self.room_bar
        with Horizontal(id="body"):
            with Vertical(id="side"):
                yield self.members
                yield self.selection
                yield self.inbox
            with Vertical(id="main"):
                yield self.now_sharing
                yield self.strip
                yield self.share_log
                yield self.undo_bar
                yield self.share_box
        yield self.status_line
        yield self.key_bar

    def on_mount(self) -> None:
        self._ready = True
        self._fit(self.app.size.width, self.app.size.height)
        self.share_box.focus()
        self.watch_view(self.view)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        self.set_class(width < NARROW, "-narrow")
        self.set_class(height < SHORT, "-short")
        self.room_bar.compact = height < SHORT
        self._list_open()
        self._show_strip()

    # --- attributes down ----------------------------------------------------------------

    def watch_view(self, view: View | None) -> None:
        if view is None or not self._ready:
            return
        self.set_class(view.is_facilitator, "-facilitator")
        self.room_bar.view = view
        self.members.view = view
        self.inbox.view = view
        self.now_sharing.view = view
        self.share_log.view = view
        self._show_strip()
        self.status_line.room = view.room
        self.status_line.link = view.link
        holding = may_share(view)
        self.share_box.open(holding)
        if holding and not self._holding:
            self.share_box.focus()  # The stick came: the draft is where the words go.
        self._holding = holding
        self._show_selection()
        self._refresh_keys(view)

    def tick(self, view: View) -> None:
        """A second passed: update only what shows time (see ``CircleApp._tick``)."""
        self.set_reactive(CircleScreen.view, view)
        if not self._ready:
            return
        self.now_sharing.tick(view)
        self.inbox.view = view
        self._show_strip()  # "new" signals wear off.
        self._refresh_keys(view)

    def _show_strip(self) -> None:
        # Kept up to date only while it shows: a hidden panel need not repaint.
        if self.view is not None and self.has_class("-narrow"):
            self.strip.show(strip(self.view))

    def _show_selection(self) -> None:
        view = self.view
        if view is not None and view.is_facilitator:
            self.selection.show_for(view, self._selected(), self.focused is self.members)

    def _refresh_keys(self, view: View) -> None:
        # What the rule book is asked about: the whole room, who is asking, and
        # who is selected; plus what is local: the focus, the inbox, an undo.
        key = (
            view.me,
            view.state,
            self.members.selected,
            self.focused,
            view.unread() > 0 if view.is_facilitator else False,
        )
        if key != self._bindings_key:
            self._bindings_key = key
            self.refresh_bindings()

    def on_descendant_focus(self) -> None:
        self._list_open()
        self._show_selection()
        if self.view is not None:
            self._refresh_keys(self.view)

    def on_descendant_blur(self) -> None:
        self.call_after_refresh(self._list_open)

    def _list_open(self) -> None:
        self.set_class(self.focused is self.members, "-list-open")

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show_selection()
        if self.view is not None:
            self._refresh_keys(self.view)

    # --- which keys apply now ------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        view = self.view
        if action in ALWAYS:
            return True
        if action == "back_to_draft":
            return self.focused is not self.share_box
        if action == "undo":
            return self._pending is not None
        if view is None or view.myself is None:
            return False
        if action == "my_settings":
            return not view.is_facilitator
        if action == "move" and self.focused is not self.members:
            return False  # Only in the list, where the rows visibly move.
        return key_offered(action, view, self._selected(), parameters)

    # --- keys that are not actions -----------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        """A character typed outside the draft box goes into it: typing always writes."""
        box = self.share_box
        if self.focused is box or not event.is_printable or event.character is None:
            return
        if self.focused is self.members and event.key in LIST_KEYS:
            return
        event.stop()
        event.prevent_default()
        box.focus()
        box.insert(event.character)

    def action_back_to_draft(self) -> None:
        self.share_box.focus()

    def action_next_area(self, step: int = 1) -> None:
        """Tab: the draft, the list, the shares, in turn; a narrow window opens the list for it."""
        if not self.has_class("-narrow"):
            self.focus_next() if step > 0 else self.focus_previous()
            return
        areas = [self.share_box, self.members, self.share_log]
        now = areas.index(self.focused) if self.focused in areas else 0
        target = areas[(now + step) % len(areas)]
        # The folded list is not shown, so it cannot take the focus until it is opened.
        self.set_class(target is self.members, "-list-open")
        self.call_after_refresh(target.focus)

    # --- messages up -----------------------------------------------------------------------

    def on_share_box_posted(self, event: ShareBox.Posted) -> None:
        self._send(Share(event.text))

    def on_share_box_held(self, event: ShareBox.Held) -> None:
        if self.view is not None:
            self.share_box.hold(held_words(self.view))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a member: every action a facilitator can take with them."""
        self.open_member_menu()

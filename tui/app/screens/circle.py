"""The circle: who is here, the current share, the shares since you joined, your box.

One screen for members and facilitators alike (a member can be promoted in the
middle of a meeting): facilitator panels and keys appear when ``view`` says you
are one. The screen renders the ``View`` the app sets and turns keys into
``SendCommand`` and ``Goodbye`` requests; it never touches the network.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, OptionList

from circle_room.protocol.messages import (
    AckSignal,
    Admit,
    ChangeSettings,
    Command,
    GiveStick,
    Lock,
    LowerAllHands,
    LowerHand,
    MeToo,
    MoveHand,
    Pass,
    PauseCircle,
    RaiseHand,
    ReleaseSeat,
    Remove,
    ResumeCircle,
    Share,
    StartRound,
    StopRound,
    TakeStick,
    Yield,
)
from circle_room.protocol.model import Member, Settings
from circle_room.tui.app.offers import ack_target, admit_target, key_offered, may_share
from circle_room.tui.app.requests import MarkRead, SendCommand
from circle_room.tui.app.screens.dialogs import ConfirmScreen, PauseMessageScreen
from circle_room.tui.app.screens.facilitator import (
    MemberActionsScreen,
    SettingsScreen,
    member_command,
)
from circle_room.tui.app.screens.meeting import MeetingScreen
from circle_room.tui.app.widgets.inbox import Inbox
from circle_room.tui.app.widgets.members import MemberList
from circle_room.tui.app.widgets.now_sharing import NowSharing
from circle_room.tui.app.widgets.room_bar import RoomBar
from circle_room.tui.app.widgets.safe import fit
from circle_room.tui.app.widgets.share_box import ShareBox
from circle_room.tui.app.widgets.share_log import ShareLog
from circle_room.tui.app.widgets.status_line import StatusLine
from circle_room.tui.client.view import View

ALWAYS = frozenset({"help", "leave"})


class CircleScreen(MeetingScreen):
    DEFAULT_CSS = """
    CircleScreen { layout: vertical; }
    CircleScreen #body { height: 1fr; }
    CircleScreen #side { width: 32; }
    CircleScreen #main { width: 1fr; }
    CircleScreen Inbox { display: none; }
    CircleScreen.-facilitator Inbox { display: block; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("h", "raise_hand", "Raise hand"),
        Binding("h", "lower_hand", "Lower hand"),
        Binding("m", "metoo", "Me too"),
        Binding("m", "undo_metoo", "Undo me too"),
        Binding("y", "pass_stick", "Pass"),
        Binding("y", "yield_stick", "Yield"),
        Binding("s", "signal", "Signal"),
        Binding("s", "ack_signal", "Seen"),
        Binding("p", "pause", "Pause"),
        Binding("p", "resume", "Resume"),
        Binding("g", "give", "Give"),
        Binding("t", "take", "Take", show=False),
        Binding("r", "start_round", "Round"),
        Binding("r", "stop_round", "End round"),
        Binding("l", "lock", "Lock", show=False),
        Binding("l", "unlock", "Unlock", show=False),
        Binding("x", "remove", "Remove", show=False),
        Binding("a", "admit", "Admit"),
        Binding("c", "lower_all", "Lower all", show=False),
        Binding("left_square_bracket", "move(-1)", "Move up", show=False),
        Binding("right_square_bracket", "move(1)", "Move down", show=False),
        Binding("o", "settings", "Settings", show=False),
        Binding("i", "mark_read", "Mark read"),
        Binding("escape", "leave_box", "Leave box"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "leave", "Leave"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._ready = False
        self._holding = False
        self._bindings_key: tuple[object, ...] = ()
        self.room_bar = RoomBar(id="room")
        self.members = MemberList(id="members")
        self.inbox = Inbox(id="inbox")
        self.now_sharing = NowSharing(id="now")
        self.share_log = ShareLog(id="log")
        self.share_box = ShareBox(id="box")
        self.status_line = StatusLine(id="status")

    def compose(self) -> ComposeResult:
        yield self.room_bar
        with Horizontal(id="body"):
            with Vertical(id="side"):
                yield self.members
                yield self.inbox
            with Vertical(id="main"):
                yield self.now_sharing
                yield self.share_log
                yield self.share_box
        yield self.status_line
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._ready = True
        self.members.focus()
        self.watch_view(self.view)

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
        self.status_line.room = view.room
        self.status_line.link = view.link
        box = self.share_box
        holding = may_share(view)
        box.open(holding)
        if holding and not self._holding:
            box.focus()
        elif not holding and self._holding:
            self.members.focus()
        self._holding = holding
        self._refresh_keys(view)

    def tick(self, view: View) -> None:
        """A second passed: update only what shows time (see ``CircleApp._tick``)."""
        self.set_reactive(CircleScreen.view, view)
        if not self._ready:
            return
        self.now_sharing.tick(view)
        self.inbox.view = view
        self._refresh_keys(view)

    def _refresh_keys(self, view: View) -> None:
        # What the rule book is asked about: the whole room, who is asking, and
        # who is selected; plus the two keys that are not the room's.
        key = (
            view.me,
            view.state,
            self.members.selected,
            self.focused is self.share_box,
            view.unread() > 0 if view.is_facilitator else False,
        )
        if key != self._bindings_key:
            self._bindings_key = key
            self.refresh_bindings()

    def on_descendant_focus(self) -> None:
        if self.view is not None:
            self._refresh_keys(self.view)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if self.view is not None:
            self._refresh_keys(self.view)

    # --- which keys apply now ------------------------------------------------------------

    def _selected(self) -> Member | None:
        view = self.view
        chosen = self.members.selected
        if view is None or chosen is None:
            return None
        return view.state.members.get(chosen)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        view = self.view
        if action in ALWAYS:
            return True
        if action == "leave_box":
            return self.focused is self.share_box
        if view is None or view.myself is None:
            return False
        return key_offered(action, view, self._selected(), parameters)

    # --- messages up -----------------------------------------------------------------------

    def _send(self, command: Command) -> None:
        self.post_message(SendCommand(command))

    def action_raise_hand(self) -> None:
        self._send(RaiseHand())

    def action_lower_hand(self) -> None:
        self._send(LowerHand())

    def action_metoo(self) -> None:
        self._metoo(True)

    def action_undo_metoo(self) -> None:
        self._metoo(False)

    def _metoo(self, on: bool) -> None:
        turn = self.view.state.turn if self.view else None
        if turn is not None:
            self._send(MeToo(turn.id, on))

    def action_pass_stick(self) -> None:
        self._send(Pass())

    def action_yield_stick(self) -> None:
        self._send(Yield())

    def action_leave_box(self) -> None:
        self.members.focus()

    def on_share_box_posted(self, event: ShareBox.Posted) -> None:
        self._send(Share(event.text))

    # --- facilitator actions -------------------------------------------------------------

    def action_pause(self) -> None:
        def chosen(message: str | None) -> None:
            if message is not None:
                self._send(PauseCircle(message))

        self.app.push_screen(PauseMessageScreen(), chosen)

    def action_resume(self) -> None:
        self._send(ResumeCircle())

    def action_give(self) -> None:
        chosen = self._selected()
        if chosen is not None:
            self._send(GiveStick(chosen.id))

    def action_take(self) -> None:
        self._send(TakeStick())

    def action_start_round(self) -> None:
        self._send(StartRound())

    def action_stop_round(self) -> None:
        self._send(StopRound())

    def action_lock(self) -> None:
        self._send(Lock(True))

    def action_unlock(self) -> None:
        self._send(Lock(False))

    def action_mark_read(self) -> None:
        self.post_message(MarkRead())

    def action_ack_signal(self) -> None:
        view = self.view
        signalled = ack_target(view, self._selected()) if view is not None else None
        if signalled is not None:
            self._send(AckSignal(signalled))

    def action_lower_all(self) -> None:
        self._send(LowerAllHands())

    def action_admit(self) -> None:
        chosen = admit_target(self.view, self._selected()) if self.view is not None else None
        if chosen is not None:
            self._send(Admit(chosen.id))

    def action_move(self, delta: int) -> None:
        chosen = self._selected()
        view = self.view
        if chosen is not None and view is not None and chosen.id in view.state.queue:
            self._send(MoveHand(chosen.id, view.state.queue.index(chosen.id) + delta))

    def action_remove(self) -> None:
        chosen = self._selected()
        if chosen is None:
            return
        member_id = chosen.id

        def answered(yes: bool | None) -> None:
            if yes:
                self._send(Remove(member_id))

        question = f"Remove {fit(chosen.name, 32)} from this meeting?"
        detail = "They leave at once and cannot rejoin this meeting."
        self.app.push_screen(ConfirmScreen(question, detail), answered)

    def action_settings(self) -> None:
        view = self.view
        if view is None:
            return
        current = view.state.settings

        def chosen(settings: Settings | None) -> None:
            if settings is not None and settings != current:
                self._send(ChangeSettings(settings))

        self.app.push_screen(SettingsScreen(current), chosen)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a member: every action a facilitator can take with them."""
        view = self.view
        chosen = self._selected()
        if view is None or chosen is None or not view.is_facilitator:
            return
        member_id = chosen.id

        def picked(action: str | None) -> None:
            if action is not None:
                self._member_action(action, member_id)

        self.app.push_screen(MemberActionsScreen(view, chosen), picked)

    def _member_action(self, action: str, member_id: int) -> None:
        view = self.view
        member = view.state.members.get(member_id) if view is not None else None
        if view is None or member is None:
            return
        command = member_command(view, member, action)
        if isinstance(command, Remove):
            self.members.select_member(member_id)
            self.action_remove()  # Asks first: a removal cannot be undone.
        elif isinstance(command, ReleaseSeat):
            self._release(member)  # Asks first, too: their place in the circle ends.
        elif command is not None:
            # Sent even if the room moved on while the menu was open: the
            # relay's answer then says why.
            self._send(command)

    def _release(self, member: Member) -> None:
        member_id = member.id

        def answered(yes: bool | None) -> None:
            if yes:
                self._send(ReleaseSeat(member_id))

        question = f"Release {fit(member.name, 32)}'s seat now?"
        detail = "They are away. Their place and hand end now; they can join again as a newcomer."
        self.app.push_screen(ConfirmScreen(question, detail), answered)

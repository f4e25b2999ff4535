"""What the circle screen's keys, menu and palette do: commands up, asking first where it matters.

Everything that affects others and cannot be taken back asks, and the
question starts on the safe answer (``ConfirmScreen``): removing someone,
taking or giving the stick while someone is sharing, leaving. Lowering
hands would be slowed down by a question, so it waits a few seconds with an
undo instead (``Pending``). Passing or yielding with an unsent draft asks
too: the words the member wrote are worth a second look.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.timer import Timer

from circle_room.protocol.messages import (
    AckSignal,
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
    StartRound,
    StopRound,
    TakeStick,
    Yield,
)
from circle_room.protocol.model import Member, Settings
from circle_room.tui.app import keys
from circle_room.tui.app.keys import shown
from circle_room.tui.app.offers import ack_target
from circle_room.tui.app.requests import MarkRead, SendCommand, ToggleBell
from circle_room.tui.app.screens.dialogs import ConfirmScreen, PauseMessageScreen
from circle_room.tui.app.screens.facilitator import (
    Chosen,
    MemberActionsScreen,
    SettingsScreen,
    member_command,
)
from circle_room.tui.app.screens.meeting import MeetingScreen
from circle_room.tui.app.widgets.members import MemberList
from circle_room.tui.app.widgets.safe import TextPanel, fit
from circle_room.tui.app.widgets.share_box import ShareBox

UNDO_SECONDS = 5.0
"""How long a lowering of hands waits for an undo before it is sent."""


@dataclass(frozen=True)
class Pending:
    """A command held back for ``UNDO_SECONDS`` so it can be taken back."""

    command: Command
    words: str
    """What is about to happen, for the notice: "Lowering all hands"."""


class CircleActions(MeetingScreen):
    """The circle screen's actions; ``CircleScreen`` adds the layout and the keys."""

    members: MemberList
    share_box: ShareBox
    undo_bar: TextPanel

    def __init__(self) -> None:
        super().__init__()
        self._pending: Pending | None = None
        self._pending_timer: Timer | None = None

    def _send(self, command: Command) -> None:
        self.post_message(SendCommand(command))

    def _selected(self) -> Member | None:
        view = self.view
        chosen = self.members.selected
        if view is None or chosen is None:
            return None
        return view.state.members.get(chosen)

    def _confirm(self, question: str, detail: str, yes: str, no: str, command: Command) -> None:
        def answered(answer: bool | None) -> None:
            if answer:
                self._send(command)

        self.app.push_screen(ConfirmScreen(question, detail, yes=yes, no=no), answered)

    # --- everyone ------------------------------------------------------------------------

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
        self._give_back(Pass(), "Pass")

    def action_yield_stick(self) -> None:
        self._give_back(Yield(), "Yield")

    def _give_back(self, command: Command, verb: str) -> None:
        if not self.share_box.text.strip():
            self._send(command)
            return
        self._confirm(
            "Your draft has not been shared.",
            f"{verb} the stick anyway? What you wrote stays in the box.",
            yes=f"{verb} anyway",
            no="Go back to my draft",
            command=command,
        )

    def action_my_settings(self) -> None:
        self._settings(None)

    # --- facilitators ----------------------------------------------------------------------

    def action_pause(self) -> None:
        def chosen(message: str | None) -> None:
            if message is not None:
                self._send(PauseCircle(message))

        self.app.push_screen(PauseMessageScreen(), chosen)

    def action_resume(self) -> None:
        self._send(ResumeCircle())

    def action_take(self) -> None:
        view = self.view
        holder = view.state.holder if view is not None else None
        if view is None or holder is None:
            self._send(TakeStick())
            return
        name = fit(view.name(holder), 32)
        self._confirm(
            f"Take the stick from {name}?",
            f"{name} is sharing now; taking the stick ends their turn.",
            yes="Take the stick",
            no=f"Let {name} finish",
            command=TakeStick(),
        )

    def give(self, member_id: int) -> None:
        """Give the stick to ``member_id``, asking first if someone else is sharing."""
        view = self.view
        if view is None:
            return
        holder = view.state.holder
        if holder is None or holder == member_id:
            self._send(GiveStick(member_id))
            return
        speaker = fit(view.name(holder), 32) if holder != view.me else "You"
        to = fit(view.name(member_id), 32)
        self._confirm(
            f"Give the stick to {to}?",
            f"{speaker} {'are' if speaker == 'You' else 'is'} sharing now; "
            "giving the stick ends that turn.",
            yes=f"Give it to {to}",
            no="Not now",
            command=GiveStick(member_id),
        )

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
        self._hold_back(Pending(LowerAllHands(), "Lowering all hands"))

    def action_move(self, delta: int) -> None:
        chosen = self._selected()
        view = self.view
        if chosen is not None and view is not None and chosen.id in view.state.queue:
            self._send(MoveHand(chosen.id, view.state.queue.index(chosen.id) + delta))

    def action_remove(self) -> None:
        chosen = self._selected()
        if chosen is not None:
            self._remove(chosen)

    def _remove(self, member: Member) -> None:
        name = fit(member.name, 32)
        self._confirm(
            f"Remove {name} from this meeting?",
            "They leave at once and cannot rejoin this meeting.",
            yes=f"Remove {name}",
            no="Keep them",
            command=Remove(member.id),
        )

    def _release(self, member: Member) -> None:
        name = fit(member.name, 32)
        self._confirm(
            f"Release {name}'s seat now?",
            "They are away. Their place and hand end now; they can join again as a newcomer.",
            yes=f"Release {name}'s seat",
            no="Keep it for them",
            command=ReleaseSeat(member.id),
        )

    def action_settings(self) -> None:
        view = self.view
        if view is not None:
            self._settings(view.state.settings)

    def _settings(self, room: Settings | None) -> None:
        bell_on = bool(getattr(self.app, "bell_on", True))

        def chosen(answer: Chosen | None) -> None:
            if answer is None:
                return
            if answer.settings is not None and answer.settings != room:
                self._send(ChangeSettings(answer.settings))
            if answer.bell != bell_on:
                self.post_message(ToggleBell())

        self.app.push_screen(SettingsScreen(room, bell_on), chosen)

    # --- the member menu (Enter on a row, or the palette) ------------------------------------

    def open_member_menu(self) -> None:
        view = self.view
        chosen = self._selected()
        if view is None or chosen is None or not view.is_facilitator:
            return
        member_id = chosen.id

        def picked(action: str | None) -> None:
            if action is not None:
                self.member_action(action, member_id)

        self.app.push_screen(MemberActionsScreen(view, chosen), picked)

    def member_action(self, action: str, member_id: int) -> None:
        view = self.view
        member = view.state.members.get(member_id) if view is not None else None
        if view is None or member is None:
            return
        command = member_command(view, member, action)
        if isinstance(command, Remove):
            self._remove(member)  # Asks first: a removal cannot be undone.
        elif isinstance(command, ReleaseSeat):
            self._release(member)  # Asks first, too: their place in the circle ends.
        elif isinstance(command, GiveStick):
            self.give(member_id)
        elif isinstance(command, TakeStick):
            self.action_take()
        elif isinstance(command, LowerAllHands):
            self.action_lower_all()
        elif isinstance(command, LowerHand):
            words = f"Lowering {fit(member.name, 24)}'s hand"
            self._hold_back(Pending(command, words))
        elif command is not None:
            # Sent even if the room moved on while the menu was open: the
            # relay's answer then says why.
            self._send(command)

    # --- the short undo ---------------------------------------------------------------------

    def _hold_back(self, pending: Pending) -> None:
        self._flush()
        self._pending = pending
        self._pending_timer = self.set_timer(UNDO_SECONDS, self._flush)
        self.undo_bar.show(Text(f"{pending.words} in a moment. {shown(keys.UNDO)}: undo"))
        self.set_class(True, "-pending")
        self.refresh_bindings()

    def _flush(self) -> None:
        """Send what was held back, if anything (its time is up, or something else follows)."""
        pending = self._pending
        self._end_pending()
        if pending is not None:
            self._send(pending.command)

    def _end_pending(self) -> None:
        if self._pending_timer is not None:
            self._pending_timer.stop()
        self._pending = self._pending_timer = None
        self.set_class(False, "-pending")
        self.refresh_bindings()

    def action_undo(self) -> None:
        if self._pending is not None:
            words = self._pending.words
            self._end_pending()
            self.notify(f"{words}: undone. Nothing was sent.", timeout=3)

"""What every screen of a live meeting offers: the private signal, help, leaving, the palette."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.command import Provider
from textual.reactive import var
from textual.screen import Screen

from circle_room.protocol.messages import SendSignal
from circle_room.protocol.model import SignalKind
from circle_room.tui.app.actions import Offer, offers
from circle_room.tui.app.palette import RoomActions
from circle_room.tui.app.requests import Goodbye, SendCommand, ToggleBell
from circle_room.tui.app.screens.dialogs import ConfirmScreen, SignalScreen
from circle_room.tui.app.screens.help import HelpScreen
from circle_room.tui.app.widgets.now_sharing import stick_line
from circle_room.tui.client.view import View


def leave_question(view: View | None) -> tuple[str, str, str]:
    """The question, its detail, and the words of the button that leaves."""
    if view is not None and view.hosting:
        return (
            "End the meeting for everyone?",
            "You are hosting: when you leave, the circle closes for all members.",
            "End the meeting",
        )
    return (
        "Leave the circle?",
        "You can come back with the same command if you want.",
        "Leave",
    )


class MeetingScreen(Screen[None]):
    """A screen showing the meeting; the circle and the pause screen both are.

    The signal, help and leave keys must work the same on both: a member who
    needs a check-in during a pause is exactly who the signal is for.
    """

    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {RoomActions}
    PAUSE_SCREEN = False
    """Whether this is the pause screen, which offers only a few of the room's actions."""

    view: var[View | None] = var(None, always_update=True, init=False)

    def action_signal(self) -> None:
        def chosen(kind: SignalKind | None) -> None:
            if kind is not None:
                self.post_message(SendCommand(SendSignal(kind)))

        self.app.push_screen(SignalScreen(), chosen)

    def action_help(self) -> None:
        view = self.view
        agreements = view.state.settings.agreements if view else ()
        now: Text | None = stick_line(view) if view is not None else None
        facilitator = bool(view and view.is_facilitator)
        hint = view.join_hint if view is not None and facilitator else ""
        self.app.push_screen(HelpScreen(agreements, facilitator, now, hint))

    def action_leave(self) -> None:
        question, detail, leave = leave_question(self.view)

        def answered(yes: bool | None) -> None:
            if yes:
                self.post_message(Goodbye(quiet=False))

        self.app.push_screen(ConfirmScreen(question, detail, yes=leave, no="Stay"), answered)

    def action_toggle_bell(self) -> None:
        self.post_message(ToggleBell())

    # --- the command palette -------------------------------------------------------------

    def offers(self) -> list[Offer]:
        """Every action open to this person on this screen now (see ``actions.offers``)."""
        view = self.view
        if view is None or view.myself is None:
            return []
        bell_on = bool(getattr(self.app, "bell_on", True))
        return offers(view, bell_on=bell_on, pause_screen=self.PAUSE_SCREEN)

    def act(self, offer: Offer) -> None:
        """Do what ``offer`` names, as its key or menu entry would (asking first where they do)."""
        if offer.member_id is not None:
            self.member_action(offer.action, offer.member_id)
        elif offer.action == "quiet_exit":
            self.app.call_later(self.app.run_action, "quiet_exit")
        elif self.check_action(offer.action, ()):
            getattr(self, f"action_{offer.action}")()

    def member_action(self, action: str, member_id: int) -> None:
        """A member menu entry for ``member_id``; the circle screen has the list that needs it."""

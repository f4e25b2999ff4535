"""What every screen of a live meeting offers: the private signal, help, leaving."""

from __future__ import annotations

from textual.reactive import var
from textual.screen import Screen

from circle_room.protocol.messages import SendSignal
from circle_room.protocol.model import SignalKind
from circle_room.tui.app.requests import Goodbye, SendCommand
from circle_room.tui.app.screens.dialogs import ConfirmScreen, SignalScreen
from circle_room.tui.app.screens.help import HelpScreen
from circle_room.tui.client.view import View


def leave_question(view: View | None) -> tuple[str, str]:
    if view is not None and view.hosting:
        return (
            "End the meeting for everyone?",
            "You are hosting: when you leave, the circle closes for all members.",
        )
    return ("Leave the circle?", "You can come back with the same command if you want.")


class MeetingScreen(Screen[None]):
    """A screen showing the meeting; the circle and the pause screen both are.

    The signal, help and leave keys must work the same on both: a member who
    needs a check-in during a pause is exactly who the signal is for.
    """

    view: var[View | None] = var(None, always_update=True, init=False)

    def action_signal(self) -> None:
        def chosen(kind: SignalKind | None) -> None:
            if kind is not None:
                self.post_message(SendCommand(SendSignal(kind)))

        self.app.push_screen(SignalScreen(), chosen)

    def action_help(self) -> None:
        view = self.view
        agreements = view.state.settings.agreements if view else ()
        self.app.push_screen(HelpScreen(agreements, bool(view and view.is_facilitator)))

    def action_leave(self) -> None:
        question, detail = leave_question(self.view)

        def answered(yes: bool | None) -> None:
            if yes:
                self.post_message(Goodbye(quiet=False))

        self.app.push_screen(ConfirmScreen(question, detail), answered)

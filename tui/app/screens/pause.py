"""The pause: a calm, full-screen view with the facilitator's words."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Middle
from textual.message import Message

from circle_room.protocol.messages import ResumeCircle
from circle_room.tui.app import keys
from circle_room.tui.app.keys import shown
from circle_room.tui.app.requests import SendCommand
from circle_room.tui.app.screens.meeting import MeetingScreen
from circle_room.tui.app.widgets.key_bar import KeyBar
from circle_room.tui.app.widgets.members import ICON_HOLDER
from circle_room.tui.app.widgets.now_sharing import BANNER
from circle_room.tui.app.widgets.safe import TextPanel, fit, line
from circle_room.tui.app.widgets.status_line import StatusLine
from circle_room.tui.client.view import View, calm_duration


def describe(view: View) -> Text:
    pause = view.state.pause
    text = Text("The circle is paused\n\n", style="bold")
    if pause is None:
        return text
    text.append_text(line(pause.message, style="italic"))
    text.append("\n")
    text.append(f"— {fit(view.name(pause.by), 32)}\n\n")
    text.append(f"Paused for {calm_duration(view.pause_length())}.\n")
    text.append("Take your time. Nothing is lost while we pause.\n\n")
    if view.is_facilitator:
        text.append(shown(keys.PAUSE), style="bold")
        text.append(": resume the circle    ")
        text.append("Esc", style="bold")
        text.append(": see the circle (still paused)")
    else:
        text.append(shown(keys.SIGNAL), style="bold")
        text.append(": tell the facilitators how you are (only they see it)")
    return text


def held(view: View) -> Text:
    """Who holds the stick while the circle rests: it waits for them."""
    turn = view.state.turn
    if turn is None:
        return Text("Nobody holds the stick.", style="bold")
    if view.holding:
        return Text(f"{ICON_HOLDER} You hold the stick; it waits for you.", style=BANNER)
    text = Text(f"{ICON_HOLDER} ", style=BANNER)
    text.append(fit(view.name(turn.holder), 32))
    text.append(" holds the stick; it waits for them.")
    return text


class PauseScreen(MeetingScreen):
    DEFAULT_CSS = """
    PauseScreen { layout: vertical; }
    PauseScreen Middle { height: 1fr; }
    PauseScreen #held { width: 100%; height: auto; padding: 0 1; text-align: center; }
    PauseScreen #calm {
        width: 64;
        max-width: 100%;
        height: auto;
        border: round $secondary;
        padding: 1 3;
        text-align: center;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(keys.PAUSE, "resume", "Resume"),
        Binding(keys.PAUSE_TOO, "resume", show=False),
        Binding("escape", "peek", "See the circle"),
        Binding(keys.SIGNAL, "signal", "Signal"),
        Binding(keys.HELP, "help", "Help"),
        Binding("f1", "help", "Help", show=False),
        Binding(keys.LEAVE, "leave", "Leave"),
    ]
    PAUSE_SCREEN = True

    def __init__(self) -> None:
        super().__init__()
        self._ready = False
        self._facilitator: bool | None = None
        self.held = TextPanel(id="held")
        self.calm = TextPanel(id="calm")

    def compose(self) -> ComposeResult:
        yield self.held
        with Middle(), Center():
            yield self.calm
        yield StatusLine(id="status")
        yield KeyBar(id="keys")

    def on_mount(self) -> None:
        self._ready = True
        self.watch_view(self.view)

    def watch_view(self, view: View | None) -> None:
        if view is None or not self._ready:
            return
        self.held.show(held(view))
        self.calm.show(describe(view))
        status = self.query_one(StatusLine)
        status.room = view.room
        status.link = view.link
        if view.is_facilitator != self._facilitator:
            self._facilitator = view.is_facilitator
            self.refresh_bindings()

    def tick(self, view: View) -> None:
        """A second passed: only the pause length can have changed (in whole minutes)."""
        self.set_reactive(PauseScreen.view, view)
        if self._ready:
            # The panels are kept, not queried: a tick may come while the screen is closing.
            self.calm.show(describe(view))

    class Peek(Message):
        """A facilitator wants the circle view while the circle stays paused."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        facilitator = self.view is not None and self.view.is_facilitator
        if action in ("resume", "peek"):
            return facilitator
        if action == "signal":
            return not facilitator
        return True

    def action_peek(self) -> None:
        self.post_message(self.Peek())

    def action_resume(self) -> None:
        self.post_message(SendCommand(ResumeCircle()))

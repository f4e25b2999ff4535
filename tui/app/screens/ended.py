"""Before and after: connecting, and the end of the meeting (or of trying)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Middle
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from circle_room.tui.app.widgets.safe import line


class ConnectingScreen(Screen[None]):
    DEFAULT_CSS = """
    ConnectingScreen Middle { height: 1fr; }
    ConnectingScreen Static { width: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("q,escape", "app.quit", "Quit")]

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static(Text.assemble("Connecting to ", line(self._url), "…"))
        yield Footer(compact=True)


class EndedScreen(Screen[None]):
    """Shown when the meeting ended, you were removed, or the relay cannot be reached."""

    DEFAULT_CSS = """
    EndedScreen Middle { height: 1fr; }
    EndedScreen #why {
        width: 64;
        max-width: 100%;
        height: auto;
        border: round $secondary;
        padding: 1 3;
        text-align: center;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,enter,escape", "app.quit", "Close"),
        Binding("r", "retry", "Try again"),
    ]

    class Retry(Message):
        """Try to connect again."""

    def __init__(
        self, title: str, detail: str = "", can_retry: bool = False, closing: str = ""
    ) -> None:
        super().__init__()
        self._farewell = closing
        self._title = title
        self._detail = detail
        self._can_retry = can_retry

    def compose(self) -> ComposeResult:
        text = Text(self._title, style="bold")
        if self._detail:
            text.append("\n\n")
            text.append_text(line(self._detail))
        if self._farewell:
            text.append("\n\n" + self._farewell, style="italic")
        with Middle(), Center():
            yield Static(text, id="why")
        yield Footer(compact=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self._can_retry if action == "retry" else True

    def action_retry(self) -> None:
        self.post_message(self.Retry())

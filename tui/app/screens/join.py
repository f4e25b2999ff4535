"""Joining: the room's agreements, and the name and passcode if they were not given.

An SSH seat's name and passcode were asked by ssh itself (``locked``): then
the screen shows the agreements and who is joining, and asks for nothing.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Button, Input, Static

from circle_room.protocol.messages import Greeting
from circle_room.protocol.text import MAX_NAME_CHARS
from circle_room.tui.app.widgets.safe import fit, line


def agreements_text(greeting: Greeting) -> Text:
    text = Text()
    text.append("Joining ", style="bold")
    text.append(fit(greeting.room, 40), style="bold")
    text.append("\n\n")
    if greeting.agreements:
        text.append("Our agreements\n", style="bold underline")
        for agreement in greeting.agreements:
            text.append("  • ")
            text.append_text(line(agreement))
            text.append("\n")
    if greeting.waiting_room:
        text.append("\nA facilitator will let you in from the waiting room.\n", style="italic")
    return text


class JoinScreen(Screen[None]):
    DEFAULT_CSS = """
    JoinScreen { align: center middle; }
    JoinScreen > VerticalScroll {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $accent;
        padding: 0 2;
    }
    JoinScreen Input { margin-bottom: 0; }
    JoinScreen #error { color: $text-error; text-style: bold; }
    JoinScreen .label { margin-top: 1; }
    JoinScreen Button { margin-top: 1; }
    JoinScreen .hint { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    class Cancelled(Message):
        """The person chose not to join."""

    class Submitted(Message):
        """The person accepted the agreements with this name and passcode."""

        def __init__(self, name: str, passcode: str) -> None:
            super().__init__()
            self.name = name
            self.passcode = passcode

    error: reactive[str] = reactive("", always_update=True)
    """Shown under the fields; set again even when unchanged, since "Joining…"
    may have replaced it in between (the same wrong passcode twice)."""
    busy: reactive[bool] = reactive(False)

    def __init__(
        self,
        greeting: Greeting,
        name: str = "",
        passcode: str = "",
        *,
        locked: bool = False,
        notice: str = "",
    ) -> None:
        """``locked``: join as ``name``, already checked; ask for neither name nor passcode.
        ``notice``: a line to show under the agreements (an SSH seat's code)."""
        super().__init__()
        self._ready = False
        self.greeting = greeting
        self._given_name = name
        self._given_passcode = passcode
        self._locked = locked
        self._notice = notice

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(agreements_text(self.greeting))
            if self._locked:
                you = Text.assemble("You join as ", (fit(self._given_name, 32), "bold"), ".")
                yield Static(you, classes="label")
            else:
                yield Static(Text("Your name in the circle:"), classes="label")
                yield Input(
                    value=self._given_name, id="name", max_length=MAX_NAME_CHARS, compact=True
                )
                if self.greeting.needs_passcode:
                    yield Static(Text("Room passcode:"), classes="label")
                    yield Input(
                        value=self._given_passcode, id="passcode", password=True, compact=True
                    )
            if self._notice:
                yield Static(line(self._notice), classes="label")
            yield Static(id="error")
            yield Button(
                "I accept the agreements: join", id="join", variant="primary", compact=True
            )
            yield Static(Text("Enter: accept and join    Esc: cancel"), classes="hint")

    def on_mount(self) -> None:
        self._ready = True
        self.watch_error(self.error)
        self._focus_first_gap()

    def _focus_first_gap(self) -> None:
        for field in self.query(Input):
            if not field.value.strip():
                field.focus()
                return
        self.query_one("#join", Button).focus()

    def watch_error(self, error: str) -> None:
        if self._ready:
            self.query_one("#error", Static).update(line(error))

    def watch_busy(self, busy: bool) -> None:
        if self._ready:
            self.query_one("#join", Button).disabled = busy
            if busy:
                self.query_one("#error", Static).update(Text("Joining…"))
            else:
                self.query_one("#error", Static).update(line(self.error))

    def on_input_changed(self, event: Input.Changed) -> None:
        # What the person types answers the last complaint: do not leave it standing.
        if event.input.has_focus and self.error and not self.busy:
            self.error = ""

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self._submit()

    def _submit(self) -> None:
        if self.busy:
            return
        if self._locked:
            self.error = ""
            self.busy = True
            self.post_message(self.Submitted(self._given_name, ""))
            return
        name = self.query_one("#name", Input).value.strip()
        passcodes = self.query("#passcode")
        passcode = passcodes.first(Input).value if passcodes else ""
        if not name or (self.greeting.needs_passcode and not passcode):
            self.error = "Please fill in your name" + (
                " and the passcode." if self.greeting.needs_passcode else "."
            )
            self._focus_first_gap()
            return
        self.error = ""
        self.busy = True
        self.post_message(self.Submitted(name, passcode))

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())

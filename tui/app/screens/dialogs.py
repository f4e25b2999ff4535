"""Small modal questions: confirm, private signal, pause message."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from circle_room.protocol.model import SignalKind
from circle_room.protocol.text import MAX_MESSAGE_CHARS
from circle_room.tui.client.narrator import SIGNAL_WORDS

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 60;
    max-width: 100%;
    height: auto;
    border: round $accent;
    background: $surface;
    padding: 1 2;
}}
{name} .question {{ margin-bottom: 1; }}
{name} .hint {{ color: $text-muted; margin-top: 1; }}
"""


class ConfirmScreen(ModalScreen[bool]):
    """Ask before something that affects others; the answer starts on the safe choice.

    Enter presses the focused button, and "no" has the focus: Enter alone never
    ends a meeting or removes anyone. Saying yes is a deliberate move to the
    other button (Tab or an arrow) and Enter. No letter says yes, so a sentence
    still being typed when the dialog opens cannot answer it.
    """

    DEFAULT_CSS = (
        DIALOG_CSS.format(name="ConfirmScreen")
        + """
    ConfirmScreen Horizontal { height: auto; margin-top: 1; }
    ConfirmScreen Button { margin-right: 2; }
    """
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n,escape", "answer(False)", "No"),
        Binding("left,right", "app.focus_next", show=False),
    ]

    def __init__(
        self, question: Text | str, detail: str = "", *, yes: str = "Yes", no: str = "No"
    ) -> None:
        super().__init__()
        self._question = Text(question) if isinstance(question, str) else question
        self._detail = detail
        self._yes = yes
        self._no = no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._question, classes="question")
            if self._detail:
                yield Static(Text(self._detail))
            with Horizontal():
                yield Button(self._no, id="no", variant="primary", compact=True)
                yield Button(self._yes, id="yes", variant="error", compact=True)
            hint = f"Enter or Esc: {self._no.lower()}    Tab, then Enter: {self._yes.lower()}"
            yield Static(Text(hint), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class SignalScreen(ModalScreen[SignalKind | None]):
    """Pick a private signal for the facilitators: 1, 2, 3 or the arrows and Enter."""

    DEFAULT_CSS = DIALOG_CSS.format(name="SignalScreen")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "choose(0)", show=False),
        Binding("2", "choose(1)", show=False),
        Binding("3", "choose(2)", show=False),
        Binding("escape", "cancel", "Cancel"),
    ]
    KINDS = (SignalKind.CHECK_IN, SignalKind.STEPPING_OUT, SignalKind.OK)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Text("Tell the facilitators, and only them:", style="bold"), classes="question"
            )
            yield OptionList(
                *(
                    Option(Text(f"{i}  {SIGNAL_WORDS[kind]}"), id=str(i - 1))
                    for i, kind in enumerate(self.KINDS, start=1)
                )
            )
            yield Static(Text("Nobody else sees it. Esc: cancel"), classes="hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_choose(int(event.option.id or 0))

    def action_choose(self, index: int) -> None:
        self.dismiss(self.KINDS[index])

    def action_cancel(self) -> None:
        self.dismiss(None)


class PauseMessageScreen(ModalScreen[str | None]):
    """The facilitator's words for the pause screen; Enter pauses, Esc does not."""

    DEFAULT_CSS = DIALOG_CSS.format(name="PauseMessageScreen")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_MESSAGE = "Let's take a breath."

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Pause the circle", style="bold"), classes="question")
            yield Static(Text("Everyone sees this message while the circle is paused:"))
            yield Input(value=self.DEFAULT_MESSAGE, max_length=MAX_MESSAGE_CHARS)
            yield Static(Text("Enter: pause now    Esc: cancel"), classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or self.DEFAULT_MESSAGE)

    def action_cancel(self) -> None:
        self.dismiss(None)

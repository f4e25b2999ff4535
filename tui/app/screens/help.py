"""Every key, and the room's agreements."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from circle_room.tui.app.widgets.safe import line

MEMBER_KEYS: tuple[tuple[str, str], ...] = (
    ("h", "raise your hand, or lower it"),
    ("m", "a silent me too on the current share (again to take it back)"),
    ("y", "yield the stick when you are done; pass if you have not shared"),
    ("s", "send a private signal to the facilitators"),
    ("?", "this help"),
    ("q", "leave the meeting (asks first)"),
    ("ctrl+x", "quiet exit: leave at once, no announcement, screen cleared"),
    ("enter", "in the share box: post what you typed"),
    ("ctrl+j", "in the share box: start a new line (shift+enter too, where it works)"),
    ("esc", "leave the share box, so the keys above work"),
    ("tab", "move between the member list, the shares and the share box"),
)
FACILITATOR_KEYS: tuple[tuple[str, str], ...] = (
    ("p", "pause the circle with a message, or resume it"),
    ("g", "give the stick to the selected member"),
    ("t", "take the stick back"),
    ("r", "start or stop a round"),
    ("l", "lock or unlock the room"),
    ("x", "remove the selected member (asks first)"),
    ("a", "admit the selected person (or the first) from the waiting room"),
    ("c", "lower all hands"),
    ("s", "tell a member you saw their signal (the selected one's, or the oldest)"),
    ("i", "mark the private signals read (they stop showing as new)"),
    ("[ ]", "move the selected raised hand up or down the queue"),
    ("enter", "in the member list: every action for the selected member"),
    ("o", "room settings: time per share, waiting room, me-too names, agreements"),
)


def key_table(title: str, keys: tuple[tuple[str, str], ...]) -> Text:
    text = Text(title + "\n", style="bold underline")
    for key, words in keys:
        text.append(f"  {key:<8}", style="bold")
        text.append(words + "\n")
    return text


def help_text(agreements: tuple[str, ...], facilitator: bool) -> Text:
    text = key_table("Keys (when the share box is not focused)", MEMBER_KEYS)
    if facilitator:
        text.append("\n")
        text.append_text(key_table("Facilitator keys", FACILITATOR_KEYS))
    text.append("\n")
    text.append("Our agreements\n", style="bold underline")
    for agreement in agreements or ("(This room has no written agreements.)",):
        text.append("  • ")
        text.append_text(line(agreement))
        text.append("\n")
    return text


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 78;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,question_mark,q", "close", "Close")]

    def __init__(self, agreements: tuple[str, ...], facilitator: bool) -> None:
        super().__init__()
        self._text = help_text(agreements, facilitator)

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "Help · Esc closes"
            yield Static(self._text)

    def action_close(self) -> None:
        self.dismiss(None)

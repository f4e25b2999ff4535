"""Help: who holds the stick, every key, what every symbol means, and the agreements."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from circle_room.tui.app import keys
from circle_room.tui.app.keys import shown
from circle_room.tui.app.widgets.members import LEGEND
from circle_room.tui.app.widgets.safe import line

MEMBER_KEYS: tuple[tuple[str, str], ...] = (
    ("typing", "always goes into your draft box, and does nothing else"),
    ("Enter", "share your draft, once you hold the stick (until then it waits)"),
    ("^J", "a new line in your draft (shift+enter too, where it works)"),
    (shown(keys.HAND), "raise your hand to ask for the stick, or lower it"),
    (shown(keys.METOO), "a silent me too on the current share (again to take it back)"),
    (shown(keys.YIELD), "yield the stick when you are done; pass if you have not shared"),
    (shown(keys.SIGNAL), "a private signal to the facilitators: check-in, stepping out, OK"),
    (shown(keys.SETTINGS), "settings: the bell (and for facilitators, the room's)"),
    (shown(keys.PALETTE), "every action you can take now, by name"),
    (shown(keys.HELP), "this help (F1 too)"),
    (shown(keys.LEAVE), "leave the meeting (asks first; Enter says stay)"),
    (shown(keys.QUIET_EXIT), "quiet exit: leave at once, no announcement, screen cleared"),
    ("Tab", "move to the list of people and the shares, and back"),
)
FACILITATOR_KEYS: tuple[tuple[str, str], ...] = (
    (shown(keys.PAUSE), "pause the circle with a message, or resume (F2 too: tmux keeps ^B)"),
    ("Tab", "into the list of people: arrows pick someone"),
    ("Enter", "on a person: give the stick, lower or move the hand, promote, remove, admit"),
    ("[ ]", "on a person with a raised hand: move the hand up or down the line"),
    ("Esc", "out of the list, back to your draft"),
    (shown(keys.SIGNAL), "tell a member you saw their signal (the selected one's, or the oldest)"),
    (shown(keys.READ), "mark the private signals read (they stop showing as new)"),
    (shown(keys.UNDO), "while a notice offers it: take back lowering hands"),
    (shown(keys.PALETTE), "round, lock, take the stick, lower all, admit, mark signals read"),
)
STATUS_LEGEND: tuple[tuple[str, str], ...] = (
    ("♥", "me too: said to the current share (the speaker sees how many)"),
    ("●", "connected"),
    ("◌", "reconnecting (on the bottom line): your place, hand and stick are kept"),
    ("✕", "offline"),
    ("^", "the Ctrl key: ^R means hold Ctrl and press R"),
)


def key_table(title: str, rows: tuple[tuple[str, str], ...]) -> RenderableType:
    """A titled table of keys (or symbols); long words wrap under the words, not the key."""
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(no_wrap=True, min_width=8, style="bold")
    grid.add_column(ratio=1)
    for key, words in rows:
        grid.add_row(Text(f" {key}"), Text(words))
    return Group(Text(title, style="bold underline"), grid)


def help_text(
    agreements: tuple[str, ...], facilitator: bool, now: Text | None = None, join_hint: str = ""
) -> RenderableType:
    """The whole help; ``now`` says who holds the stick, first, as every screen does.

    ``join_hint``: how members join, for the host (a short window shows it cut).
    """
    parts: list[RenderableType] = []
    if now is not None:
        parts += [now, Text()]
    if join_hint:
        parts.append(Text("How members join", style="bold underline"))
        parts += [Text(f"  {part.strip()}") for part in join_hint.splitlines()]
        parts.append(Text())
    parts.append(key_table("Keys: they work while you type", MEMBER_KEYS))
    if facilitator:
        parts += [Text(), key_table("Facilitator keys", FACILITATOR_KEYS)]
    parts += [Text(), key_table("What the symbols mean", (*LEGEND, *STATUS_LEGEND)), Text()]
    parts.append(Text("Our agreements", style="bold underline"))
    for agreement in agreements or ("(This room has no written agreements.)",):
        parts.append(Text.assemble("  • ", line(agreement)))
    return Group(*parts)


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 84;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,ctrl+g,f1,q", "close", "Close"),
    ]

    def __init__(
        self,
        agreements: tuple[str, ...],
        facilitator: bool,
        now: Text | None = None,
        join_hint: str = "",
    ) -> None:
        super().__init__()
        self._text = help_text(agreements, facilitator, now, join_hint)

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "Help · Esc closes · arrows scroll"
            yield Static(self._text)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)

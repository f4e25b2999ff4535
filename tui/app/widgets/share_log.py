"""The shares heard since joining, with quiet notes of what happened in between."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import var
from textual.widgets import RichLog

from circle_room.tui.app.widgets.safe import block, line
from circle_room.tui.client.narrator import Hint, Kind
from circle_room.tui.client.view import LogLine, View

HINTS: dict[Hint, str] = {
    Hint.AGREEMENTS: "Press ? to read them.",
}
"""What to press, after a note that asks for it. The screen offers the rest itself."""


def render_line(entry: LogLine) -> Text:
    said = entry.line
    if said.kind is Kind.SHARE:
        text = Text()
        text.append_text(line(said.who, style="bold"))
        text.append(": ")
        text.append_text(block(said.text))
        return text
    hint = HINTS.get(said.hint) if said.hint is not None else None
    words = f"{said.text} {hint}" if hint else said.text
    # Notes are set apart by a leading mark and italics, not by colour alone.
    return Text.assemble("· ", line(words, style="italic"))


class ShareLog(RichLog):
    DEFAULT_CSS = """
    ShareLog {
        height: 1fr;
        border: round $panel-lighten-2;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    ShareLog:focus { border: round $accent; }
    """

    view: var[View | None] = var(None, always_update=True, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, wrap=True, markup=False, highlight=False, min_width=20)
        self.border_title = "Shares since you joined"
        self._written = 0

    def watch_view(self, view: View | None) -> None:
        if view is None:
            return
        for entry in view.log:
            if entry.n > self._written:
                self.write(render_line(entry))
                self._written = entry.n

"""The shares heard since joining, with quiet notes of what happened in between."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import var
from textual.widgets import RichLog

from circle_room.tui.app.widgets.safe import block, line
from circle_room.tui.client.view import LineKind, LogLine, View


def render_line(entry: LogLine) -> Text:
    if entry.kind is LineKind.SHARE:
        text = Text()
        text.append_text(line(entry.speaker, style="bold"))
        text.append(": ")
        text.append_text(block(entry.text))
        return text
    # Notes are set apart by a leading mark and italics, not by colour alone.
    return Text.assemble("· ", line(entry.text, style="italic"))


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

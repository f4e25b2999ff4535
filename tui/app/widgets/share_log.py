"""The shares heard since joining, with quiet notes of what happened in between.

A share is the speaker's name, then the words; wrapped lines line up under
the words, not under the name. A note of what happened ("Dana joined") is
set apart by a leading mark and italics, and is quieter than a share ($text-muted,
which the high-contrast theme keeps at full brightness). Lines are wrapped to
the width the log has now: a resize wraps every entry again, and a log that
was showing its newest line keeps showing it when it grows or shrinks.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.events import Resize
from textual.reactive import var
from textual.widgets import RichLog

from circle_room.tui.app import keys
from circle_room.tui.app.keys import shown
from circle_room.tui.app.widgets.safe import block, fit, line
from circle_room.tui.client.narrator import Hint, Kind
from circle_room.tui.client.view import LogLine, View

HINTS: dict[Hint, str] = {
    Hint.AGREEMENTS: f"{shown(keys.HELP)} shows them.",
}
"""What to press, after a note that asks for it. The screen offers the rest itself."""

NAME_CELLS = 16
"""A speaker's name is cut to this many cells, so the words keep most of the width."""


def _hanging(lead: Text, body: Text) -> Table:
    """``lead`` then ``body``, with ``body``'s wrapped lines starting under its first word."""
    grid = Table.grid(expand=True)
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    grid.add_row(lead, body)
    return grid


def render_line(entry: LogLine, note_style: Style | str = "italic") -> RenderableType:
    said = entry.line
    if said.kind is Kind.SHARE:
        name = Text(fit(said.who, NAME_CELLS), style="bold")
        name.append(": ")
        return _hanging(name, block(said.text))
    hint = HINTS.get(said.hint) if said.hint is not None else None
    words = f"{said.text} {hint}" if hint else said.text
    # Notes are set apart by a leading mark and italics, not by colour alone.
    return _hanging(Text("· ", style=note_style), line(words, style=note_style))


class ShareLog(RichLog):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"share-log--note"}
    DEFAULT_CSS = """
    ShareLog {
        height: 1fr;
        border: round $panel-lighten-2;
        padding: 0 1;
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
        border-title-color: $text-muted;
    }
    ShareLog:focus { border: double $accent; border-title-color: $accent; }
    ShareLog > .share-log--note { color: $text-muted; text-style: italic; }
    """

    view: var[View | None] = var(None, always_update=True, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, wrap=True, markup=False, highlight=False, min_width=1)
        self.border_title = "Shares since you joined"
        self._written = 0
        self._entries: list[LogLine] = []
        self._width = 0
        self._following = True
        """The newest line was in view: keep it there when the log changes size."""

    def watch_view(self, view: View | None) -> None:
        if view is None:
            return
        for entry in view.log:
            if entry.n > self._written:
                self._entries.append(entry)
                self._write(entry)
                self._written = entry.n
        if len(self._entries) > len(view.log):
            del self._entries[: len(self._entries) - len(view.log)]

    def _write(self, entry: LogLine) -> None:
        width = self.scrollable_content_region.width
        style = self.get_component_rich_style("share-log--note", partial=True)
        if width > 0:
            self.write(render_line(entry, style), width=width, scroll_end=self._following)
        else:
            self.write(render_line(entry, style), scroll_end=self._following)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._following = new >= self.max_scroll_y - 1

    def on_resize(self, event: Resize) -> None:
        # RichLog renders each line once, at the width it had then; wrap them all again.
        following = self._following
        width = self.scrollable_content_region.width
        if width and width != self._width and self._entries and self._size_known:
            self._width = width
            self.clear()
            for entry in self._entries:
                self._write(entry)
        else:
            self._width = width or self._width
        if following:
            self._following = True
            self.scroll_end(animate=False, immediate=False)

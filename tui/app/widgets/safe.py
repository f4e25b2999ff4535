"""User text on screen: always cleaned again, always a ``Text``, never markup.

Names, shares and messages were cleaned by the relay already; cleaning again
here means a compromised or buggy relay still cannot drive anyone's terminal,
and building ``rich.text.Text`` objects (not strings) means a name like
``[bold]`` is shown as typed instead of being read as markup.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.style import StyleType
from rich.text import Text
from textual.widgets import Static

from circle_room.protocol.text import clean_block, clean_line


def line(text: str, style: StyleType = "") -> Text:
    """One safe line of user text."""
    return Text(clean_line(text), style=style)


def block(text: str, style: StyleType = "") -> Text:
    """Safe user text that may span lines."""
    return Text(clean_block(text), style=style)


def fit(text: str, width: int) -> str:
    """``text`` cleaned and cut to ``width`` cells with an ellipsis if needed."""
    text = clean_line(text)
    cut = Text(text)
    if cut.cell_len <= width:
        return text
    cut.truncate(max(1, width), overflow="ellipsis")
    return cut.plain


class TextPanel(Static):
    """A ``Static`` that repaints only when its text really changes.

    Views arrive with every event and the clock ticks every second; over SSH
    every repaint costs bytes, so a panel whose text is unchanged stays untouched.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown: Text | None = None
        """The text on screen now (``None`` before the first ``show``)."""

    def show(self, text: Text) -> None:
        if self.shown is None or text != self.shown:
            # Lines of the same widths wrap the same way: no layout pass needed,
            # and a layout pass would repaint every scroll bar on the screen.
            layout = self.shown is None or _shape(text) != _shape(self.shown)
            self.shown = text
            self.update(text, layout=layout)


def _shape(text: Text) -> tuple[int, ...]:
    return tuple(cell_len(part) for part in text.plain.split("\n"))

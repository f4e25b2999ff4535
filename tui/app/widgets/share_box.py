"""Where the holder types a share. Enabled only while you hold the stick.

Enter posts; ctrl+j inserts a line break. ctrl+j is the portable key: every
terminal sends it as a plain line feed, over SSH too, while Enter sends a
carriage return. shift+enter and alt+enter also break the line where the
terminal tells them apart from Enter.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TextArea

from circle_room.protocol.text import MAX_SHARE_CHARS

OPEN_HINT = "Your share: Enter posts, ctrl+j new line"
CLOSED_HINT = "Opens when you hold the stick"


NEWLINE_KEYS = frozenset({"ctrl+j", "shift+enter", "alt+enter"})


class ShareBox(TextArea):
    # Both keys are handled in ``_on_key``, in order with the typing around them: a
    # binding runs only after the key has bubbled up to the app, by which time the
    # next letters may already be in the box. These bindings name the keys in the footer.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "post", "Post"),
        Binding("ctrl+j", "newline", "New line"),
    ]
    DEFAULT_CSS = """
    ShareBox {
        height: auto;
        min-height: 3;
        max-height: 8;
        border: round $panel-lighten-2;
        padding: 0 1;
    }
    ShareBox:focus { border: double $accent; }
    ShareBox:disabled { opacity: 0.8; }
    """

    class Posted(Message):
        """The holder pressed Enter on some text."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            placeholder=CLOSED_HINT,
            soft_wrap=True,
            disabled=True,
            highlight_cursor_line=False,
        )
        # A blinking cursor repaints the box twice a second: bytes on every SSH link.
        self.cursor_blink = False

    def open(self, is_open: bool) -> None:
        """Enable or disable the box (what you typed is kept either way)."""
        self.disabled = not is_open
        self.placeholder = OPEN_HINT if is_open else CLOSED_HINT

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.action_post()
        elif event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.action_newline()
        else:
            await super()._on_key(event)

    def action_newline(self) -> None:
        self.insert("\n")

    def action_post(self) -> None:
        text = self.text.strip()
        if not text:
            return
        if len(text) > MAX_SHARE_CHARS:
            self.notify(
                f"A share can be up to {MAX_SHARE_CHARS} characters; "
                f"this one has {len(text)}. Post part of it first?",
                severity="warning",
            )
            return
        self.post_message(self.Posted(text))
        self.clear()

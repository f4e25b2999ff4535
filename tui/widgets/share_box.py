"""Where the holder types a share. Enabled only while you hold the stick."""

from __future__ import annotations

from textual.message import Message
from textual.widgets import Input

from protocol.text import MAX_SHARE_CHARS

OPEN_HINT = "Type your share; Enter posts it"
CLOSED_HINT = "Opens when you hold the stick"


class ShareBox(Input):
    DEFAULT_CSS = """
    ShareBox { border: round $panel-lighten-2; }
    ShareBox:focus { border: double $accent; }
    ShareBox:disabled { opacity: 0.8; }
    """

    class Posted(Message):
        """The holder pressed Enter on some text."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder=CLOSED_HINT, id=id, max_length=MAX_SHARE_CHARS, disabled=True)

    def open(self, is_open: bool) -> None:
        """Enable or disable the box (what you typed is kept either way)."""
        self.disabled = not is_open
        self.placeholder = OPEN_HINT if is_open else CLOSED_HINT

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = self.value.strip()
        if text:
            self.post_message(self.Posted(text))
            self.value = ""

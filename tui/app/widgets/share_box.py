"""The draft box: anyone may write in it at any time; Enter shares only with the stick.

Typing never acts on the room. A member waiting for the stick can prepare
what they want to say; Enter then keeps the draft and says how to ask for
the stick (``Refused`` is the box's answer, not the relay's). Once they hold
it, Enter posts. ctrl+j inserts a line break: every terminal sends it as a
plain line feed, over SSH too, while Enter sends a carriage return;
shift+enter and alt+enter also break the line where the terminal tells them
apart from Enter. The bottom border counts characters against the limit.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TextArea

from circle_room.protocol.text import MAX_SHARE_CHARS, clean_block

OPEN_HINT = "Write your share; ctrl+j starts a new line"
CLOSED_HINT = "You may write while you wait"
OPEN_TITLE = "Your share · Enter shares it · ^J new line"
CLOSED_TITLE = "Your draft · shared once you hold the stick"

NEWLINE_KEYS = frozenset({"ctrl+j", "shift+enter", "alt+enter"})


def length(text: str) -> int:
    """How many characters of ``text`` count against the limit (as the relay counts)."""
    return len(clean_block(text))


def counter(text: str) -> str:
    """The border's count: empty for an empty box, a warning past the limit."""
    used = length(text)
    if not used:
        return ""
    if used > MAX_SHARE_CHARS:
        return f"{used}/{MAX_SHARE_CHARS}: too long by {used - MAX_SHARE_CHARS}"
    return f"{used}/{MAX_SHARE_CHARS}"


class ShareBox(TextArea):
    # Both keys are handled in ``_on_key``, in order with the typing around them: a
    # binding runs only after the key has bubbled up to the app, by which time the
    # next letters may already be in the box. These bindings name the keys in the footer.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "post", "Share", key_display="Enter"),
        Binding("ctrl+j", "newline", "New line", show=False),
    ]
    DEFAULT_CSS = """
    ShareBox {
        height: auto;
        min-height: 3;
        max-height: 8;
        border: round $panel-lighten-2;
        border-title-align: left;
        border-subtitle-align: right;
        padding: 0 1;
        border-title-color: $text-muted;
    }
    ShareBox:focus { border: round $accent; border-title-color: $accent; }
    ShareBox > .text-area--placeholder { color: $text-muted; text-style: italic; }
    ShareBox.-open { border: double $accent; }
    ShareBox.-over { border-subtitle-style: bold reverse; }
    ShareBox.-held { border-title-style: bold reverse; }
    """

    class Posted(Message):
        """The holder pressed Enter on some text."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Held(Message):
        """Enter without the stick: nothing was sent, and the draft stays in the box."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            placeholder=CLOSED_HINT,
            soft_wrap=True,
            highlight_cursor_line=False,
        )
        self.is_open = False
        """Whether Enter shares: this member holds the stick and may share now."""
        # A blinking cursor repaints the box twice a second: bytes on every SSH link.
        self.cursor_blink = False
        self.border_title = CLOSED_TITLE

    def open(self, is_open: bool) -> None:
        """Say whether Enter shares now (what is written stays either way)."""
        if is_open == self.is_open:
            return
        self.is_open = is_open
        self.set_class(is_open, "-open")
        self.placeholder = OPEN_HINT if is_open else CLOSED_HINT
        self._title(OPEN_TITLE if is_open else CLOSED_TITLE)
        self.refresh_bindings()

    def hold(self, words: str) -> None:
        """Say on the border why Enter did not share (until the draft or the stick changes)."""
        self._title(words, held=True)

    def _title(self, words: str, held: bool = False) -> None:
        self.set_class(held, "-held")
        if words != self.border_title:
            self.border_title = words

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "post":
            return self.is_open  # Named in the footer only while it shares.
        return True

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

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        text = self.text
        if self.has_class("-held"):
            self._title(OPEN_TITLE if self.is_open else CLOSED_TITLE)
        self.set_class(length(text) > MAX_SHARE_CHARS, "-over")
        subtitle = counter(text)
        if subtitle != self.border_subtitle:
            self.border_subtitle = subtitle

    def action_newline(self) -> None:
        self.insert("\n")

    def action_post(self) -> None:
        text = self.text.strip()
        if not text:
            return
        if not self.is_open:
            self.post_message(self.Held())
            return
        if length(text) > MAX_SHARE_CHARS:
            self.notify(
                f"A share can be up to {MAX_SHARE_CHARS} characters; "
                f"this one has {length(text)}. Share part of it first?",
                severity="warning",
            )
            return
        self.post_message(self.Posted(text))
        self.clear()

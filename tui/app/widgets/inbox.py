"""The facilitators' inbox of private signals: noticeable, never loud."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import var

from circle_room.tui.app.widgets.safe import TextPanel, fit
from circle_room.tui.client.view import View, ago

SHOWN = 3


def describe(view: View) -> Text:
    if not view.inbox:
        return Text("No signals yet.", style="italic")
    lines: list[Text] = []
    for signal in reversed(view.inbox[-SHOWN:]):
        age = view.local_now - signal.received
        text = Text()
        text.append(fit(signal.name, 9), style="bold")
        text.append(f": {signal.tag} · ")
        if signal.seen_by:
            text.append("seen", style="dim")
        elif view.is_new(signal):
            text.append("new", style="bold reverse")
        else:
            text.append(ago(age), style="italic")
        lines.append(text)
    return Text("\n").join(lines)


class Inbox(TextPanel):
    DEFAULT_CSS = """
    Inbox {
        height: auto;
        max-height: 6;
        border: round $panel-lighten-2;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        border-title-color: $text-muted;
    }
    Inbox.-unread { border: double $accent; border-title-color: $accent; }
    """

    view: var[View | None] = var(None, always_update=True, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Private signals"

    def watch_view(self, view: View | None) -> None:
        if view is None:
            return
        unread = view.unread()
        self.set_class(unread > 0, "-unread")
        title = f"Private signals ({unread} new)" if unread else "Private signals"
        if title != self.border_title:
            self.border_title = title
        self.show(describe(view))

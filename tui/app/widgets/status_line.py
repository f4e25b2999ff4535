"""The connection, in one line: connected, reconnecting (attempt n) or offline."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import var

from circle_room.tui.app.widgets.safe import TextPanel, fit
from circle_room.tui.client.updates import Status
from circle_room.tui.client.view import Link


def describe(link: Link, room: str) -> Text:
    if link.status is Status.CONNECTED:
        return Text.assemble(("● ", "bold"), f"Connected to {fit(room, 40)}.")
    if link.status is Status.RECONNECTING:
        return Text.assemble(
            ("◌ ", "bold"),
            (f"Reconnecting (attempt {link.attempt})", "bold"),
            "… your place, hand and stick are kept for a while.",
        )
    if link.status is Status.CONNECTING:
        return Text.assemble(("◌ ", "bold"), "Connecting…")
    why = f": {fit(link.detail, 50)}" if link.detail else "."
    return Text.assemble(("✕ ", "bold"), ("Offline", "bold"), why)


class StatusLine(TextPanel):
    DEFAULT_CSS = """
    StatusLine { height: 1; padding: 0 1; background: $panel; }
    StatusLine.-reconnecting { background: $warning 40%; }
    StatusLine.-offline { background: $error 40%; }
    """

    link: var[Link] = var(Link(), always_update=True, init=False)
    room: var[str] = var("")

    def watch_link(self, link: Link) -> None:
        self.set_class(link.status is Status.RECONNECTING, "-reconnecting")
        self.set_class(link.status is Status.CLOSED, "-offline")
        self.show(describe(link, self.room))

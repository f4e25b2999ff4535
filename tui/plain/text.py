"""Plain line mode, the pure part: events become lines, typed lines become actions.

The two halves live in ``tui.plain.describe`` (the narrator's sentences as
lines) and ``tui.plain.parse`` (line -> action); this module gathers them for
``tui.plain.session``.
"""

from __future__ import annotations

from circle_room.tui.client.narrator import join_names, minutes_text, name_of, ordinal, people
from circle_room.tui.plain.describe import (
    SIGNALS,
    agreement_lines,
    describe,
    nudge_line,
    queue_line,
    spoken,
    status_lines,
    welcome_lines,
    who_line,
)
from circle_room.tui.plain.parse import (
    FACILITATOR_HELP,
    MEMBER_HELP,
    Action,
    Quit,
    Say,
    Send,
    parse,
    say,
)

__all__ = [
    "FACILITATOR_HELP",
    "MEMBER_HELP",
    "SIGNALS",
    "Action",
    "Quit",
    "Say",
    "Send",
    "agreement_lines",
    "describe",
    "join_names",
    "minutes_text",
    "name_of",
    "nudge_line",
    "ordinal",
    "parse",
    "people",
    "queue_line",
    "say",
    "spoken",
    "status_lines",
    "welcome_lines",
    "who_line",
]

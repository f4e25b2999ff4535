"""Plain line mode, the pure part: events become sentences, typed lines become actions.

The two halves live in ``tui.plain_describe`` (event -> sentence) and
``tui.plain_parse`` (line -> action); this module gathers them for ``tui.plain``.
"""

from __future__ import annotations

from circle_room.tui.plain.describe import (
    SIGNAL_WORDS,
    SIGNALS,
    agreement_lines,
    describe,
    join_names,
    minutes_text,
    name_of,
    nudge_line,
    ordinal,
    people,
    queue_line,
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
    "SIGNAL_WORDS",
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
    "status_lines",
    "welcome_lines",
    "who_line",
]

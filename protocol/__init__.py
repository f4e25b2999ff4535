"""Circle's wire protocol and room model: pure data and pure functions, no I/O.

Nothing here imports textual, websockets or asyncio, so the relay, the
terminal client, bots and benchmarks all share one definition of a room.
"""

from __future__ import annotations

PROTOCOL_VERSIONS: tuple[int, ...] = (1, 3)
"""Versions of the wire protocol this code speaks, oldest first.

Version 3 is version 1 plus compact frames for a listener (``HandOver``,
``Said``), a ``MeTooCount`` that reaches only those who show it, and a large
room's presence events held for a moment and sent as one ``Batch``; version 2
was retired before any release (docs/protocol.md, "Version history").
"""

COMPACT = 3
"""The first version whose connections take a listener's compact forms: a hand-over
as one ``HandOver``, a share as ``Said``, ``MeTooCount`` only where it is shown (a
``Hidden`` or ``HiddenRun`` elsewhere), and a large room's held presence events as
one ``Batch`` (``server.holding``)."""

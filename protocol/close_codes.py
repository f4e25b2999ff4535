"""Websocket close codes the relay uses, and which of them are final.

They are part of the wire protocol (docs/protocol.md has the table), so the
relay that sends them and the clients that read them share one definition.
"""

from __future__ import annotations

import enum


class CloseCode(enum.IntEnum):
    LEFT = 1000
    """The member left, or the host ended the meeting."""
    GOING_AWAY = 1001
    """The relay is shutting down; resume when it is back."""
    POLICY = 1008
    """Too many bad or excess frames."""
    TOO_BIG = 1009
    """A frame over the size limit (sent by the websocket library)."""
    BAD_HELLO = 4000
    VERSION = 4001
    REFUSED = 4003
    """The join was refused; an ``Error`` frame said why."""
    NO_ROOM = 4004
    TIMEOUT = 4008
    """No hello within the handshake timeout."""
    REPLACED = 4010
    """A newer connection of the same member took over."""
    REMOVED = 4011
    """Removed from the meeting, or denied from the waiting room."""
    BEHIND = 4012
    """Too much was waiting to be sent to this connection (a reader that cannot
    keep up): the seat is kept for the grace period; resume to catch up."""


FINAL = frozenset(
    {
        CloseCode.LEFT,
        CloseCode.POLICY,
        CloseCode.BAD_HELLO,
        CloseCode.VERSION,
        CloseCode.REFUSED,
        CloseCode.NO_ROOM,
        CloseCode.REPLACED,
        CloseCode.REMOVED,
    }
)
"""After these, reconnecting cannot help: a client should stop."""

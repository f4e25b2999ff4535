"""asyncio's one warning about a peer that has gone, kept out of the relay's log.

A member whose TLS connection ends (a closed laptop, a dropped link, a bot
that aborts) may have frames still unread in the relay. While the relay
works through them, asyncio's TLS layer has seen the end of the connection
but does not yet report its transport as closing, so nothing public says the
connection is gone; each reply written meanwhile is dropped, and after the
first five asyncio logs "SSL connection is closed" for each. After a flood
that is one line per frame, each saying only that a member left, which the
relay's own log already says once. This filter drops exactly that message.
"""

from __future__ import annotations

import logging

MESSAGE = "SSL connection is closed"


class _PeerGone(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != MESSAGE


_FILTER = _PeerGone()


def quiet_peer_gone() -> None:
    """Drop asyncio's "SSL connection is closed" warnings (idempotent)."""
    logging.getLogger("asyncio").addFilter(_FILTER)

"""Every error Circle's protocol raises, under one root.

::

    CircleError
    ├── LocalProtocolError   you misused this library (a bug on our side)
    ├── RemoteProtocolError  the peer sent something we cannot accept
    │   ├── OutOfOrder       server.room_core: a log event that does not follow the last
    │   └── DecodeError      bytes that are not a valid Circle message
    └── Refused              a well-formed command the room does not allow

``Refused`` carries a stable ``code`` for programs and a ``message`` for people;
the relay sends both back to the member in an ``Error`` frame.
"""

from __future__ import annotations


class CircleError(Exception):
    """Root of every exception raised by Circle's protocol code."""


class LocalProtocolError(CircleError):
    """This side tried to do something the protocol forbids (a bug here)."""


class RemoteProtocolError(CircleError):
    """The peer sent something that breaks the protocol."""


class DecodeError(RemoteProtocolError):
    """The bytes received are not a valid Circle message."""


class Refused(CircleError):
    """A command that is well formed but not allowed now.

    ``code`` is stable and documented in docs/protocol.md; ``message`` is a
    sentence meant for the person who sent the command; ``retry_after`` is set
    (in seconds) when waiting will make the same command succeed.
    """

    def __init__(self, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retry_after = retry_after

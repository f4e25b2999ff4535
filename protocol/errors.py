"""Every error Circle raises, under one root.

::

    CircleError
    ├── LocalProtocolError   you misused this library (a bug on our side)
    ├── RemoteProtocolError  the peer sent something we cannot accept
    │   ├── OutOfOrder       an event that does not follow the last: a gap or a repeat
    │   └── DecodeError      bytes that are not a valid Circle message
    ├── Refused              a well-formed command the room does not allow
    │   ├── TooManyAttempts  server.guard: no guess from this address, or at this room, now
    │   └── JoinRefused      the relay would not let this client in
    ├── ClientClosed         this client's connection has ended for good
    ├── UntrustedRelay       tui.client.trust: not the certificate expected; nothing sent
    │   ├── WrongFingerprint     not the one in the join line
    │   └── FingerprintChanged   not the one remembered for this relay
    ├── TunnelError          tui.cli.tunnel: the --via tunnel could not be opened
    ├── TLSSetupError        server.tls: the relay's certificate cannot be made or loaded
    ├── StoreError           server.store: a room operation that cannot be done
    └── DataDirError         server.data_dir: the data folder is full, read-only or unusable

``Refused`` carries a stable ``code`` for programs and a ``message`` for people;
the relay sends both back to the member in an ``Error`` frame. The classes
below the protocol's own live beside the code that raises them (``protocol``
imports nothing of ours), but they hang from this one root, so ``except
CircleError`` catches everything Circle raises on purpose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from circle_room.protocol.close_codes import CloseCode
from circle_room.protocol.refusals import RefusalCode

if TYPE_CHECKING:
    from circle_room.protocol.messages import Greeting


class CircleError(Exception):
    """Root of every exception Circle raises on purpose."""


class LocalProtocolError(CircleError):
    """This side tried to do something the protocol forbids (a bug here)."""


class RemoteProtocolError(CircleError):
    """The peer sent something that breaks the protocol."""


class DecodeError(RemoteProtocolError):
    """The bytes received are not a valid Circle message."""


class OutOfOrder(RemoteProtocolError):
    """An event is not the one after the last applied: a gap or a repeat.

    A relay node following a room's log raises it (``server.room_core``), and
    so does a client that asked for every seq (``Hello.gapless``) and finds
    one missing (``tui.client.model``).
    """

    def __init__(self, expected: int, got: int) -> None:
        super().__init__(f"expected the event at seq {expected}, got seq {got}")
        self.expected = expected
        self.got = got


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


class JoinRefused(Refused):
    """The relay would not let this client join the room.

    ``code`` and ``message`` are those of the relay's ``Error``; ``refusal``
    is the same code as a ``RefusalCode``, for programs to match on (None
    for a code this version does not know). A room that does not exist is
    refused with close code 4004 instead of an ``Error``: then ``close`` is
    ``CloseCode.NO_ROOM`` and ``code`` is empty. ``greeting`` is the room's
    greeting, when it came before the refusal.
    """

    def __init__(
        self,
        code: str,
        message: str,
        greeting: Greeting | None = None,
        *,
        close: CloseCode | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(code, message, retry_after)
        self.refusal = RefusalCode.of(code)
        self.close = close
        self.greeting = greeting


class ClientClosed(CircleError):
    """The client's connection to the room has ended for good: nothing more goes out."""

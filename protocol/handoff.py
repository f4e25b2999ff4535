"""The hand-off of an SSH member from the gateway to the client it starts for them.

The gateway (server side) runs a client for each SSH member: plain mode
inside the relay's process, or the full-screen client as a child on a PTY.
It hands that client the seat's ``Credentials`` (to resume it), the seat code
to show, and for plain mode a ``PlainChannel``. Both sides share these
definitions, so they live here, below both, rather than in either one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from circle_room.protocol.model import RoomState

FRESH_EPOCH = "-"
"""An epoch no relay uses: resume the seat but send the room as it is now."""


@dataclass(frozen=True)
class Credentials:
    """What a new client needs to take back a seat."""

    name: str
    token: str
    epoch: str = FRESH_EPOCH
    seq: int = 0
    state: RoomState | None = None
    """The room as the last client saw it at ``seq``; None to ask for a fresh one."""

    def line(self) -> str:
        """One line for a pipe: what a child process reports (never the state)."""
        return f"{self.token} {self.epoch} {self.name}\n"

    @classmethod
    def from_line(cls, line: str) -> Credentials | None:
        parts = line.rstrip("\n").split(" ", 2)
        if len(parts) != 3 or not all(parts):
            return None
        return cls(name=parts[2], token=parts[0])


def seat_code_line(name: str, code: str) -> str:
    return (
        f"If you are disconnected, reconnect and give the name {name} "
        f"and the seat code {code} to get your place back."
    )


class PlainChannel(Protocol):
    """What a plain-mode runner needs from an SSH session."""

    url: str
    name: str
    ticket: str
    """A one-time join ticket: the gateway has checked the real passcode already."""
    resume: Credentials | None
    """Credentials kept from this seat's last session."""
    seat_code: str
    """Show it to the member: it takes the seat back after a drop."""
    notice: str
    """Something to tell the member first (e.g. why this is not full screen), or ""."""

    async def readline(self) -> str | None: ...

    def write(self, line: str) -> None: ...

    def keep(self, credentials: Credentials) -> None:
        """Remember how to resume this seat if the session drops."""

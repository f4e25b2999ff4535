"""A seat that outlives one SSH session: resume credentials kept outside the client.

A member who joins over SSH loses their client when the session drops (the
gateway kills it). To give them their place back when they reconnect, the
gateway keeps the seat's resume credentials and starts the next client with
them. ``ResumableClient`` is a ``CircleClient`` that resumes on its very first
connection and tells its owner the credentials each time it is welcomed.

Given the state and seq the last client had, it resumes exactly (the relay
replays what was missed); given only the token, it asks for a fresh state
(its seat, hand and stick are kept, and it is told it may have missed part).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from protocol.messages import Resume, Welcome
from protocol.model import RoomState
from tui.connection import CircleClient

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

    def __str__(self) -> str:
        return self.line()

    @classmethod
    def from_line(cls, line: str) -> Credentials | None:
        parts = line.rstrip("\n").split(" ", 2)
        if len(parts) != 3 or not all(parts):
            return None
        return cls(name=parts[2], token=parts[0])


class ResumableClient(CircleClient):
    """A ``CircleClient`` that starts by resuming ``resume``, if given."""

    def __init__(
        self,
        url: str,
        *,
        resume: Credentials | None = None,
        on_welcome: Callable[[Credentials], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(url, **kwargs)
        self._first = resume
        self._on_welcome = on_welcome
        self.credentials: Credentials | None = None

    async def _open(self, resume: Resume | None) -> Welcome:
        first, self._first = self._first, None
        if resume is None and first is not None:
            if first.state is not None and first.epoch != FRESH_EPOCH:
                self.state = first.state
                self.seq = first.seq
                resume = Resume(first.token, first.epoch, first.seq)
            else:
                resume = Resume(first.token, FRESH_EPOCH, 0)
        welcome = await super()._open(resume)
        self.credentials = Credentials(self.seat_name(), welcome.token, welcome.epoch)
        if self._on_welcome is not None:
            self._on_welcome(self.credentials)
        return welcome

    def snapshot(self) -> Credentials | None:
        """Credentials with the state and seq as of now, for an exact resume."""
        if self.credentials is None:
            return None
        token = self.credentials.token
        return Credentials(self.seat_name(), token, self.epoch, self.seq, self.state)

    def seat_name(self) -> str:
        """The name the room knows us by (cleaned by the relay), else the one we gave."""
        member = self.state.members.get(self.member_id)
        return member.name if member is not None else self.name

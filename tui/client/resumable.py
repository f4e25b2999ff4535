"""A client that resumes a seat kept outside it: how an SSH seat outlives its session.

A member who joins over SSH loses their client when the session drops (the
gateway kills it). To give them their place back when they reconnect, the
gateway keeps the seat's resume ``Credentials`` and starts the next client
with them. ``ResumableClient`` is a ``CircleClient`` that resumes on its very
first connection and tells its owner the credentials each time it is welcomed.

Given the state and seq the last client had, it resumes exactly (the relay
replays what was missed); given only the token, it asks for a fresh state
(its seat, hand and stick are kept, and it is told it may have missed part).

``keeping_seat`` does the same for ``circle join`` across runs of the
program: its seat is kept on disk (``tui.client.saved_seat``), and a client
started again takes it back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from circle_room.protocol.handoff import FRESH_EPOCH, Credentials
from circle_room.protocol.messages import Resume, Welcome
from circle_room.tui.client.connection import CircleClient
from circle_room.tui.client.saved_seat import HeldSeat, SavedSeat

__all__ = ["FRESH_EPOCH", "Credentials", "ResumableClient", "keeping_seat"]


class ResumableClient(CircleClient):
    """A ``CircleClient`` that starts by resuming ``kept``, if given."""

    def __init__(
        self,
        url: str,
        *,
        kept: Credentials | None = None,
        on_seated: Callable[[Credentials], None] | None = None,
        **kwargs: Any,
    ) -> None:
        resume, state = None, None
        if kept is not None:
            if kept.state is not None and kept.epoch != FRESH_EPOCH:
                resume, state = Resume(kept.token, kept.epoch, kept.seq), kept.state
            else:
                resume = Resume(kept.token, FRESH_EPOCH, 0)
        super().__init__(
            url, resume=resume, resume_state=state, on_welcome=self._welcomed, **kwargs
        )
        self._on_seated = on_seated

    def _welcomed(self, welcome: Welcome) -> None:
        if self._on_seated is not None:
            self._on_seated(Credentials(self.seat_name(), welcome.token, welcome.epoch))

    def snapshot(self) -> Credentials | None:
        """Credentials with the state and seq as of now, for an exact resume."""
        resume = self.credentials
        if resume is None:
            return None
        return Credentials(self.seat_name(), resume.token, resume.epoch, resume.seq, self.state)

    def seat_name(self) -> str:
        """The name the room knows us by (cleaned by the relay), else the one we gave."""
        member = self.state.members.get(self.member_id)
        return member.name if member is not None else self.name


def keeping_seat(
    held: HeldSeat,
    url: str,
    *,
    clock: Callable[[], float] = time.time,
    **kwargs: Any,
) -> CircleClient:
    """A client for ``url`` that takes back the seat ``held`` kept, if any, and keeps
    its own seat there each time it is welcomed (reconnections included).

    Taking the seat back asks for the room as it is now. If the seat is gone
    (its grace ran out), the relay treats the hello as a new join with the
    name, passcode and agreement given here. Forgetting the seat when the
    meeting is over for this member is the caller's part (``held.forget``).
    """
    saved = held.saved
    if saved is not None and not kwargs.get("name"):
        kwargs["name"] = saved.name

    def welcomed(welcome: Welcome) -> None:
        member = client.state.members.get(welcome.member_id)
        seat = SavedSeat(
            url=client.url,
            room=client.meeting.room,
            name=member.name if member is not None else client.name,
            member_id=welcome.member_id,
            token=welcome.token,
            epoch=welcome.epoch,
            seq=welcome.seq,
            saved_at=clock(),
        )
        held.save(seat)

    resume = saved.resume() if saved is not None else None
    client = CircleClient(url, resume=resume, on_welcome=welcomed, clock=clock, **kwargs)
    return client

"""A change the room core has decided but not yet taken, and the log entries it adds.

``RoomCore.plan`` works out everything a command leads to (the events, their
seqs and bytes, who gets them, the circle to save) on a ``Draft``, and leaves
the core as it was. The shell saves first; only then does ``RoomCore.commit``
take the change. If the save fails, the change is dropped: the command is
refused and the room, its seq and its log are exactly as before. So a change
is either stored and told to everyone, or it never happened; never applied,
numbered and sent while the disk has no record of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from circle_room.protocol.model import RoomState
from circle_room.server.audience import Audience
from circle_room.server.effects import Effect, Save
from circle_room.server.places import Places


@dataclass(frozen=True)
class LogEntry:
    """One event as it was delivered, kept for replay on resume."""

    seq: int
    audience: Audience
    data: bytes
    """The encoded event frame: the exact bytes every recipient got."""
    readers: frozenset[int] | None = None
    """For private events, exactly who could read it when it happened, so a
    member promoted while away is not replayed signals from before."""
    token_hash: str = ""
    """For ``MemberJoined``: the hash of the new member's resume token, which a
    node following the log needs to seat them when they resume there."""


@dataclass(frozen=True)
class Change:
    """What one command (or join) does to the room, worked out but not yet taken."""

    base: int
    """The core's seq when this was planned: only a core still there may take it."""
    save: Save | None
    """Store this before committing; None when a restarted relay need not know."""
    effects: tuple[Effect, ...]
    """What to perform once committed, in order; ``save`` is not among them."""
    state: RoomState
    seq: int
    entries: tuple[LogEntry, ...]
    """What the room's log gains."""
    places: Places | None
    """The places afterwards (this change's own copy), or None if they are unchanged."""
    frames: tuple[bytes, ...] = ()
    """Its events as a journal keeps them (``journal.for_disk``)."""


class Draft:
    """The room as a change goes along; the core's own state, log and places stay put."""

    def __init__(self, state: RoomState, seq: int, places: Places) -> None:
        self.base = seq
        self.state = state
        self.seq = seq
        self.entries: list[LogEntry] = []
        self.frames: list[bytes] = []
        """Each event as a journal keeps it (``journal.for_disk``)."""
        self.tokens: list[tuple[int, str]] = []
        """Member id and resume-token hash of each member seated by this change."""
        self._places = places
        self._copied = False

    @property
    def places(self) -> Places:
        """The places as they stand in this draft; read only (see ``changing_places``)."""
        return self._places

    def changing_places(self) -> Places:
        """The places, copied the first time this draft changes them."""
        if not self._copied:
            self._places = self._places.copy()
            self._copied = True
        return self._places

    def finish(self, save: Save | None, effects: list[Effect]) -> Change:
        places = self._places if self._copied else None
        return Change(
            self.base,
            save,
            tuple(effects),
            self.state,
            self.seq,
            tuple(self.entries),
            places,
            tuple(self.frames),
        )

"""Saving one room's circle, and what the room says when the disk will not take it.

The live room saves before it commits a change (``server.change``); a save
that fails is a refusal with ``not_saved`` and a sentence for the member
that says what went wrong.

Most saves append the change's journal record (``server.journal``), a few
hundred bytes; the whole circle is written when there is nothing on disk the
record could follow from (the first save, the first after a failed one) and
when the journal has grown as long as the circle is large (compaction), so a
save costs O(1) per event, amortised, and a restart replays at most about as
many records as there are members. The relay's log gets one line when saving stops
working and one when it works again, however many saves fail in between.
"""

from __future__ import annotations

import logging
import sqlite3

from circle_room.protocol.errors import Refused
from circle_room.protocol.refusals import RefusalCode
from circle_room.server.data_dir import DataDirError, Problem, data_dir_error
from circle_room.server.effects import Save
from circle_room.server.store import Store

log = logging.getLogger("circle_room.server.live_room")

NOT_SAVED = {
    Problem.FULL: "The host's disk is full; nothing changed.",
    Problem.READ_ONLY: "The host cannot save to its disk; nothing changed.",
    Problem.UNUSABLE: "The host could not save this; nothing changed.",
}
"""What a member is told when their change could not be saved, by what went wrong."""

COMPACT_AFTER = 64
"""Records appended before the circle is written whole again, in rooms smaller than this."""


def not_saved(problem: Problem) -> Refused:
    return Refused(RefusalCode.NOT_SAVED, NOT_SAVED[problem])


class Saver:
    """Saves for the room ``room`` in ``store``."""

    def __init__(self, store: Store, room: str, compact_after: int = COMPACT_AFTER) -> None:
        self._store = store
        self._room = room
        self._compact_after = compact_after
        self._working = True
        """False since a save failed, until one works again."""
        self._records: int | None = None
        """Records appended since the whole circle was last written; None: the
        disk holds nothing the next record may follow from (write it whole)."""

    def save(self, save: Save) -> Problem | None:
        """Store ``save``; None if that worked, else what is wrong with the disk.

        Call with every ``Save`` of the room's core, in order: a record holds
        only what changed since the previous one.
        """
        record = None
        records = self._records
        circle = save.circle
        if (
            save.record is not None
            and circle is not None
            and records is not None
            and records < max(self._compact_after, len(circle.state.members))
        ):
            record = save.record.pack()
        self._records = None  # Until this save is known to have worked.
        try:
            self._store.save_meeting(self._room, save.circle, save.settings, record)
        except (DataDirError, sqlite3.Error, OSError) as exc:
            failed = exc
            if not isinstance(failed, DataDirError):
                failed = data_dir_error(self._store.path.parent, exc)
            if self._working:
                log.error(
                    "room %s: cannot save to %s (%s: %s); changes are refused until it can",
                    self._room,
                    failed.path,
                    failed.problem.value,
                    failed.detail,
                )
            self._working = False
            return failed.problem
        if not self._working:
            log.warning("room %s: saving works again", self._room)
        self._working = True
        if save.circle is not None:
            self._records = 0 if record is None else (records or 0) + 1
        return None

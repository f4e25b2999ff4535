"""One live circle served over websockets: the shell around ``RoomCore``.

``server.room_core`` decides what happens and returns effects; this module
performs them and does nothing else: it holds each member's connection,
writes to SQLite, runs the grace timers and feeds frames through each
member's ``Intake``. Nothing here awaits: each call runs between two awaits
of the event loop, so no two changes interleave and no connection sees
events out of order.

A command or a join is saved before it is committed (``server.change``): if
the disk fails, it is refused with ``not_saved`` and nothing changed. A fact
about a connection is taken whatever the disk does, and told to everyone;
the next save that works holds it too.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sqlite3
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from websockets.asyncio.connection import Connection
from websockets.asyncio.server import broadcast

from circle_room.protocol.close_codes import CloseCode
from circle_room.protocol.codec import encode
from circle_room.protocol.errors import Refused
from circle_room.protocol.messages import Error, Frame, Hello, Welcome
from circle_room.protocol.model import Presence, Role, RoomState
from circle_room.protocol.refusals import RefusalCode
from circle_room.server.change import Change
from circle_room.server.config import RelayConfig
from circle_room.server.data_dir import DataDirError, Problem, data_dir_error
from circle_room.server.decide import Disconnect, Expire, Reconnect
from circle_room.server.effects import (
    Attach,
    CancelGrace,
    Close,
    Deliver,
    Effect,
    Save,
    StartGrace,
    Vacate,
)
from circle_room.server.intake import Intake, Rejected
from circle_room.server.room_core import LogEntry, RoomCore
from circle_room.server.snapshot import CircleSnapshot
from circle_room.server.store import RoomRecord, Store, hash_secret, new_secret

log = logging.getLogger(__name__)

NOT_SAVED = {
    Problem.FULL: "The host's disk is full; nothing changed.",
    Problem.READ_ONLY: "The host cannot save to its disk; nothing changed.",
    Problem.UNUSABLE: "The host could not save this; nothing changed.",
}
"""What a member is told when their change could not be saved, by what went wrong."""


@dataclass(frozen=True)
class _Arrival:
    """A connection waiting for its ``Attach``, with what only it knows."""

    ws: Connection
    token: str
    version: int
    gapless: bool
    """It asked for a ``Hidden`` in place of each event it may not see."""


class LiveRoom:
    """A ``RoomCore`` and the connections, timers and store it is performed on.

    ``join`` or ``resume`` seats a connection and returns the member id to
    pass to ``handle`` for each frame and to ``disconnected`` at the end.
    """

    def __init__(
        self,
        record: RoomRecord,
        store: Store,
        config: RelayConfig,
        clock: Callable[[], float],
        snapshot: CircleSnapshot | None = None,
    ) -> None:
        self.name = record.name
        self.record = record
        self._store = store
        self._config = config
        self._clock = clock
        # A new epoch per process: the log (and share text) dies with it.
        self.core = RoomCore(record.name, record.settings, config, secrets.token_hex(8))
        self.closing = False
        """Set when the relay shuts down: dropped connections are then not news."""
        self._links: dict[int, Connection] = {}
        """The connection of each seated member who has one."""
        self._gapless: set[int] = set()
        """Members whose connection asked for ``Hidden`` frames."""
        self._arriving: dict[str, _Arrival] = {}
        self._intakes: dict[int, Intake] = {}
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._saving = True
        """False since a save failed, until one works again: the disk's trouble is logged once."""
        if snapshot is not None:
            self._perform(self.core.restore(snapshot, clock()))

    # --- what the core holds ------------------------------------------------------------

    @property
    def state(self) -> RoomState:
        return self.core.state

    @property
    def seq(self) -> int:
        return self.core.seq

    @property
    def epoch(self) -> str:
        return self.core.epoch

    @property
    def log(self) -> deque[LogEntry]:
        return self.core.log

    def connections(self) -> list[Connection]:
        """Every open member connection of this room."""
        return list(self._links.values())

    # --- seating a connection -----------------------------------------------------------

    def join(self, ws: Connection, hello: Hello, role: Role) -> int:
        """Seat a new member and welcome them; raise ``Refused`` if they cannot join."""
        token = new_secret()
        token_hash = hash_secret(token)
        change = self.core.plan_join(hello.name, role, hello.agreed, token_hash, self._clock())
        effects = self._commit(change)
        return self._seat(_Arrival(ws, token, hello.version, hello.gapless), token_hash, effects)

    def resume(self, ws: Connection, hello: Hello) -> int | None:
        """Give a returning member their seat back, or None if it is gone."""
        assert hello.resume is not None
        resume = hello.resume
        token_hash = hash_secret(resume.token)
        effects = self.core.resume(token_hash, resume.epoch, resume.seq, hello.gapless)
        if effects is None:
            return None
        arrival = _Arrival(ws, resume.token, hello.version, hello.gapless)
        member_id = self._seat(arrival, token_hash, effects)
        if self.state.members[member_id].presence is Presence.AWAY:
            self._perform(self.core.observe(member_id, Reconnect(), self._clock()))
        return member_id

    def _seat(self, arrival: _Arrival, token_hash: str, effects: list[Effect]) -> int:
        """Perform ``effects``, whose ``Attach`` seats ``arrival``; return its member id."""
        self._arriving[token_hash] = arrival
        try:
            self._perform(effects)
        finally:
            self._arriving.pop(token_hash, None)
        return next(e.member_id for e in effects if isinstance(e, Attach))

    # --- frames and facts from the connections --------------------------------------------

    def handle(self, member_id: int, ws: Connection, data: bytes | str) -> None:
        """One frame from a member: a command, or something that earns an error."""
        now = self._clock()
        intake = self._intakes.get(member_id)
        if intake is None:
            # The seat is gone and this connection is being closed.
            intake = Intake(self._config)
        taken = intake.take(data, now)
        if isinstance(taken, Rejected):
            self.send(ws, taken.error)
            if taken.hang_up:
                self._close(ws, CloseCode.POLICY, "too many bad or excess frames")
            return
        try:
            effects = self._commit(self.core.plan(member_id, taken.command, now))
        except Refused as refused:
            self.send(ws, Error(taken.ref, refused.code, refused.message, refused.retry_after))
            return
        intake.accepted()
        self._perform(effects)

    def disconnected(self, member_id: int, ws: Connection) -> None:
        """The connection ``ws`` of ``member_id`` closed, for whatever reason."""
        if self._links.get(member_id) is not ws:
            return  # Replaced by a newer connection, or the seat is gone.
        del self._links[member_id]
        if not self.closing:
            self._perform(self.core.observe(member_id, Disconnect(), self._clock()))

    def _expire(self, member_id: int) -> None:
        self._timers.pop(member_id, None)
        if member_id not in self._links:
            self._perform(self.core.observe(member_id, Expire(), self._clock()))

    # --- performing the core's effects ------------------------------------------------------

    def _perform(self, effects: Iterable[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, Deliver):
                readers = effect.readers
                if effect.gapless_only:
                    readers = readers & self._gapless
                broadcast([ws for m, ws in self._links.items() if m in readers], effect.data)
            elif isinstance(effect, Save):
                # A fact, which happened whether or not the disk can hold it:
                # everyone is told, and the next save that works holds it too.
                self._save(effect)
            elif isinstance(effect, Attach):
                self._attach(effect)
            elif isinstance(effect, Close):
                ws = self._links.pop(effect.member_id, None)
                if ws is not None:
                    self._close(ws, effect.code, effect.reason)
            elif isinstance(effect, StartGrace):
                self._cancel_grace(effect.member_id)
                loop = asyncio.get_running_loop()
                timer = loop.call_later(effect.seconds, self._expire, effect.member_id)
                self._timers[effect.member_id] = timer
            elif isinstance(effect, CancelGrace):
                self._cancel_grace(effect.member_id)
            elif isinstance(effect, Vacate):
                self._gapless.discard(effect.member_id)
                self._cancel_grace(effect.member_id)
                self._intakes.pop(effect.member_id, None)

    def _commit(self, change: Change) -> list[Effect]:
        """Save ``change`` if it must be, then commit it; raise ``Refused`` if it cannot be."""
        if change.save is not None:
            problem = self._save(change.save)
            if problem is not None:
                # Dropped: the room, its seq and its log are as they were.
                raise Refused(RefusalCode.NOT_SAVED, NOT_SAVED[problem])
        return self.core.commit(change)

    def _save(self, save: Save) -> Problem | None:
        """Store ``save``; None if that worked, else what is wrong with the disk."""
        try:
            self._store.save_meeting(self.name, save.circle, save.settings)
        except (DataDirError, sqlite3.Error, OSError) as exc:
            failed = exc if isinstance(exc, DataDirError) else data_dir_error(self._folder, exc)
            if self._saving:
                log.error(
                    "room %s: cannot save to %s (%s: %s); changes are refused until it can",
                    self.name,
                    failed.path,
                    failed.problem.value,
                    failed.detail,
                )
            self._saving = False
            return failed.problem
        if not self._saving:
            log.warning("room %s: saving works again", self.name)
        self._saving = True
        return None

    @property
    def _folder(self) -> Path:
        return Path(self._store.path).parent

    def _attach(self, attach: Attach) -> None:
        arrival = self._arriving.pop(attach.token_hash, None)
        if arrival is None:
            return  # Seated on another node, or the connection went away.
        welcome = Welcome(
            version=arrival.version,
            member_id=attach.member_id,
            token=arrival.token,
            epoch=attach.epoch,
            seq=attach.seq,
            resumed=attach.resumed,
            state=attach.state,
            gapless=arrival.gapless,
        )
        ws = arrival.ws
        self.send(ws, welcome)
        for data in attach.replay:
            broadcast([ws], data)
        self._links[attach.member_id] = ws
        if arrival.gapless:
            self._gapless.add(attach.member_id)
        else:
            self._gapless.discard(attach.member_id)
        self._intakes.setdefault(attach.member_id, Intake(self._config))

    def _cancel_grace(self, member_id: int) -> None:
        timer = self._timers.pop(member_id, None)
        if timer is not None:
            timer.cancel()

    # --- sending --------------------------------------------------------------------------

    @staticmethod
    def send(ws: Connection, frame: Frame) -> None:
        """Queue one frame now, without awaiting, so ordering with broadcasts holds."""
        broadcast([ws], encode(frame))

    def _close(self, ws: Connection, code: int, reason: str) -> None:
        # Closing awaits; as a task it runs after the frames queued before it.
        task = asyncio.get_running_loop().create_task(ws.close(code, reason))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

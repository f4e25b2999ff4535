"""The node that decides for a room while it holds the room's lease.

It takes the room's commands from its command stream in order, runs them
through its own ``RoomCore`` (the decider), and appends the events to the
room's stream with ``RoomLog.append``. It delivers nothing itself: every node,
this one included, delivers what it reads back from the stream (one delivery
path), so nobody ever sees an event that is not in the log. It keeps the
grace timers and saves the circle to the store, as ``LiveRoom`` does.

When an append comes back ``FENCED`` (another node took the lease),
``DIVERGED`` or ``LOST`` the owner stops at once and says so through
``on_stop``; whatever it decided and could not append was never seen.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Iterable

from redis.exceptions import RedisError

from circle_room.protocol.codec import decode, encode
from circle_room.protocol.errors import CircleError, Refused
from circle_room.protocol.messages import CommandFrame, Error
from circle_room.protocol.model import Presence
from circle_room.server.decide import Disconnect, Expire, Reconnect
from circle_room.server.effects import CancelGrace, Effect, Save, StartGrace, Vacate
from circle_room.server.node_commands import (
    Forwarded,
    JoinAsked,
    NodeCommand,
    Refusal,
    Seen,
    pack_notice,
    unpack_command,
)
from circle_room.server.redis_log import (
    BLOCK_MS,
    LEASE_MS,
    SNAP_EVERY,
    Entry,
    Outcome,
    RoomLog,
    pack_snap,
)
from circle_room.server.room_core import RoomCore
from circle_room.server.snapshot import CircleSnapshot
from circle_room.server.store import Store

log = logging.getLogger(__name__)


class RoomOwner:
    """The decider of one room on this node; ``start`` it, ``stop`` it, or it stops itself."""

    def __init__(
        self,
        rlog: RoomLog,
        lease: str,
        decider: RoomCore,
        cursor: str,
        store: Store,
        grace: float,
        clock: Callable[[], float],
        on_stop: Callable[[Outcome], None],
    ) -> None:
        self.rlog = rlog
        self.lease = lease
        self.core = decider
        self._cursor = cursor or "0-0"
        """The last command whose events are decided (not necessarily appended yet)."""
        self._store = store
        self._grace = grace
        self._clock = clock
        self._on_stop = on_stop
        self._appended = decider.seq
        self._queued = decider.seq
        self._pending: list[Entry] = []
        self._snap_at = decider.seq
        self._ended = False
        self._mark_epoch = False
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._writer: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.stopped = False

    # --- life -------------------------------------------------------------------------

    def start(self, gone: Iterable[int], new_epoch: bool) -> None:
        """Take up the room: re-arm grace timers, mark ``gone`` members away, then listen.

        An away member's timer runs to their place's ``grace_ends`` where the
        core has one (the old owner's, as the replicas noted it), so a change
        of owner does not stretch anyone's grace.

        ``gone`` are present members whose node is dead. With ``new_epoch`` the
        first event appended tells every follower the history starts anew.
        """
        self._mark_epoch = new_epoch
        now = self._clock()
        for place in self.core.places:
            member = self.core.state.members.get(place.member_id)
            if member is not None and member.presence is Presence.AWAY:
                # What is left of the grace the old owner gave; a whole one only
                # if nobody noted when it ends (a snapshot from before that was kept).
                ends = place.grace_ends if place.grace_ends is not None else now + self._grace
                self.core.places.away(place.member_id, ends)
                self._perform([StartGrace(place.member_id, max(0.0, ends - now))])
        for member_id in gone:
            self._perform(self.core.observe(member_id, Disconnect(), now))
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._commands()), loop.create_task(self._renew())]
        self._kick()

    def stop(self, outcome: Outcome = Outcome.FENCED) -> None:
        """Stop deciding now; nothing decided and not yet appended will be."""
        if self.stopped:
            return
        self.stopped = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in self._tasks:
            task.cancel()
        if self._writer is not None and self._writer is not asyncio.current_task():
            self._writer.cancel()
        self._on_stop(outcome)

    async def finished(self) -> None:
        """Wait until the owner's loops have ended (after ``stop``)."""
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # Both loops test ``stopped`` as well as being cancelled: redis-py can swallow a
    # cancel that lands in a blocking read (5 of 300 cancelled XREADs went on
    # reading), and a loop that went on after it would keep a stopped node alive.

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(LEASE_MS / 3000)
            if self.stopped:
                return
            try:
                held = await self.rlog.renew(self.lease)
            except RedisError as exc:
                log.warning("room %s: cannot renew the lease: %s", self.rlog.room, exc)
                continue  # It lasts three renewals: try again.
            if not held:
                self.stop(Outcome.FENCED)
                return

    # --- commands in ------------------------------------------------------------------

    async def _commands(self) -> None:
        while not self.stopped:
            try:
                found = await self.rlog.commands(self._cursor, BLOCK_MS)
            except RedisError as exc:
                if not self.stopped:
                    log.warning("room %s: cannot read commands: %s", self.rlog.room, exc)
                    await asyncio.sleep(0.2)
                continue
            if self.stopped:
                return  # Whatever came in is the next owner's to decide.
            for stream_id, packed in found:
                self._cursor = stream_id
                try:
                    node, command = unpack_command(packed)
                except CircleError as exc:
                    log.warning("room %s: dropped a bad command: %s", self.rlog.room, exc)
                    continue
                self._take(node, command)
            self._kick()

    def _take(self, node: str, command: NodeCommand) -> None:
        core, now = self.core, self._clock()
        if isinstance(command, Seen):
            if command.back:
                self._cancel(command.member_id)
                core.places.away(command.member_id, None)
                self._perform(core.observe(command.member_id, Reconnect(), now))
            else:
                self._perform(core.observe(command.member_id, Disconnect(), now))
            return
        try:
            if isinstance(command, JoinAsked):
                c = command
                try:
                    self._perform(core.join(c.name, c.role, c.agreed, c.token_hash, now))
                except Refused as refused:
                    error = Error(0, refused.code, refused.message, refused.retry_after)
                    self._refuse(node, c.token_hash, encode(error))
            else:
                frame = decode(command.data)
                if not isinstance(frame, CommandFrame) or command.member_id not in core.places:
                    return  # The edge checked it; a seat gone since has nothing to refuse.
                self._try(node, command, frame)
        except CircleError as exc:
            log.warning("room %s: dropped a bad command: %s", self.rlog.room, exc)

    def _try(self, node: str, command: Forwarded, frame: CommandFrame) -> None:
        try:
            self._perform(self.core.execute(command.member_id, frame.command, self._clock()))
        except Refused as refused:
            error = Error(frame.ref, refused.code, refused.message, refused.retry_after)
            self._refuse(node, str(command.member_id), encode(error))

    def _refuse(self, node: str, key: str, error: bytes) -> None:
        # Losing a refusal in a crash is acceptable: the client just gets no Error.
        data = pack_notice(Refusal(self.rlog.room, key, error))
        task = asyncio.get_running_loop().create_task(self.rlog.refuse(node, data))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    # --- effects: the owner's share -----------------------------------------------------

    def _perform(self, effects: Iterable[Effect]) -> None:
        """Queue the events just decided; keep the timers and the store. Deliver nothing."""
        for effect in effects:
            if isinstance(effect, Save):
                self._save(effect)
            elif isinstance(effect, StartGrace):
                self._cancel(effect.member_id)
                loop = asyncio.get_running_loop()
                self._timers[effect.member_id] = loop.call_later(
                    effect.seconds, self._expire, effect.member_id
                )
            elif isinstance(effect, (CancelGrace, Vacate)):
                self._cancel(effect.member_id)
        fresh = [e for e in self.core.log if e.seq > self._queued]
        for entry in fresh:
            epoch = self.core.epoch if self._mark_epoch else ""
            self._mark_epoch = False
            self._pending.append(Entry(entry.seq, entry.data, entry.token_hash, epoch))
        if fresh:
            self._queued = fresh[-1].seq

    def _save(self, save: Save) -> None:
        if save.circle is None:
            self._ended = True
        try:
            self._store.save_meeting(self.rlog.room, save.circle, save.settings)
        except (sqlite3.Error, OSError) as exc:
            log.error("room %s: could not save the circle: %s", self.rlog.room, exc)

    def _expire(self, member_id: int) -> None:
        self._timers.pop(member_id, None)
        self._perform(self.core.observe(member_id, Expire(), self._clock()))
        self._kick()

    def _cancel(self, member_id: int) -> None:
        timer = self._timers.pop(member_id, None)
        if timer is not None:
            timer.cancel()

    # --- events out -----------------------------------------------------------------------

    def _kick(self) -> None:
        if self._pending and not self.stopped and (self._writer is None or self._writer.done()):
            self._writer = asyncio.get_running_loop().create_task(self._write())

    def snapshot(self) -> bytes:
        """The room as decided now, packed for ``room:{r}:snap``."""
        core = self.core
        since = {p.member_id: p.since for p in core.places}
        ends = {p.member_id: p.grace_ends for p in core.places if p.grace_ends is not None}
        circle = CircleSnapshot(core.state, core.places.token_hashes())
        return pack_snap(core.seq, core.epoch, circle, since, ends)

    async def _write(self) -> None:
        while self._pending and not self.stopped:
            batch, self._pending = self._pending, []
            cursor, ended = self._cursor, self._ended
            self._ended = False
            last = batch[-1].seq
            # A snapshot when the meeting ends (the log is then emptied) or every
            # SNAP_EVERY events; it is the state at ``last`` only if nothing is queued after.
            snap = b""
            if (ended or last - self._snap_at >= SNAP_EVERY) and self._queued == last:
                snap, self._snap_at = self.snapshot(), last
            elif ended:
                self._ended = True  # Emptied with the next batch, whose snapshot is exact.
            try:
                outcome = await self.rlog.append(
                    self.lease, self.core.epoch, self._appended, batch, cursor, snap
                )
                if outcome is Outcome.OK and ended and snap:
                    outcome = await self.rlog.end(self.lease)
            except RedisError as exc:
                log.error("room %s: append failed: %s", self.rlog.room, exc)
                outcome = Outcome.LOST
            if outcome is not Outcome.OK:
                log.warning("room %s: append %s; no longer deciding", self.rlog.room, outcome.name)
                self.stop(outcome)
                return
            self._appended = last

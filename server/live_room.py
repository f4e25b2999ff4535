"""One live circle served over websockets: the shell around ``RoomCore``.

``server.room_core`` decides what happens and returns effects; this module
performs them and does nothing else: it holds each member's connection (as a
``server.feed.Feed``), writes to SQLite, runs the grace timers and feeds
frames through each member's ``Intake``. Nothing here awaits: each call runs
between two awaits of the event loop, so no two changes interleave and no
connection sees events out of order.

A command or a join is saved before it is committed (``server.change``): if
the disk fails, it is refused with ``not_saved`` and nothing changed. A fact
about a connection is taken whatever the disk does, and told to everyone;
the next save that works holds it too.

A connection that falls behind (``server.feed``) is closed with 4012 and its
member is away from that moment, as if the link had dropped. The relay's log
gets one line for each thing that happens to a seat (joins, resumes, leaves,
closes with their code), naming members by id: never a name, never a share.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from websockets.asyncio.connection import Connection
from websockets.asyncio.server import broadcast

from circle_room.protocol import COMPACT
from circle_room.protocol.close_codes import CloseCode
from circle_room.protocol.codec import encode
from circle_room.protocol.errors import Refused
from circle_room.protocol.messages import Error, Frame, Hello, Welcome
from circle_room.protocol.model import Presence, Role, RoomState
from circle_room.server.change import Change
from circle_room.server.config import RelayConfig
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
from circle_room.server.feed import Feed, close_within, deliver
from circle_room.server.forms import Forms
from circle_room.server.holding import Holding
from circle_room.server.intake import Intake, Rejected
from circle_room.server.room_core import LogEntry, RoomCore
from circle_room.server.saving import Saver, not_saved
from circle_room.server.shared_deflate import Sharing, follow_sharing
from circle_room.server.snapshot import CircleSnapshot
from circle_room.server.store import RoomRecord, Store, hash_secret, new_secret
from circle_room.server.versions import for_versions

log = logging.getLogger(__name__)

BEHIND = "too far behind; resume to catch up"
"""The reason sent with close 4012."""


def address(ws: Connection) -> str:
    """The peer's address, for the log."""
    remote = ws.remote_address
    return str(remote[0]) if remote else "?"


@dataclass(frozen=True)
class Arrival:
    """A connection waiting for its ``Attach``, with what only it knows."""

    ws: Connection
    token: str
    version: int
    gapless: bool
    """It asked for a ``Hidden`` in place of each event it may not see."""

    @classmethod
    def of(cls, ws: Connection, token: str, hello: Hello) -> Arrival:
        return cls(ws, token, hello.version, hello.gapless)


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
        self._saver = Saver(store, record.name)
        self._config = config
        self._clock = clock
        # A new epoch per process: the log (and share text) dies with it.
        self.core = RoomCore(record.name, record.settings, config, secrets.token_hex(8))
        self.closing = False
        """Set when the relay shuts down: dropped connections are then not news."""
        self._links: dict[int, Feed] = {}
        """The connection of each seated member who has one."""
        self._forms = Forms()
        """Which form of a delivery each connection takes (version, gapless)."""
        self._arriving: dict[str, Arrival] = {}
        self._intakes: dict[int, Intake] = {}
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._sharing = Sharing(config.shared_deflate_above)
        """Whether the room is large enough to deflate each event once for all."""
        self._held = Holding(config, self._links.values, self._drop_behind)
        """A large room's presence events, held for a moment (``server.holding``)."""
        self._told = self.core.state
        """The room as performed so far: what clients hold, left out of compact frames."""
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
        return [feed.ws for feed in self._links.values()]

    def connection(self, member_id: int) -> Connection | None:
        """``member_id``'s connection, if they have one here."""
        feed = self._links.get(member_id)
        return feed.ws if feed is not None else None

    # --- seating a connection -----------------------------------------------------------

    def join(self, ws: Connection, hello: Hello, role: Role) -> int:
        """Seat a new member and welcome them; raise ``Refused`` if they cannot join."""
        token = new_secret()
        token_hash = hash_secret(token)
        change = self.core.plan_join(hello.name, role, hello.agreed, token_hash, self._clock())
        effects = self._commit(change)
        member_id = self._seat(Arrival.of(ws, token, hello), token_hash, effects)
        log.info("room %s: #%d joined as %s from %s", self.name, member_id, role.name, address(ws))
        return member_id

    def resume(self, ws: Connection, hello: Hello) -> int | None:
        """Give a returning member their seat back, or None if it is gone."""
        assert hello.resume is not None
        resume = hello.resume
        token_hash = hash_secret(resume.token)
        counts = hello.version < COMPACT  # Version 1 had every MeTooCount.
        effects = self.core.resume(token_hash, resume.epoch, resume.seq, hello.gapless, counts)
        if effects is None:
            return None
        arrival = Arrival.of(ws, resume.token, hello)
        member_id = self._seat(arrival, token_hash, effects)
        attach = next(e for e in effects if isinstance(e, Attach))
        how = f"{len(attach.replay)} frames replayed" if attach.resumed else "the room anew"
        log.info("room %s: #%d resumed from %s (%s)", self.name, member_id, address(ws), how)
        if self.state.members[member_id].presence is Presence.AWAY:
            self._perform(self.core.observe(member_id, Reconnect(), self._clock()))
        return member_id

    def _seat(self, arrival: Arrival, token_hash: str, effects: list[Effect]) -> int:
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
        feed = self._links.get(member_id)
        if feed is None or feed.ws is not ws or feed.closing:
            # Replaced, removed, behind or hung up on: we are closing this
            # connection, and nothing it still sends counts. (A member who
            # sends a command and closes is still heard: that is a goodbye.)
            return
        now = self._clock()
        intake = self._intakes.setdefault(member_id, Intake(self._config))
        taken = intake.take(data, now)
        if isinstance(taken, Rejected):
            self._reply(member_id, feed, taken.error)
            if taken.hang_up:
                self._drop(member_id, CloseCode.POLICY, "too many bad or excess frames")
            return
        try:
            effects = self._commit(self.core.plan(member_id, taken.command, now))
        except Refused as refused:
            error = Error(taken.ref, refused.code, refused.message, refused.retry_after)
            self._reply(member_id, feed, error)
            return
        intake.accepted()
        self._perform(effects)

    def disconnected(self, member_id: int, ws: Connection) -> None:
        """The connection ``ws`` of ``member_id`` closed, for whatever reason."""
        feed = self._links.get(member_id)
        if feed is None or feed.ws is not ws:
            return  # Replaced by a newer connection, dropped by us, or the seat is gone.
        del self._links[member_id]
        feed.stop()
        log.info("room %s: #%d disconnected (close %s)", self.name, member_id, ws.close_code)
        if not self.closing:
            self._perform(self.core.observe(member_id, Disconnect(), self._clock()))

    def _drop(self, member_id: int, code: CloseCode, reason: str) -> None:
        """Close ``member_id``'s connection ourselves; they are away from now on."""
        feed = self._links.pop(member_id, None)
        if feed is None:
            return
        backlog = feed.backlog()
        feed.close(code, reason, self._config.close_timeout)
        log.info(
            "room %s: #%d closed with %d: %s (%d bytes waiting)",
            self.name,
            member_id,
            code,
            reason,
            backlog,
        )
        if not self.closing:
            self._perform(self.core.observe(member_id, Disconnect(), self._clock()))

    def _fell_behind(self, member_id: int, feed: Feed) -> None:
        if self._links.get(member_id) is feed:
            self._drop(member_id, CloseCode.BEHIND, BEHIND)

    def stop_timers(self) -> None:
        """The relay is closing: no grace runs out in a room that is no longer served.

        The seats stay stored as they are; a relay that starts again re-arms them.
        What the room held for a moment goes out now, before the connections close.
        """
        self._drop_behind(self._held.flush())
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def _expire(self, member_id: int) -> None:
        self._timers.pop(member_id, None)
        if member_id not in self._links:
            self._perform(self.core.observe(member_id, Expire(), self._clock()))

    # --- performing the core's effects ------------------------------------------------------

    def _perform(self, effects: Iterable[Effect]) -> None:
        behind: set[Feed] = set()
        # Taken first: a change performed from within this one starts where this one ends.
        told, self._told = self._told, self.core.state
        for effect in for_versions(list(effects), told):
            if isinstance(effect, Deliver):
                feeds = self._feeds(effect)
                # Its readers are fixed now: whoever is linked later has it in their
                # Welcome's state (or in their replay, which flushes first).
                if self._held.hold(effect.data, feeds, len(self._links)):
                    continue
                behind.update(self._held.flush())
                behind.update(deliver(feeds, effect.data))
            elif isinstance(effect, Save):
                # A fact, which happened whether or not the disk can hold it:
                # everyone is told, and the next save that works holds it too.
                self._saver.save(effect)
            elif isinstance(effect, Attach):
                if effect.replay:  # From the log, which has what is held already.
                    behind.update(self._held.flush())
                self._attach(effect)
            elif isinstance(effect, Close):
                behind.update(self._held.flush())
                feed = self._links.pop(effect.member_id, None)
                if feed is not None:
                    feed.close(effect.code, effect.reason, self._config.close_timeout)
            elif isinstance(effect, StartGrace):
                self._cancel_grace(effect.member_id)
                loop = asyncio.get_running_loop()
                timer = loop.call_later(effect.seconds, self._expire, effect.member_id)
                self._timers[effect.member_id] = timer
            elif isinstance(effect, CancelGrace):
                self._cancel_grace(effect.member_id)
            elif isinstance(effect, Vacate):
                self._forms.vacate(effect.member_id)
                self._cancel_grace(effect.member_id)
                self._intakes.pop(effect.member_id, None)
                log.info("room %s: #%d left (%s)", self.name, effect.member_id, effect.reason.name)
        self._drop_behind(behind)
        self._sharing.fit(len(self._links))

    def _feeds(self, deliver: Deliver) -> list[Feed]:
        """The feeds linked now of the readers of ``deliver``."""
        readers = self._forms.readers(deliver)
        if len(readers) < len(self._links):  # Look up the fewer.
            return [feed for m in readers if (feed := self._links.get(m)) is not None]
        return [feed for m, feed in self._links.items() if m in readers]

    def _drop_behind(self, behind: Iterable[Feed]) -> None:
        """Whoever could not take what was sent is away from now on."""
        behind = set(behind)
        for member_id, feed in list(self._links.items()) if behind else ():
            if feed in behind:
                self._drop(member_id, CloseCode.BEHIND, BEHIND)

    def _commit(self, change: Change) -> list[Effect]:
        """Save ``change`` if it must be, then commit it; raise ``Refused`` if it cannot be."""
        if change.save is not None:
            problem = self._saver.save(change.save)
            if problem is not None:
                # Dropped: the room, its seq and its log are as they were.
                raise not_saved(problem)
        return self.core.commit(change)

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
        member_id = attach.member_id
        follow_sharing(arrival.ws.protocol.extensions, self._sharing)
        config = self._config
        feed = Feed(
            arrival.ws,
            config.seat_buffer,
            config.replay_stall,
            lambda late: self._fell_behind(member_id, late),
            batches=arrival.version >= COMPACT,
        )
        deliver([feed], encode(welcome))
        feed.replay(attach.replay)
        self._links[attach.member_id] = feed
        self._forms.seat(attach.member_id, arrival.version, arrival.gapless)
        self._intakes.setdefault(attach.member_id, Intake(self._config))

    def _cancel_grace(self, member_id: int) -> None:
        timer = self._timers.pop(member_id, None)
        if timer is not None:
            timer.cancel()

    # --- sending --------------------------------------------------------------------------

    @staticmethod
    def send(ws: Connection, frame: Frame) -> None:
        """Queue one frame now to a connection not (yet) seated, unless it is closing."""
        if not ws.transport.is_closing():
            broadcast([ws], encode(frame))

    def close(self, ws: Connection, code: int, reason: str) -> None:
        """Close a connection not (yet) seated, for good within the close timeout."""
        close_within(ws, code, reason, self._config.close_timeout)

    def _reply(self, member_id: int, feed: Feed, frame: Frame) -> None:
        """Send ``frame`` to ``member_id`` alone, after what is already on its way."""
        self._drop_behind([*self._held.flush(), *deliver([feed], encode(frame))])

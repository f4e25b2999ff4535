"""One room on one node of several: a replica that follows the room's stream.

``LiveRoom`` decides and delivers in one process. Here the two are split:

- every node holding members of the room keeps a replica ``RoomCore`` that
  follows ``room:{r}:stream`` (``RoomCore.follow``) and performs what that
  returns for its own connections: the same bytes, in log order, and the
  ``Attach`` that seats a newcomer whose token hash rides on ``MemberJoined``;
- commands, joins and what the node sees of its connections go to the room's
  owner through the command stream (``server.node_commands``);
- one node at a time holds the lease and runs a ``RoomOwner``; when the lease
  is free (its owner died) any node following the room takes it, catches up
  and carries on under the same epoch.

A member resumes on any node against the replica's log. A gap in the stream,
or a new epoch (Redis lost the history), rebuilds the replica from the
room's snapshot and closes this node's connections with 1001, so every
client resumes and is told plainly (``resumed=false``) if it missed anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Mapping
from typing import Protocol

from redis.exceptions import RedisError
from websockets.asyncio.connection import Connection

from circle_room.protocol import COMPACT
from circle_room.protocol.close_codes import CloseCode
from circle_room.protocol.codec import decode
from circle_room.protocol.errors import Refused, RemoteProtocolError
from circle_room.protocol.messages import Error, Hello
from circle_room.protocol.model import Member, Presence, Role
from circle_room.server.config import RelayConfig
from circle_room.server.effects import Attach
from circle_room.server.feed import deliver
from circle_room.server.intake import Rejected
from circle_room.server.live_room import Arrival, LiveRoom
from circle_room.server.node_commands import Forwarded, JoinAsked, NodeCommand, Seen
from circle_room.server.places import Place
from circle_room.server.redis_log import BLOCK_MS, LEASE_MS, Entry, Outcome, RoomLog, Snap
from circle_room.server.room_core import OutOfOrder, RoomCore
from circle_room.server.room_owner import RoomOwner
from circle_room.server.store import RoomRecord, Store, hash_secret, new_secret

log = logging.getLogger(__name__)

CATCH_UP = 2.0
"""Seconds a node taking the lease waits to reach the log's tip before it starts anew."""


class Node(Protocol):
    """What a room needs of the node it runs on (``server.node_relay.NodeRelay``)."""

    node_id: str

    def send(self, rlog: RoomLog, command: NodeCommand) -> None:
        """Queue ``command`` for the room's command stream, after every one queued before."""

    def seat(self, rlog: RoomLog, member_id: int) -> None:
        """Record, in order with the commands, that this node holds ``member_id``'s connection."""

    async def alive(self, node_ids: set[str]) -> set[str]:
        """Which of ``node_ids`` still beat."""


class NodeRoom(LiveRoom):
    """A ``LiveRoom`` whose core follows the room's stream; ``await open()`` before use."""

    def __init__(
        self,
        record: RoomRecord,
        store: Store,
        config: RelayConfig,
        clock: Callable[[], float],
        node: Node,
        rlog: RoomLog,
    ) -> None:
        super().__init__(record, store, config, clock)
        self._store = store
        """Where the owner saves the circle (the shell's own saves are its ``Saver``'s)."""
        self._node = node
        self.rlog = rlog
        self.owner: RoomOwner | None = None
        self._joining: dict[str, asyncio.Future[int]] = {}
        self._moved = asyncio.Event()
        """Set each time the replica applies entries (or is rebuilt)."""
        self._opened: asyncio.Task[None] | None = None
        self._loops: list[asyncio.Task[None]] = []
        self._closed = False
        """Set by ``shutdown``; the loops test it too, as a cancel alone may be swallowed."""

    # --- following the stream ---------------------------------------------------------

    async def open(self) -> None:
        """Build the replica and start following; safe to await from many connections."""
        if self._opened is None:
            self._opened = asyncio.get_running_loop().create_task(self._open())
        await asyncio.shield(self._opened)

    async def _open(self) -> None:
        while await self.rlog.meta() is None:
            lease = await self.rlog.take_lease(self._node.node_id)
            if lease is not None:
                await self._found(lease)
                break
            await asyncio.sleep(0.05)  # Another node is creating it right now.
        await self._rebuild()
        loop = asyncio.get_running_loop()
        self._loops = [loop.create_task(self._follow()), loop.create_task(self._watch())]

    async def _found(self, lease: str) -> None:
        """The room has no history in Redis: start one, from the settings in the store."""
        core = RoomCore(self.name, self.record.settings, self._config, secrets.token_hex(8))
        owner = self._owner(lease, core, "0-0")
        await self.rlog.reset(lease, core.epoch, 0, owner.snapshot(), "0-0")
        self.owner = owner
        owner.start((), new_epoch=False)

    async def _rebuild(self) -> None:
        """Take the replica from the room's snapshot, then the entries after it."""
        snap = await self.rlog.snap()
        core = RoomCore(self.name, self.record.settings, self._config, secrets.token_hex(8))
        if snap is not None:
            _load(core, snap)
        self.core = core
        self._told = core.state  # Clients seated from here on get this room.
        await self._catch_up()

    async def _catch_up(self) -> None:
        while entries := await self.rlog.after(self.core.seq):
            if not await self._apply(entries):
                return

    async def _follow(self) -> None:
        while not self._closed:
            try:
                entries = await self.rlog.after(self.core.seq, block_ms=BLOCK_MS)
                if not self._closed:
                    await self._apply(entries)
            except RedisError as exc:
                if not self._closed:
                    log.warning("room %s: cannot read the log: %s", self.name, exc)
                    await asyncio.sleep(0.2)

    async def _apply(self, entries: list[Entry]) -> bool:
        """Follow ``entries``; False if the replica had to be rebuilt instead."""
        for entry in entries:
            if entry.epoch and entry.epoch != self.core.epoch:
                await self._restart("the room's history was started anew")
                return False
            members = self.core.state.members
            try:
                self._perform(self.core.follow(entry.data, entry.token_hash))
            except OutOfOrder:
                await self._restart("this node missed part of the room's log")
                return False
            except RemoteProtocolError as exc:
                log.error("room %s: unreadable entry %d: %s", self.name, entry.seq, exc)
                await self._restart("the room's log held an unreadable entry")
                return False
            if self.core.state.members is not members:
                self._note_away(members)
        self._moved.set()
        self._moved = asyncio.Event()
        return True

    def _note_away(self, before: Mapping[int, Member]) -> None:
        """Note in the replica's places when each member who just went away is due to leave.

        The time is this node's clock as it follows the ``MemberAway``, a few
        milliseconds after the owner decided it: should this node take the
        lease, it gives them what is left of their grace (``RoomOwner.start``).
        Only run when the members changed, so shares cost nothing here.
        """
        now, grace = self._clock(), self._config.grace_period
        for member in self.core.state.members.values():
            old = before.get(member.id)
            was_away = old is not None and old.presence is Presence.AWAY
            if member.presence is Presence.AWAY and not was_away:
                self.core.places.away(member.id, now + grace)
            elif member.presence is not Presence.AWAY and was_away:
                self.core.places.away(member.id, None)

    async def _restart(self, why: str) -> None:
        log.warning("room %s: rebuilding: %s", self.name, why)
        for feed in self._links.values():
            feed.close(CloseCode.GOING_AWAY, "resume, please", self._config.close_timeout)
        self._links.clear()
        await self._rebuild()
        self._moved.set()
        self._moved = asyncio.Event()

    # --- the lease --------------------------------------------------------------------

    async def _watch(self) -> None:
        """Every third of a lease: take the lease if it is free; tell the owner who is back."""
        while not self._closed:
            await asyncio.sleep(LEASE_MS / 3000)
            try:
                if self.owner is None and not self._closed and await self.rlog.holder() is None:
                    lease = await self.rlog.take_lease(self._node.node_id)
                    if lease is not None:
                        await self._promote(lease)
                self._announce_back()
            except RedisError as exc:
                log.warning("room %s: cannot check the lease: %s", self.name, exc)

    async def _promote(self, lease: str) -> None:
        meta = await self.rlog.meta()
        fresh = meta is None or not await self._reach(meta.epoch, meta.seq)
        replica = self.core
        decider = RoomCore(self.name, replica.state.settings, self._config, replica.epoch)
        decider.state, decider.seq = replica.state, replica.seq
        for place in replica.places:
            decider.places.take(place)
        cursor = meta.cmd if meta is not None else "0-0"
        owner = self._owner(lease, decider, cursor)
        if fresh:
            # Redis lost the history (or this node cannot reach its tip): the
            # room goes on from memory under a new epoch; resumes say so.
            decider.epoch = secrets.token_hex(8)
            snapshot = owner.snapshot()
            outcome = await self.rlog.reset(lease, decider.epoch, decider.seq, snapshot, cursor)
            if outcome is not Outcome.OK:
                return
        gone = await self._gone()
        if self._closed:
            await self.rlog.release(lease)  # Shut down while taking it: let another node have it.
            return
        log.info("room %s: deciding from seq %d", self.name, decider.seq)
        self.owner = owner
        owner.start(gone, new_epoch=fresh)

    async def _reach(self, epoch: str, seq: int) -> bool:
        """Wait for the replica to follow the log up to ``seq`` of ``epoch``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CATCH_UP
        while self.core.epoch != epoch or self.core.seq < seq:
            if loop.time() >= deadline:
                return False
            try:
                await asyncio.wait_for(self._moved.wait(), deadline - loop.time())
            except asyncio.TimeoutError:
                return False
        return self.core.seq == seq

    async def _gone(self) -> list[int]:
        """Present members whose connection was on a node that no longer beats."""
        raw = await self.rlog.redis.hgetall(self.rlog.conn)
        held = {int(k): v.decode() if isinstance(v, bytes) else str(v) for k, v in raw.items()}
        alive = await self._node.alive(set(held.values()))
        return [
            m.id
            for m in self.core.state.members.values()
            if m.presence is Presence.PRESENT and held.get(m.id) not in alive
        ]

    def _owner(self, lease: str, decider: RoomCore, cursor: str) -> RoomOwner:
        grace, stopped = self._config.grace_period, self._owner_stopped
        store, clock = self._store, self._clock
        return RoomOwner(self.rlog, lease, decider, cursor, store, grace, clock, stopped)

    def _owner_stopped(self, outcome: Outcome) -> None:
        log.warning("room %s: stopped deciding (%s)", self.name, outcome.name)
        self.owner = None

    def _announce_back(self) -> None:
        """Members connected here whom the room thinks away (their node's news was late)."""
        for member_id in self._links:
            member = self.state.members.get(member_id)
            if member is not None and member.presence is Presence.AWAY:
                self._node.send(self.rlog, Seen(member_id, back=True))

    async def shutdown(self) -> None:
        """Stop following; give up the lease so another node need not wait for it to lapse."""
        self._closed = True
        for task in self._loops:
            task.cancel()
        owner = self.owner
        if owner is not None:
            owner.stop()
            with contextlib.suppress(RedisError):
                await self.rlog.release(owner.lease)
            await owner.finished()
        await asyncio.gather(*self._loops, return_exceptions=True)

    # --- members ----------------------------------------------------------------------

    async def join_via_owner(self, ws: Connection, hello: Hello, role: Role) -> int:
        """Ask the owner to seat a newcomer; their ``Attach`` comes back through the log."""
        token = new_secret()
        token_hash = hash_secret(token)
        seated = asyncio.get_running_loop().create_future()
        self._arriving[token_hash] = Arrival.of(ws, token, hello)
        self._joining[token_hash] = seated
        self._node.send(self.rlog, JoinAsked(hello.name, role, hello.agreed, token_hash))
        try:
            return await asyncio.wait_for(seated, self._config.handshake_timeout)
        except asyncio.TimeoutError:
            raise Refused("unavailable", "The room did not answer; try again.") from None
        finally:
            self._arriving.pop(token_hash, None)
            self._joining.pop(token_hash, None)

    def refused(self, key: str, error: bytes) -> None:
        """The owner refused a join (``key`` is the token hash) or a member's command."""
        seated = self._joining.get(key)
        if seated is not None:
            frame = decode(error)
            if isinstance(frame, Error) and not seated.done():
                seated.set_exception(Refused(frame.code, frame.message, frame.retry_after))
            return
        feed = self._links.get(int(key)) if key.isdigit() else None
        if feed is not None:
            deliver([feed], error)

    def replaced(self, member_id: int) -> None:
        """The member resumed on another node: close their stale connection here with 4010.

        The link goes first, so its closing tells the owner nothing: the member
        is not away, only elsewhere.
        """
        feed = self._links.pop(member_id, None)
        if feed is not None:
            feed.close(
                CloseCode.REPLACED, "replaced by a newer connection", self._config.close_timeout
            )

    def resume(self, ws: Connection, hello: Hello) -> int | None:
        assert hello.resume is not None
        token_hash = hash_secret(hello.resume.token)
        resume = hello.resume
        counts = hello.version < COMPACT  # Version 1 had every MeTooCount.
        effects = self.core.resume(token_hash, resume.epoch, resume.seq, hello.gapless, counts)
        if effects is None:
            return None
        arrival = Arrival.of(ws, resume.token, hello)
        member_id = self._seat(arrival, token_hash, effects)
        if self.state.members[member_id].presence is Presence.AWAY:
            self._node.send(self.rlog, Seen(member_id, back=True))
        return member_id

    def _attach(self, attach: Attach) -> None:
        here = attach.token_hash in self._arriving
        super()._attach(attach)
        if here:
            self._node.seat(self.rlog, attach.member_id)
            seated = self._joining.get(attach.token_hash)
            if seated is not None and not seated.done():
                seated.set_result(attach.member_id)

    def handle(self, member_id: int, ws: Connection, data: bytes | str) -> None:
        feed = self._links.get(member_id)
        intake = self._intakes.get(member_id)
        if feed is None or feed.ws is not ws or feed.closing or intake is None:
            return  # The seat is gone, or this connection is being closed.
        taken = intake.take(data, self._clock())
        if isinstance(taken, Rejected):
            self._reply(member_id, feed, taken.error)
            if taken.hang_up:
                self._drop(member_id, CloseCode.POLICY, "too many bad or excess frames")
            return
        raw = data if isinstance(data, bytes) else data.encode()
        self._node.send(self.rlog, Forwarded(member_id, raw))
        intake.accepted()

    def disconnected(self, member_id: int, ws: Connection) -> None:
        feed = self._links.get(member_id)
        if feed is None or feed.ws is not ws:
            return
        del self._links[member_id]
        feed.stop()
        if not self.closing:
            self._node.send(self.rlog, Seen(member_id, back=False))


def _load(core: RoomCore, snap: Snap) -> None:
    """Set ``core`` to the room at ``snap.seq``; its log starts after it."""
    core.epoch = snap.epoch
    core.state = snap.circle.state
    core.seq = snap.seq
    for member_id, token_hash in snap.circle.token_hashes.items():
        since = snap.since.get(member_id, snap.seq)
        core.places.take(Place(member_id, token_hash, since, snap.grace_ends.get(member_id)))

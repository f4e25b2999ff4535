"""A relay that is one node of several sharing rooms through Redis (``circle serve --redis``).

The websocket side is ``server.relay.Relay``'s; each room is a
``server.node_room.NodeRoom``. The node itself keeps three things going:

- a heartbeat, ``node:{id}`` with a TTL, by which a new owner tells which
  members' connections died with their node;
- one ordered sender: the commands of all its rooms go out through one
  pipeline in the order they were made (two connections could reorder them);
- its channel ``node:{id}``, on which owners send back refusals, and other
  nodes say that a member held here resumed there (closed here with 4010);
- its guard counts guesses in Redis (``server.redis_budget``), shared with
  every other node.

The room records (names, passcode hashes, keys, settings) stay in the SQLite
store, shared by the nodes of one host.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import ssl
import time
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeout
from websockets.asyncio.server import ServerConnection

from circle_room.protocol.errors import Refused, RemoteProtocolError
from circle_room.protocol.messages import Hello
from circle_room.protocol.model import Role
from circle_room.server.config import RelayConfig
from circle_room.server.guard import Guard
from circle_room.server.live_room import LiveRoom
from circle_room.server.node_commands import (
    NodeCommand,
    Refusal,
    Replaced,
    pack_command,
    pack_notice,
    unpack_notice,
)
from circle_room.server.node_room import NodeRoom
from circle_room.server.redis_budget import RedisBudget
from circle_room.server.redis_log import BLOCK_MS, LEASE_MS, SEAT, RoomLog
from circle_room.server.relay import Relay
from circle_room.server.store import Store

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
"""Seconds to open a connection to Redis before giving up on it."""
REPLY_TIMEOUT = BLOCK_MS / 1000 + 4.0
"""Seconds to wait for any reply: longer than a blocking read waits, or every
quiet room's read would time out. A Redis that drops packets mid-meeting then
costs a loop this long, after which redis-py drops that connection and the
loop goes on over a new one, instead of waiting on the dead one for ever."""

_Op = tuple[str, str, str, bytes]
"""("cmd", key, "", packed command) or ("conn", key, member id, packed ``Replaced``)."""


class NodeRelay(Relay):
    """``Relay`` for rooms whose log lives in Redis at ``redis_url``."""

    def __init__(
        self,
        store: Store,
        redis_url: str,
        config: RelayConfig | None = None,
        clock: Callable[[], float] = time.time,
        node_id: str | None = None,
        reply_timeout: float = REPLY_TIMEOUT,
    ) -> None:
        super().__init__(store, config, clock)
        self.node_id = node_id or secrets.token_hex(4)
        if reply_timeout <= BLOCK_MS / 1000:
            raise ValueError("reply_timeout must be longer than a blocking read")
        self.redis = aioredis.Redis.from_url(
            redis_url,
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_timeout=reply_timeout,
            socket_keepalive=True,
            # A connection idle this long is PINGed before it carries a command,
            # so a command is not sent into a link that died while it waited.
            health_check_interval=1,
        )
        self._reply_timeout = reply_timeout
        # One guessing budget for all the nodes: a guesser gains nothing by trying each.
        budget = RedisBudget(self.redis, self.config.passcode_rate, self.config.room_guess_rate)
        self.guard = Guard(
            self.config.passcode_rate, self.config.room_guess_rate, clock, self.hashing, budget
        )
        self._outbox: asyncio.Queue[_Op] = asyncio.Queue()
        self._seat = self.redis.register_script(SEAT)
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        """Set by ``close``; the loops test it too, as redis-py may swallow a cancel."""

    async def start(
        self, host: str = "127.0.0.1", port: int = 8765, tls: ssl.SSLContext | None = None
    ) -> None:
        await self.redis.ping()  # Fail at start-up, not at the first member.
        await self._beat()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._heartbeat()),
            loop.create_task(self._sender()),
            loop.create_task(self._notices()),
        ]
        await super().start(host, port, tls)

    def restore(self) -> None:
        """Nothing to restore from the store: the rooms' state is in Redis."""

    async def close(self) -> None:
        self._closing = True
        await super().close()
        for room in self.rooms.values():
            if isinstance(room, NodeRoom):
                await room.shutdown()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.redis.aclose()

    # --- rooms ------------------------------------------------------------------------

    def room(self, name: str) -> LiveRoom | None:
        room = self.rooms.get(name)
        if room is None:
            record = self.store.room(name)
            if record is None:
                return None
            rlog = RoomLog(self.redis, name, self.config.log_size)
            room = NodeRoom(record, self.store, self.config, self._clock, self, rlog)
            self.rooms[name] = room
        return room

    async def _open(self, name: str) -> LiveRoom | None:
        room = self.room(name)
        if isinstance(room, NodeRoom):
            await room.open()
        return room

    async def _join(self, room: LiveRoom, ws: ServerConnection, hello: Hello, role: Role) -> int:
        if not isinstance(room, NodeRoom):
            raise Refused("unavailable", "This room is not served here.")
        return await room.join_via_owner(ws, hello, role)

    # --- what a NodeRoom asks of its node ------------------------------------------------

    def send(self, rlog: RoomLog, command: NodeCommand) -> None:
        self._outbox.put_nowait(("cmd", rlog.cmd, "", pack_command(self.node_id, command)))

    def seat(self, rlog: RoomLog, member_id: int) -> None:
        replaced = pack_notice(Replaced(rlog.room, member_id))
        self._outbox.put_nowait(("conn", rlog.conn, str(member_id), replaced))

    async def alive(self, node_ids: set[str]) -> set[str]:
        ids = sorted(node_ids)
        if not ids:
            return set()
        found = await self.redis.exists(*[f"node:{n}" for n in ids])
        if found == len(ids):
            return set(ids)
        beats = [await self.redis.exists(f"node:{n}") for n in ids]
        return {n for n, beat in zip(ids, beats, strict=True) if beat}

    # --- the node's own loops -----------------------------------------------------------

    async def _beat(self) -> None:
        await self.redis.set(f"node:{self.node_id}", b"1", px=LEASE_MS)

    async def _heartbeat(self) -> None:
        while not self._closing:
            await asyncio.sleep(LEASE_MS / 3000)
            try:
                await self._beat()
            except RedisError as exc:
                log.warning("node %s: no heartbeat: %s", self.node_id, exc)

    async def _sender(self) -> None:
        while not self._closing:
            ops = [await self._outbox.get()]
            while not self._outbox.empty():
                ops.append(self._outbox.get_nowait())
            pipe = self.redis.pipeline(transaction=False)
            for kind, key, field, value in ops:
                if kind == "cmd":
                    pipe.xadd(key, {"c": value})
                else:
                    await self._seat(keys=[key], args=[field, self.node_id, value], client=pipe)
            try:
                await pipe.execute()
            except RedisError as exc:
                # The members' clients see no answer and may send again.
                log.error("node %s: could not send %d commands: %s", self.node_id, len(ops), exc)

    def _notice(self, data: bytes) -> None:
        try:
            notice = unpack_notice(data)
        except RemoteProtocolError as exc:
            log.warning("node %s: dropped a bad notice: %s", self.node_id, exc)
            return
        room = self.rooms.get(notice.room)
        if not isinstance(room, NodeRoom):
            return
        if isinstance(notice, Refusal):
            room.refused(notice.key, notice.error)
        else:
            room.replaced(notice.member_id)

    async def _notices(self) -> None:
        while not self._closing:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(f"node:{self.node_id}")
                    await self._listen(pubsub)
            except RedisError as exc:
                if not self._closing:
                    log.warning("node %s: notice channel lost: %s", self.node_id, exc)
                    await asyncio.sleep(0.2)

    async def _listen(self, pubsub: PubSub) -> None:
        """Hand each notice on; raise ``TimeoutError`` if the channel goes silent.

        A subscribed connection waits for messages with no reply due, so a
        reply timeout alone never fires on it: after a quiet second it sends a
        PING, and a PONG that does not come in time means the link is dead.
        """
        loop = asyncio.get_running_loop()
        heard, pinged = loop.time(), False
        while not self._closing:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            now = loop.time()
            if message is not None:
                heard, pinged = now, False
                if message.get("type") == "message":
                    self._notice(message["data"])
            elif now - heard > 1.0 + self._reply_timeout:
                raise RedisTimeout("no answer to a PING on the notice channel")
            elif not pinged:
                await pubsub.ping()
                pinged = True

"""A room's ordered log in Redis Streams, written by one fenced owner node.

Keys share the hash tag ``{room}``, so one room's keys live on one shard of a
Redis Cluster too:

``room:{r}:stream``  the events: ID ``0-<seq>``, field ``d`` = the exact encoded
                     ``EventFrame``, ``k`` = the token hash on ``MemberJoined``,
                     ``e`` = the epoch on the first event of a new epoch.
``room:{r}:meta``    hash: ``epoch``, ``seq`` (last appended), ``cmd`` (last command done).
``room:{r}:snap``    ``pack_snap``: seq, epoch, ``CircleSnapshot``, each ``since``
                     and each away member's grace end (structural: no share text).
``room:{r}:lease``   ``node:fence`` of the owner, with a TTL.
``room:{r}:fence``   an INCR counter: each lease taken gets a new fence.
``room:{r}:cmd``     the command inbox (``server.node_commands``).
``room:{r}:conn``    hash: member id -> node id holding their connection.

The threat this module closes is two writers: every append is one Lua script
that checks the lease (``FENCED``), that the meta is there (``LOST``: Redis lost
the history) and that the last seq is the one the writer expects
(``DIVERGED``), and only then adds the events. A paused owner that wakes up
after another node took over cannot add anything.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgpack
import redis.asyncio as aioredis

from circle_room.server.snapshot import CircleSnapshot

LEASE_MS = 3000
"""How long a lease lasts without renewal: the owner renews it every third of this."""
BLOCK_MS = 1000
"""How long a node's blocking read (XREAD BLOCK) waits for the next entry."""
KEEP_SECONDS = 6 * 3600
"""Backstop: a room's keys vanish this long after its last append."""

_APPEND = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'FENCED' end
local meta = redis.call('HMGET', KEYS[2], 'epoch', 'seq')
if not meta[1] or meta[1] ~= ARGV[2] then return 'LOST' end
if tonumber(meta[2]) ~= tonumber(ARGV[3]) then return 'DIVERGED' end
local n = tonumber(ARGV[8])
local seq = meta[2]
for i = 0, n - 1 do
  local base = 9 + 4 * i
  seq = ARGV[base]
  local args = {'XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '0-' .. seq, 'd', ARGV[base + 1]}
  if ARGV[base + 2] ~= '' then table.insert(args, 'k'); table.insert(args, ARGV[base + 2]) end
  if ARGV[base + 3] ~= '' then table.insert(args, 'e'); table.insert(args, ARGV[base + 3]) end
  redis.call(unpack(args))
end
redis.call('HSET', KEYS[2], 'seq', seq)
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[2], 'cmd', ARGV[4])
  redis.call('XTRIM', KEYS[5], 'MINID', ARGV[7])
end
if ARGV[6] ~= '' then redis.call('SET', KEYS[4], ARGV[6]) end
for i = 2, 5 do redis.call('EXPIRE', KEYS[i], ARGV[9 + 4 * n]) end
return 'OK'
"""

_RESET = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'FENCED' end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('HSET', KEYS[2], 'epoch', ARGV[2], 'seq', ARGV[3], 'cmd', ARGV[5])
redis.call('SET', KEYS[4], ARGV[4])
return 'OK'
"""

_RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
"""

_END = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'FENCED' end
redis.call('XTRIM', KEYS[2], 'MAXLEN', 0)
redis.call('XTRIM', KEYS[3], 'MAXLEN', 0)
redis.call('DEL', KEYS[4])
return 'OK'
"""


SEAT = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if old and old ~= ARGV[2] then redis.call('PUBLISH', 'node:' .. old, ARGV[3]) end
return old or ''
"""
"""Record that node ARGV[2] holds member ARGV[1]'s connection (``room:{r}:conn``); if
another node held it, send that node ARGV[3] (a packed ``Replaced``) on its channel,
in the same step, so the two nodes cannot both think they hold the member."""


class Outcome(enum.Enum):
    """What an append (or a reset) came to."""

    OK = "OK"
    FENCED = "FENCED"
    """Another node holds the lease: this one must stop writing for the room."""
    DIVERGED = "DIVERGED"
    """The log's last seq is not the one the writer holds: its history differs."""
    LOST = "LOST"
    """The room's history is gone from Redis (wiped, expired, or a new epoch)."""


@dataclass(frozen=True)
class Entry:
    """One event of the log as Redis holds it."""

    seq: int
    data: bytes
    token_hash: str = ""
    epoch: str = ""
    """Set on the first event of an epoch only."""


@dataclass(frozen=True)
class Meta:
    epoch: str
    seq: int
    cmd: str
    """Stream ID of the last command whose events are in the log ('' for none)."""


@dataclass(frozen=True)
class Snap:
    """The room at ``seq``: enough for a node to follow the log from there."""

    seq: int
    epoch: str
    circle: CircleSnapshot
    since: dict[int, int]
    """Member id -> ``Place.since``, so a rebuilt node replays no older share to them."""
    grace_ends: dict[int, float] = field(default_factory=dict)
    """Member id -> ``Place.grace_ends`` of each away member, so a new owner
    gives them what is left of their grace, not a whole new one."""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def next_id(stream_id: str) -> str:
    """The smallest stream ID after ``stream_id`` (``XTRIM MINID`` keeps it and later)."""
    ms, _, n = stream_id.partition("-")
    return f"{ms}-{int(n or 0) + 1}"


class RoomLog:
    """One room's keys in Redis and the scripts that change them."""

    def __init__(self, redis: aioredis.Redis, room: str, log_size: int) -> None:
        self.redis = redis
        self.room = room
        prefix = f"room:{{{room}}}:"
        self.stream = prefix + "stream"
        self.meta_key = prefix + "meta"
        self.snap_key = prefix + "snap"
        self.lease = prefix + "lease"
        self.fence = prefix + "fence"
        self.cmd = prefix + "cmd"
        self.conn = prefix + "conn"
        # Trimmed only well behind the latest snapshot, so a new node can
        # always rebuild from ``snap`` plus the entries after it.
        self.maxlen = max(log_size, 2 * SNAP_EVERY)
        self._append = redis.register_script(_APPEND)
        self._reset = redis.register_script(_RESET)
        self._renew = redis.register_script(_RENEW)
        self._end = redis.register_script(_END)

    # --- reading ------------------------------------------------------------------------

    async def meta(self) -> Meta | None:
        raw = await self.redis.hgetall(self.meta_key)
        if not raw:
            return None
        fields = {_text(k): _text(v) for k, v in raw.items()}
        return Meta(fields.get("epoch", ""), int(fields.get("seq", 0)), fields.get("cmd", ""))

    async def snap(self) -> Snap | None:
        raw: Any = await self.redis.get(self.snap_key)
        if raw is None:
            return None
        seq, epoch, packed, since, *rest = msgpack.unpackb(bytes(raw), raw=False)
        places = {int(k): int(v) for k, v in since}
        # A snapshot written before grace ends were kept has none: whole grace periods.
        ends = {int(k): float(v) for k, v in rest[0]} if rest else {}
        return Snap(int(seq), str(epoch), CircleSnapshot.unpack(packed), places, ends)

    async def after(self, seq: int, block_ms: int | None = None, count: int = 500) -> list[Entry]:
        """Entries after ``seq``; with ``block_ms``, wait that long for the first one."""
        rows: Any
        if block_ms is None:
            rows = await self.redis.xrange(self.stream, f"(0-{seq}", "+", count=count)
        else:
            rows = await self._read(self.stream, f"0-{seq}", count, block_ms)
        return [self._entry(stream_id, fields) for stream_id, fields in rows]

    async def commands(self, after: str, block_ms: int) -> list[tuple[str, bytes]]:
        """Command entries after stream ID ``after``: (their ID, field ``c``)."""
        rows = await self._read(self.cmd, after, 200, block_ms)
        return [(_text(stream_id), bytes(fields.get(b"c", b""))) for stream_id, fields in rows]

    async def _read(self, key: str, after: str, count: int, block_ms: int) -> Any:
        found: Any = await self.redis.xread({key: after}, count, block_ms)
        return found[0][1] if found else []

    async def refuse(self, node: str, data: bytes) -> None:
        """Tell ``node`` (on its channel) that the owner refused something it asked."""
        await self.redis.publish(f"node:{node}", data)

    @staticmethod
    def _entry(stream_id: Any, fields: dict[Any, Any]) -> Entry:
        seq = int(_text(stream_id).partition("-")[2])
        got = {_text(k): v for k, v in fields.items()}
        token_hash = _text(got.get("k", b""))
        return Entry(seq, bytes(got["d"]), token_hash, _text(got.get("e", b"")))

    # --- the lease ------------------------------------------------------------------------

    async def holder(self) -> str | None:
        raw = await self.redis.get(self.lease)
        return None if raw is None else _text(raw)

    async def take_lease(self, node: str) -> str | None:
        """Take the lease if nobody holds it: the ``node:fence`` value, or None."""
        if await self.redis.exists(self.lease):
            return None
        fence = await self.redis.incr(self.fence)
        owner = f"{node}:{fence}"
        taken = await self.redis.set(self.lease, owner, nx=True, px=LEASE_MS)
        return owner if taken else None

    async def renew(self, owner: str) -> bool:
        """Extend the lease if ``owner`` still holds it."""
        return bool(await self._renew(keys=[self.lease], args=[owner, LEASE_MS]))

    async def release(self, owner: str) -> None:
        """Give the lease up now (a clean shutdown), so another node need not wait for it."""
        if await self.renew(owner):
            await self.redis.delete(self.lease)

    # --- writing --------------------------------------------------------------------------

    async def append(
        self,
        owner: str,
        epoch: str,
        expected: int,
        entries: Sequence[Entry],
        cmd: str = "",
        snap: bytes = b"",
    ) -> Outcome:
        """Add ``entries`` after ``expected`` if ``owner`` holds the lease; one script."""
        args: list[Any] = [owner, epoch, expected, cmd, self.maxlen, snap]
        args += [next_id(cmd) if cmd else "", len(entries)]
        for entry in entries:
            args += [entry.seq, entry.data, entry.token_hash, entry.epoch]
        args.append(KEEP_SECONDS)
        keys = [self.lease, self.meta_key, self.stream, self.snap_key, self.cmd]
        return Outcome(_text(await self._append(keys=keys, args=args)))

    async def reset(self, owner: str, epoch: str, seq: int, snap: bytes, cmd: str) -> Outcome:
        """Start a new epoch at ``seq`` from the owner's memory: the old history is gone."""
        keys = [self.lease, self.meta_key, self.stream, self.snap_key]
        return Outcome(_text(await self._reset(keys=keys, args=[owner, epoch, seq, snap, cmd])))

    async def end(self, owner: str) -> Outcome:
        """The meeting is over: drop every event and command; structure and seq stay."""
        keys = [self.lease, self.stream, self.cmd, self.conn]
        return Outcome(_text(await self._end(keys=keys, args=[owner])))


SNAP_EVERY = 1000
"""A snapshot at least every this many events, so a new node never replays more."""


def pack_snap(
    seq: int,
    epoch: str,
    circle: CircleSnapshot,
    since: dict[int, int],
    grace_ends: dict[int, float] | None = None,
) -> bytes:
    """What ``RoomLog.snap`` reads back as a ``Snap``."""
    places = [[k, v] for k, v in sorted(since.items())]
    ends = [[k, v] for k, v in sorted((grace_ends or {}).items())]
    return msgpack.packb([seq, epoch, circle.pack(), places, ends], use_bin_type=True)

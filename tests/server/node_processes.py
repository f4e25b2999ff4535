"""``circle serve --redis`` nodes as real processes, and what the tests check of their members.

Shared by the tests that kill, pause or wipe something under a running
meeting: a node is a child process that a test may SIGKILL, SIGSTOP or
SIGCONT by pid; a member is a ``CircleClient`` recorded by ``Peer``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from circle_room.protocol.messages import Welcome
from circle_room.protocol.model import Settings
from circle_room.server.config import RelayConfig
from circle_room.server.effects import Deliver
from circle_room.server.redis_log import Snap
from circle_room.server.room_core import RoomCore
from circle_room.server.store import Store
from circle_room.tui.client.connection import CircleClient
from tests.server.support import ROOM, TIMEOUT, Peer

CIRCLE = str(Path(sys.executable).parent / "circle")
SECRET = "zebra-lantern"
"""Every share carries this, so a file holding any share text is easy to find."""
LEASE = f"room:{{{ROOM}}}:lease"


def new_room(data: Path) -> tuple[str, Settings]:
    """Room ``ROOM`` in the store at ``data``, shared by the nodes: its key and settings."""
    store = Store(data)
    try:
        key = store.add_room(ROOM)
        record = store.room(ROOM)
        assert record is not None
        return key, record.settings
    finally:
        store.close()


class NodeProcess:
    """One ``circle serve --redis`` child on a free port; its stderr goes to ``log``."""

    def __init__(self, data: Path, redis_url: str, log: Path) -> None:
        command = [CIRCLE, "serve", "--data-dir", str(data), "--port", "0", "--no-tls"]
        command += ["--redis", redis_url]
        self.log_path = log
        self.log = log.open("wb")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log)
        self.url = ""
        self.node_id = ""
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.decode()
            if "listening on ws://" in line:
                self.url = line.split("listening on ")[1].strip().replace("ROOM", ROOM)
            if line.startswith("Relay node "):
                self.node_id = line.split()[2].rstrip(":")
                break
        assert self.url and self.node_id, "the node did not start"

    def said(self, words: str) -> bool:
        """Whether the node has logged ``words`` so far."""
        self.log.flush()
        return words in self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)  # A paused node cannot take SIGTERM.
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()  # Fail the test, but leave no node behind.
                self.process.wait()
                raise
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.log.close()


async def member(url: str, name: str, welcomes: list[Welcome], **kwargs: object) -> Peer:
    """A member on ``url`` whose every ``Welcome`` (first and resumed) lands in ``welcomes``."""
    client = CircleClient(url, name=name, backoff_cap=0.3, on_welcome=welcomes.append, **kwargs)  # type: ignore[arg-type]
    return Peer(client, await client.connect())


async def owner_of_room(admin: aioredis.Redis) -> str:
    """The node id holding the room's lease now ('' if nobody does)."""
    raw = await admin.get(LEASE)
    return "" if raw is None else str(raw.decode()).split(":")[0]


async def until(check: object, what: str, timeout: float = 4 * TIMEOUT) -> None:
    """Poll ``check()`` (sync or async) until true: for what only Redis or a log can tell."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        got = check()  # type: ignore[operator]
        if asyncio.iscoroutine(got):
            got = await got
        if got:
            return
        assert loop.time() < deadline, f"waited {timeout} s for {what}"
        await asyncio.sleep(0.05)


async def settle(peers: list[Peer], admin: aioredis.Redis) -> None:
    """Wait until every member has applied the log's last event."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 4 * TIMEOUT
    while True:
        tip = int((await admin.hgetall(f"room:{{{ROOM}}}:meta"))[b"seq"])
        if all(p.client.seq == tip for p in peers):
            for peer in peers:
                await peer.drained()
            return
        assert loop.time() < deadline, [p.client.seq for p in peers]
        waits = (p.wait(lambda p=p, tip=tip: p.client.seq >= tip, "the tip") for p in peers)
        await asyncio.gather(*waits)


async def settled_rows(peers: list[Peer], admin: aioredis.Redis) -> list[Any]:
    """The room's stream once every member has applied its last event.

    The tip is read again after the stream: an event appended in between (a
    node announcing a member back, say) would be in the rows and not yet
    with the members, so settle again until the two agree.
    """
    while True:
        await settle(peers, admin)
        rows: list[Any] = await admin.xrange(f"room:{{{ROOM}}}:stream", "-", "+")
        last = int(rows[-1][0].decode().partition("-")[2]) if rows else 0
        if all(p.client.seq == last for p in peers):
            return rows


def audiences(
    rows: list[tuple[bytes, dict[bytes, bytes]]], settings: object, snap: Snap | None = None
) -> dict[int, list[int]]:
    """Member id -> the seqs of the log they may read, by following it as a node does.

    ``rows`` follow ``snap`` if given (a log that starts anew), else the room's start.
    """
    core = RoomCore(ROOM, settings, RelayConfig(), "check")  # type: ignore[arg-type]
    if snap is not None:
        core.state, core.seq = snap.circle.state, snap.seq
    seen: dict[int, list[int]] = {}
    for stream_id, fields in rows:
        seq = int(stream_id.decode().partition("-")[2])
        for effect in core.follow(fields[b"d"], fields.get(b"k", b"").decode()):
            if isinstance(effect, Deliver) and effect.data == fields[b"d"]:
                for member_id in effect.readers:
                    seen.setdefault(member_id, []).append(seq)
    return seen


def view(peer: Peer) -> object:
    """What every member must end up agreeing on."""
    state = peer.state
    members = {m.id: (m.name, m.presence) for m in state.members.values()}
    return (members, state.queue, state.turn and state.turn.holder, state.pause)


def holder(peer: Peer) -> int | None:
    turn = peer.state.turn
    return None if turn is None else turn.holder


def no_file_holds(root: Path, secret: str) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path

"""The real ``circle serve`` process, killed and stopped under a live meeting.

The relay runs as a subprocess on a free port; members are ``CircleClient``s
that reconnect by themselves. A SIGKILL leaves only what the store holds, so
these tests also prove the store holds enough (the circle) and no more (no
share text).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from circle_room.protocol.codec import decode
from circle_room.protocol.messages import EventFrame, MeTooCount, MeTooSet, Shared
from circle_room.protocol.model import Presence, SignalKind
from circle_room.server import feed
from circle_room.server.store import Store
from circle_room.tui.client.connection import (
    CircleClient,
    JoinRefused,
    Resynced,
    Status,
    StatusChanged,
)
from tests.server.support import ROOM, TIMEOUT, JoinFn, Peer, RunningRelay, all_see

CIRCLE = Path(sys.executable).parent / "circle"
LISTENING = re.compile(r"Members join with: circle join HOST:(\d+)/ROOM#(\S+)")


def add_room(data_dir: Path) -> str:
    """Create the room with the real CLI and return its facilitator key."""
    result = subprocess.run(
        [str(CIRCLE), "room", "add", ROOM, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    match = re.search(
        r"Facilitator key \(shown only this once; keep it private\): (\S+)", result.stdout
    )
    assert match, result.stdout
    return match.group(1)


@dataclass
class Served:
    """One ``circle serve`` process; its output is read all along so it never blocks."""

    proc: asyncio.subprocess.Process
    port: int = 0
    pin: str = ""
    """The relay's TLS fingerprint, as its join line gives it."""
    lines: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"wss://127.0.0.1:{self.port}/{ROOM}#{self.pin}"

    async def read(self, listening: asyncio.Future[tuple[int, str]]) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            self.lines.append(line)
            match = LISTENING.search(line)
            if match and not listening.done():
                listening.set_result((int(match.group(1)), match.group(2)))
        if not listening.done():
            listening.set_exception(AssertionError("\n".join(self.lines)))


class Servers:
    def __init__(self) -> None:
        self.started: list[Served] = []

    async def start(self, data_dir: Path, port: int = 0) -> Served:
        proc = await asyncio.create_subprocess_exec(
            str(CIRCLE),
            *("serve", "--data-dir", str(data_dir), "--port", str(port)),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        served = Served(proc)
        self.started.append(served)
        listening: asyncio.Future[tuple[int, str]] = asyncio.get_running_loop().create_future()
        served.reader = asyncio.get_running_loop().create_task(served.read(listening))
        served.port, served.pin = await asyncio.wait_for(listening, 20)
        return served

    async def stop_all(self) -> None:
        for served in self.started:
            if served.proc.returncode is None:
                served.proc.kill()
            await served.proc.wait()
            if served.reader is not None:
                await served.reader


@pytest.fixture
async def servers() -> AsyncIterator[Servers]:
    running = Servers()
    yield running
    await running.stop_all()


def stored_bytes(data_dir: Path) -> bytes:
    """Everything SQLite has written: the database, its WAL and shared memory."""
    return b"".join(p.read_bytes() for p in sorted(data_dir.iterdir()) if p.is_file())


def settled_back(peer: Peer, count: int) -> bool:
    members = peer.state.members.values()
    return (
        peer.client.status is Status.CONNECTED
        and len(members) == count
        and all(m.presence is Presence.PRESENT for m in members)
    )


@pytest.mark.timeout(60)
async def test_sigkill_mid_meeting_then_restart_restores_the_circle(
    tmp_path: Path, join: JoinFn, servers: Servers
) -> None:
    data = tmp_path / "data"
    key = add_room(data)
    first = await servers.start(data)
    fran = await join(first.url, "Fran", key=key)
    alice = await join(first.url, "alice")
    bob = await join(first.url, "bob")
    carol = await join(first.url, "carol")
    mallory = await join(first.url, "mallory")
    everyone = [fran, alice, bob, carol]
    await fran.client.remove(mallory.id)
    await all_see(everyone, lambda p: mallory.id not in p.state.members, "mallory removed")
    await alice.client.raise_hand()
    await all_see(everyone, lambda p: p.state.holder == alice.id, "alice holds the stick")
    await bob.client.raise_hand()
    await all_see(everyone, lambda p: p.state.queue == (bob.id,), "bob's hand")
    await carol.client.raise_hand()
    await all_see(everyone, lambda p: p.state.queue == (bob.id, carol.id), "carol's hand")
    secret = "the thing I have never told anyone 7f3a9c"
    await alice.client.share(secret)
    await all_see(everyone, lambda p: secret in p.shares(), "the share")
    await carol.client.signal(SignalKind.CHECK_IN)
    await fran.wait(lambda: fran.state.signals == (carol.id,), "carol's signal")
    await fran.client.pause("Let's take a breath")
    await all_see(everyone, lambda p: p.state.pause is not None, "the pause")
    ids = {p.client.name: p.id for p in everyone}
    seen = {p.client.name: len(p.updates) for p in everyone}

    first.proc.send_signal(signal.SIGKILL)
    assert await asyncio.wait_for(first.proc.wait(), TIMEOUT) == -signal.SIGKILL
    await all_see(everyone, lambda p: p.client.status is Status.RECONNECTING, "reconnecting")
    on_disk = stored_bytes(data)
    assert b"alice" in on_disk, "the circle was not stored (or not where this test looks)"
    assert secret.encode() not in on_disk
    store = Store(data)
    # The circle comes back from the journal's records, not only a whole snapshot.
    assert store.journal_size(ROOM) > 0
    store.close()

    second = await servers.start(data, port=first.port)
    assert second.port == first.port
    await all_see(everyone, lambda p: settled_back(p, 4), "everyone back and present")
    for p in everyone:
        assert p.id == ids[p.client.name], "a member lost their identity"
        # A new relay has no log to replay, so each client was told of the gap.
        later = p.updates[seen[p.client.name] :]
        assert [u.gap for u in later if isinstance(u, Resynced)] == [True]
        assert p.state.holder == alice.id
        assert p.state.queue == (bob.id, carol.id)
        assert p.state.pause is not None
        assert (p.state.pause.by, p.state.pause.message) == (fran.id, "Let's take a breath")
        assert p.shares() == [secret]  # nothing said was lost or replayed twice
    # Carol still waits for an answer; only she and the facilitator know it.
    assert fran.state.signals == carol.state.signals == (carol.id,)
    assert alice.state.signals == bob.state.signals == ()

    # Removal outlives the relay, for the rest of this meeting.
    with pytest.raises(JoinRefused) as refused:
        await CircleClient(second.url, name="Mallory").connect()
    assert refused.value.code == "removed"

    # The restored circle is live: resume, and alice goes on.
    await fran.client.resume()
    again = "and after the restart 51be"
    await alice.client.share(again)
    await all_see(everyone, lambda p: again in p.shares(), "the share after the restart")
    await fran.client.pause("checking the disk")
    await all_see(everyone, lambda p: p.state.pause is not None, "another structural save")
    on_disk = stored_bytes(data)
    assert b"alice" in on_disk
    assert secret.encode() not in on_disk and again.encode() not in on_disk


@pytest.mark.timeout(60)
async def test_sigterm_stops_cleanly_and_members_wait_to_resume(
    tmp_path: Path, join: JoinFn, servers: Servers
) -> None:
    data = tmp_path / "data"
    key = add_room(data)
    served = await servers.start(data)
    fran = await join(served.url, "Fran", key=key)
    alice = await join(served.url, "alice")
    await all_see([fran, alice], lambda p: len(p.state.members) == 2, "both seated")

    served.proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(served.proc.wait(), TIMEOUT) == 0
    await all_see([fran, alice], lambda p: p.client.status is Status.RECONNECTING, "reconnecting")
    for p in (fran, alice):
        assert p.client._ws is not None and p.client._ws.close_code == 1001
        statuses = [u.status for u in p.updates if isinstance(u, StatusChanged)]
        assert Status.CLOSED not in statuses
    assert served.reader is not None
    await asyncio.wait_for(served.reader, TIMEOUT)
    assert "Circle relay stopped." in served.lines

    # The next relay on the same data directory takes them back.
    again = await servers.start(data, port=served.port)
    await all_see([fran, alice], lambda p: settled_back(p, 2), "both back")
    assert again.port == served.port


async def test_every_change_is_saved_before_anyone_hears_of_it(
    relay: RunningRelay, join: JoinFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a SIGKILL can undo must never have reached a member.

    The test above kills the relay as soon as members see the pause; this one
    checks the same promise deterministically, at the moment each event is sent.
    """
    room, store = relay.room, relay.relay.store
    told_before_saved: list[str] = []
    newest = 0
    send = feed.broadcast

    def watched(connections: Any, message: bytes, *args: Any, **kwargs: Any) -> None:
        nonlocal newest
        frame = decode(message)
        if isinstance(frame, EventFrame) and frame.seq > newest:
            newest = frame.seq
            if not isinstance(frame.event, (Shared, MeTooSet, MeTooCount)):
                saved = store.load_circle(ROOM)
                if saved is None or saved.state != room.state:
                    told_before_saved.append(type(frame.event).__name__)
        send(connections, message, *args, **kwargs)

    monkeypatch.setattr(feed, "broadcast", watched)
    fran = await join(relay.url, "Fran", key=relay.key)
    alice = await join(relay.url, "alice")
    bob = await join(relay.url, "bob")
    await alice.client.raise_hand()
    await bob.client.raise_hand()
    await all_see([fran, bob], lambda p: p.state.queue == (bob.id,), "bob's hand")
    await alice.client.yield_stick()
    await alice.client.signal(SignalKind.CHECK_IN)  # Who waits for an answer is saved too.
    await fran.wait(lambda: fran.state.signals == (alice.id,), "alice's signal")
    await fran.client.ack_signal(alice.id)
    await fran.client.pause()
    await fran.client.lock()
    await fran.client.remove(bob.id)
    await fran.wait(lambda: bob.id not in fran.state.members, "bob removed")
    assert newest == room.seq, "the relay no longer sends through feed.broadcast"
    assert told_before_saved == []

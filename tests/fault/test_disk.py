"""Issue 11, points 1 and 8: a disk that fills up mid-meeting, and a data directory unfit to start.

The disk fills by injection: ``fill_disk`` puts a stand-in in front of the
store's SQLite connection that lets ``n`` more writes through, then fails
every one with SQLite's own "database or disk is full" (a tmpfs of 1 MB does
the same for real, but CI may not mount one).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from circle_room.protocol import PROTOCOL_VERSIONS
from circle_room.protocol.codec import decode, encode
from circle_room.protocol.messages import (
    EventFrame,
    Greeting,
    HandLowered,
    HandRaised,
    Hello,
    Welcome,
)
from circle_room.protocol.model import Member, RoomState, Settings
from circle_room.server.store import Store
from circle_room.tui.client.connection import Status, StatusChanged
from tests.fault.support import as_logged, expected_events, new_client, serve_argv, start_relay
from tests.server.support import (
    TIMEOUT,
    JoinFn,
    MakeRelay,
    Peer,
    all_see,
    assert_same_room,
)

pytestmark = pytest.mark.fault

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class FullDisk:
    """A SQLite connection on a disk that has room for ``room`` more writes."""

    def __init__(self, db: sqlite3.Connection, room: int) -> None:
        self._db = db
        self.room = room
        self.refused = 0

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql.lstrip().split(None, 1)[0].upper() in WRITES:
            if self.room <= 0:
                self.refused += 1
                raise sqlite3.OperationalError("database or disk is full")
            self.room -= 1
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def fill_disk(store: Store, monkeypatch: pytest.MonkeyPatch, room: int = 0) -> FullDisk:
    """From now on ``store`` can write ``room`` more times; then the disk is full."""
    full = FullDisk(store._db, room)
    monkeypatch.setattr(store, "_db", full)
    return full


def connected_all_along(peer: Peer) -> bool:
    statuses = [u.status for u in peer.updates if isinstance(u, StatusChanged)]
    return statuses == [Status.CONNECTED]


async def test_a_setting_changed_on_a_full_disk_leaves_nobody_out_of_step(
    make_relay: MakeRelay, join: JoinFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = await start_relay(make_relay)
    fran = await join(running.url, "Fran", key=running.key)
    alice = await join(running.url, "alice")
    bob = await join(running.url, "bob")
    present = [fran, alice, bob]
    joined_at = {p.id: p.welcome.seq for p in present}
    full = fill_disk(running.relay.store, monkeypatch)

    await fran.client.change_settings(Settings(share_limit=300))
    await fran.wait(
        lambda: any(e.ref for e in fran.errors()) or fran.state.settings.share_limit == 300,
        "the settings change answered",
    )
    full.room = 1_000  # The host frees some space; the meeting goes on.
    await alice.client.raise_hand()  # Something after it, so a gap would show.
    await all_see(present, lambda p: p.state.holder == alice.id, "alice holds the stick")
    dan = await join(running.url, "dan")  # A late joiner sees the room as it is.
    await all_see(present, lambda p: dan.id in p.state.members, "dan arrives")

    assert full.refused > 0, "the disk never filled: this test proves nothing"
    room = running.room
    for peer in [*present, dan]:
        assert peer.state.settings == dan.state.settings, f"{peer!r} is out of step"
        assert_same_room(peer, room)
    for peer in present:
        want = expected_events(room, peer.id, joined_at[peer.id])
        got = as_logged([(u.seq, u.event) for u in peer.received()], want)
        assert got == want, f"{peer!r} has a gap"
        assert connected_all_along(peer), f"{peer!r} lost its connection"
    settings_refused = [e for e in fran.errors() if e.ref]
    if settings_refused:  # Not decided: a clear error, and the room goes on as before.
        assert dan.state.settings == Settings()


@pytest.fixture
async def gappy_relay() -> AsyncIterator[tuple[str, asyncio.Queue[Hello]]]:
    """A fake relay: welcomes at seq 3, sends seq 4, then seq 6 (5 is lost); records hellos.

    Its ``Welcome`` says ``gapless``: it sends every seq, so a gap is a loss. (From a
    relay that does not say so, a gap is an event addressed to others: see
    ``tests/tui/client/test_model_gaps.py``.)
    """
    hellos: asyncio.Queue[Hello] = asyncio.Queue()
    me = Member(1, "alice")
    state = RoomState(members={1: me})

    async def handler(ws: ServerConnection) -> None:
        greeting = Greeting(PROTOCOL_VERSIONS, "tuesday", (), needs_passcode=False)
        with contextlib.suppress(ConnectionClosed):
            await ws.send(encode(greeting))
            hello = decode(await ws.recv())
            assert isinstance(hello, Hello)
            hellos.put_nowait(hello)
            if hello.resume is None:
                welcome = Welcome(hello.version, 1, "token", "epoch", 3, False, state, gapless=True)
                await ws.send(encode(welcome))
                await ws.send(encode(EventFrame(4, HandRaised(1))))
                await ws.send(encode(EventFrame(6, HandLowered(1, 1))))
            await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/tuesday", hellos


async def test_a_client_that_sees_a_gap_in_seq_resyncs(
    gappy_relay: tuple[str, asyncio.Queue[Hello]],
) -> None:
    url, hellos = gappy_relay
    client = new_client(url, "alice")
    await client.connect()
    first = await asyncio.wait_for(hellos.get(), TIMEOUT)
    assert first.resume is None
    # Whichever comes first: a resume, or seq 6 applied over the gap.
    again = asyncio.ensure_future(hellos.get())
    try:
        applied = asyncio.ensure_future(client.wait_until(lambda c: c.seq >= 6, TIMEOUT))
        await asyncio.wait([again, applied], timeout=TIMEOUT, return_when="FIRST_COMPLETED")
        applied.cancel()
        assert again.done(), f"carried on past the gap, at seq {client.seq}"
        resume = again.result().resume
        assert resume is not None and resume.seq == 4, again.result()
    finally:
        again.cancel()
        await client.close()


# --- point 8: a data directory the relay cannot use ----------------------------------------


def unusable(kind: str, where: Path) -> Path:
    if kind == "a-file":
        where.write_text("not a directory")
    elif kind == "database-is-a-directory":
        (where / "circle.sqlite3").mkdir(parents=True)
    elif kind == "not-a-database":
        where.mkdir()
        (where / "circle.sqlite3").write_bytes(b"this is not SQLite " * 300)
    return where


@pytest.mark.parametrize("kind", ["a-file", "database-is-a-directory", "not-a-database"])
def test_starting_on_an_unusable_data_dir_says_so_in_one_sentence(
    kind: str, tmp_path: Path
) -> None:
    data = unusable(kind, tmp_path / "data")
    result = subprocess.run(
        serve_argv(data), capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(data) in lines[0], result.stderr

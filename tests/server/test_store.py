"""The SQLite store: rooms, hashed secrets, settings and circle snapshots."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import msgpack
import pytest

from circle_room.protocol.codec import encode_state
from circle_room.protocol.messages import Leave
from circle_room.protocol.model import (
    Member,
    Pause,
    Presence,
    Role,
    RoomState,
    Round,
    Settings,
    Turn,
    Via,
)
from circle_room.protocol.skeleton import looks
from circle_room.server.data_dir import DataDirError
from circle_room.server.snapshot import CircleSnapshot
from circle_room.server.store import (
    Store,
    StoreError,
    check_passcode,
    check_secret,
    hash_passcode,
    hash_secret,
)
from circle_room.tui.client.connection import Status
from tests.server.support import JoinFn, RunningRelay, all_see, settle


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "data")
    yield opened
    opened.close()


def on_disk(store: Store) -> bytes:
    """The database file and its WAL: whatever SQLite has written so far."""
    return b"".join(p.read_bytes() for p in sorted(store.path.parent.iterdir()) if p.is_file())


@pytest.mark.parametrize(
    "name",
    ["", "Tuesday", "-tuesday", "_x", "tues day", "a/b", "caf\u00e9", "x" * 41, "room\n"],
)
def test_add_room_rejects_bad_names(store: Store, name: str) -> None:
    with pytest.raises(StoreError):
        store.add_room(name)
    assert store.rooms() == []


@pytest.mark.parametrize("name", ["t", "tuesday-evening_2", "0day", "x" * 40])
def test_add_room_accepts_plain_names(store: Store, name: str) -> None:
    store.add_room(name)
    assert [r.name for r in store.rooms()] == [name]


def test_add_room_refuses_a_duplicate_and_keeps_the_first(store: Store) -> None:
    key = store.add_room("tuesday", "first")
    with pytest.raises(StoreError, match="already exists"):
        store.add_room("tuesday", "second")
    record = store.room("tuesday")
    assert record is not None
    assert check_secret(key, record.key_hash)
    assert check_passcode("first", record.passcode_hash)
    assert not check_passcode("second", record.passcode_hash)


def test_secrets_are_stored_hashed(store: Store) -> None:
    passcode = "correct horse battery"
    key = store.add_room("tuesday", passcode)
    record = store.room("tuesday")
    assert record is not None and record.needs_passcode
    assert record.passcode_hash.startswith("scrypt$")
    assert record.key_hash == hash_secret(key)
    data = on_disk(store)
    assert record.key_hash.encode() in data, "looking in the wrong place"
    assert passcode.encode() not in data
    assert key.encode() not in data
    assert check_passcode(passcode, record.passcode_hash)
    assert not check_passcode(passcode.upper(), record.passcode_hash)
    assert check_secret(key, record.key_hash)
    assert not check_secret("", record.key_hash)


def test_a_room_without_passcode_accepts_an_empty_one(store: Store) -> None:
    store.add_room("open")
    record = store.room("open")
    assert record is not None and not record.needs_passcode
    assert check_passcode("", record.passcode_hash)
    assert not check_passcode("", hash_passcode("something"))
    assert not check_passcode("x", "not$a$valid$hash$at$all")


def test_a_new_key_replaces_the_old_one(store: Store) -> None:
    old = store.add_room("tuesday")
    new = store.new_key("tuesday")
    record = store.room("tuesday")
    assert record is not None
    assert check_secret(new, record.key_hash) and not check_secret(old, record.key_hash)


def test_settings_survive_reopening(tmp_path: Path) -> None:
    settings = Settings(share_limit=300, waiting_room=True, agreements=("Be kind.",))
    first = Store(tmp_path / "data")
    first.add_room("tuesday")
    first.save_settings("tuesday", settings)
    first.close()
    second = Store(tmp_path / "data")
    try:
        record = second.room("tuesday")
        assert record is not None and record.settings == settings
    finally:
        second.close()


def busy_state() -> RoomState:
    members = {
        1: Member(1, "Fran", Role.FACILITATOR),
        3: Member(3, "alice"),
        4: Member(4, "bob", Role.COFACILITATOR, Presence.AWAY),
        2: Member(2, "Zoë 🌱", presence=Presence.WAITING),
    }
    return RoomState(
        members=members,
        queue=(4, 1),
        turn=Turn(7, 3, Via.ROUND, 1700000000.25, 12.5, None, 2, 3, frozenset({1, 4})),
        pause=Pause(1, "Let's take a breath", 1700000010.5),
        round=Round(1, (4, 1)),
        locked=True,
        settings=Settings(share_limit=300, show_metoo_names=True, agreements=("Be kind.",)),
        next_member_id=5,
        next_turn_id=8,
    )


def test_circle_snapshot_round_trip(store: Store) -> None:
    store.add_room("tuesday")
    assert store.load_circle("tuesday") is None
    state = replace(busy_state(), removed=looks("Mallory"))
    snapshot = CircleSnapshot(state, {1: "a" * 64, 3: "b" * 64})
    unpacked = CircleSnapshot.unpack(snapshot.pack())
    assert unpacked == snapshot
    assert unpacked.state.removed == looks("Mallory") == {"rnallory"}
    assert list(unpacked.state.members) == [1, 3, 4, 2], "circle order is kept"
    store.save_circle("tuesday", snapshot)
    assert store.load_circle("tuesday") == snapshot
    store.clear_circle("tuesday")
    assert store.load_circle("tuesday") is None


def test_a_snapshot_saved_before_removed_names_were_state_still_reads() -> None:
    """Removed names sat beside the state in a snapshot; they still do, so old files read."""
    state = busy_state()
    old_format = msgpack.packb(
        [encode_state(state), [[1, "a" * 64]], ["mallory", "zoë"]], use_bin_type=True
    )
    unpacked = CircleSnapshot.unpack(old_format)
    # Casefolded names then, skeletons now: read, they are made skeletons.
    removed = looks("mallory") | looks("zoë")
    assert unpacked.state == replace(state, removed=removed)
    assert unpacked.token_hashes == {1: "a" * 64}
    assert unpacked.pack() == msgpack.packb(
        [encode_state(state), [[1, "a" * 64]], sorted(removed)], use_bin_type=True
    )


def test_a_meeting_and_its_settings_are_saved_together_or_not_at_all(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.add_room("tuesday")
    snapshot = CircleSnapshot(busy_state(), {1: "a" * 64})
    settings = Settings(share_limit=300, agreements=())
    store.save_meeting("tuesday", snapshot, settings)
    record = store.room("tuesday")
    assert record is not None and record.settings == settings
    assert store.load_circle("tuesday") == snapshot

    def broken(room: str, snapshot: CircleSnapshot) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store, "save_circle", broken)
    with pytest.raises(DataDirError) as failed:
        store.save_meeting("tuesday", snapshot, Settings(share_limit=60))
    assert isinstance(failed.value.__cause__, sqlite3.OperationalError)
    record = store.room("tuesday")
    assert record is not None and record.settings == settings, "the settings were rolled back"
    monkeypatch.undo()
    store.save_meeting("tuesday", None)
    assert store.load_circle("tuesday") is None
    record = store.room("tuesday")
    assert record is not None and record.settings == settings


async def test_what_a_live_meeting_stores(relay: RunningRelay, join: JoinFn) -> None:
    store = relay.relay.store
    fran = await join(relay.url, "Fran", key=relay.key)
    alice = await join(relay.url, "alice")
    await alice.client.raise_hand()
    secret = "words that stay in the room 93e1"
    await alice.client.share(secret)
    await fran.wait(lambda: secret in fran.shares(), "the share")
    await fran.client.pause()
    await all_see([fran, alice], lambda p: p.state.pause is not None, "the pause")
    await settle(relay.room, [fran, alice])
    snapshot = store.load_circle("tuesday")
    assert snapshot is not None
    assert snapshot.state == relay.room.state
    assert set(snapshot.token_hashes) == {fran.id, alice.id}
    assert fran.client._token and fran.client._token.encode() not in on_disk(store)
    assert secret.encode() not in on_disk(store)

    # The meeting ends when the last person leaves: nothing is kept for it. The
    # relay closes a leaver's connection only after it has saved the change.
    for peer in (alice, fran):
        await peer.client.send(Leave())
        await peer.wait(lambda p=peer: p.client.status is Status.CLOSED, "closed")
        assert peer.client._ws is not None and peer.client._ws.close_code == 1000
    assert store.load_circle("tuesday") is None

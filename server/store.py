"""SQLite storage: rooms, secrets (hashed), settings, circle snapshots and their journal.

What is stored is structural only. Share text is never passed to this module,
so it cannot reach the disk; ``tests/server/test_store.py`` checks the file.
A live circle is a base snapshot plus the journal records saved after it
(``server.journal``): ``load_circle`` replays them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from circle_room.protocol.codec import decode_value, encode_value
from circle_room.protocol.errors import CircleError
from circle_room.protocol.model import Settings
from circle_room.server.data_dir import data_dir_error
from circle_room.server.journal import replay
from circle_room.server.snapshot import CircleSnapshot

ROOM_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
"""Room names appear in URLs and as SSH user names, so they stay plain."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (
    name TEXT PRIMARY KEY,
    passcode_hash TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    settings BLOB NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS circles (
    room TEXT PRIMARY KEY REFERENCES rooms(name) ON DELETE CASCADE,
    snapshot BLOB NOT NULL,
    saved_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY,
    room TEXT NOT NULL REFERENCES circles(room) ON DELETE CASCADE,
    record BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS journal_room ON journal(room, id);
"""


class StoreError(CircleError):
    """A room operation that cannot be done (bad name, duplicate, unknown)."""


def default_data_dir() -> Path:
    """The per-user data directory, e.g. ~/.local/share/circle on Linux."""
    import platformdirs

    return Path(platformdirs.user_data_dir("circle", appauthor=False))


def hash_passcode(passcode: str, *, salt: bytes | None = None) -> str:
    """A slow salted hash: passcodes are short and must survive a leaked file."""
    if not passcode:
        return ""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(passcode.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${salt.hex()}${digest.hex()}"


def check_passcode(passcode: str, stored: str) -> bool:
    """True when ``passcode`` matches the hash; every room without one accepts ''."""
    if not stored:
        return True
    try:
        _, n, r, p, salt_hex, digest_hex = stored.split("$")
        salt = bytes.fromhex(salt_hex)
        digest = hashlib.scrypt(
            passcode.encode(), salt=salt, n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


def hash_secret(secret: str) -> str:
    """A fast hash for long random secrets (facilitator keys, resume tokens)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def check_secret(secret: str, stored: str) -> bool:
    return bool(secret) and hmac.compare_digest(hash_secret(secret), stored)


def new_secret() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class RoomRecord:
    name: str
    passcode_hash: str
    key_hash: str
    settings: Settings

    @property
    def needs_passcode(self) -> bool:
        return bool(self.passcode_hash)


class Store:
    """One SQLite file in the data directory. Use from one thread.

    A data directory that cannot be written (full, read-only, not a folder)
    raises ``DataDirError`` when the store opens, and from any method that
    writes: never a bare ``sqlite3`` or ``OSError``.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "circle.sqlite3"
        with self._writing():
            data_dir.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None)
            try:
                self._open()
            except BaseException:
                self._db.close()
                raise

    def _open(self) -> None:
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        # Write once now: a folder that cannot be saved to is found at start-up,
        # not by the first member's join (the schema above may write nothing).
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        self._db.execute(f"PRAGMA user_version = {int(version)}")
        # The file holds secrets' hashes: keep it to its owner.
        os.chmod(self.path, 0o600)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Turn the disk's failures into ``DataDirError``."""
        try:
            yield
        except sqlite3.IntegrityError:
            raise  # About the data, not the disk: the caller's to explain.
        except (sqlite3.Error, OSError) as exc:
            raise data_dir_error(self.path.parent, exc) from exc

    def _execute(self, sql: str, parameters: tuple[object, ...] = ()) -> None:
        with self._writing():
            self._db.execute(sql, parameters)

    def close(self) -> None:
        self._db.close()

    def add_room(self, name: str, passcode: str = "", settings: Settings | None = None) -> str:
        """Create a room and return its facilitator key (shown once, stored hashed)."""
        if not ROOM_NAME.fullmatch(name):
            raise StoreError(
                "Room names use lowercase letters, digits, '-' and '_' "
                "(at most 40, starting with a letter or digit)."
            )
        key = new_secret()
        try:
            self._execute(
                "INSERT INTO rooms VALUES (?, ?, ?, ?, ?)",
                (
                    name,
                    hash_passcode(passcode),
                    hash_secret(key),
                    encode_value(settings or Settings()),
                    time.time(),
                ),
            )
        except sqlite3.IntegrityError:
            raise StoreError(f"A room called {name!r} already exists.") from None
        return key

    def set_passcode(self, name: str, passcode: str) -> None:
        self._execute(
            "UPDATE rooms SET passcode_hash = ? WHERE name = ?", (hash_passcode(passcode), name)
        )

    def new_key(self, name: str) -> str:
        """Replace the facilitator key (the old one stops working)."""
        key = new_secret()
        self._execute("UPDATE rooms SET key_hash = ? WHERE name = ?", (hash_secret(key), name))
        return key

    def room(self, name: str) -> RoomRecord | None:
        row = self._db.execute(
            "SELECT name, passcode_hash, key_hash, settings FROM rooms WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            return None
        return RoomRecord(row[0], row[1], row[2], decode_value(Settings, row[3]))

    def rooms(self) -> list[RoomRecord]:
        names = [r[0] for r in self._db.execute("SELECT name FROM rooms ORDER BY name")]
        return [r for r in (self.room(n) for n in names) if r is not None]

    def save_settings(self, name: str, settings: Settings) -> None:
        self._execute(
            "UPDATE rooms SET settings = ? WHERE name = ?", (encode_value(settings), name)
        )

    def save_circle(self, room: str, snapshot: CircleSnapshot) -> None:
        """Make ``snapshot`` the room's whole circle: the journal after the old one goes."""
        self._execute("DELETE FROM journal WHERE room = ?", (room,))
        self._execute(
            "INSERT OR REPLACE INTO circles VALUES (?, ?, ?)",
            (room, snapshot.pack(), time.time()),
        )

    def append_record(self, room: str, record: bytes) -> None:
        """Add a packed ``journal.Record`` after the room's circle (``save_circle`` first)."""
        self._execute("INSERT INTO journal (room, record) VALUES (?, ?)", (room, record))

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """All of the block's writes or, if it raises, none; no transaction left open."""
        with self._writing():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                # SQLite may have rolled back already (a full disk can do that).
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def save_meeting(
        self,
        room: str,
        circle: CircleSnapshot | None,
        settings: Settings | None = None,
        record: bytes | None = None,
    ) -> None:
        """Save the live circle (or clear it, if None) and new settings in one transaction.

        With ``record`` (a packed ``journal.Record``), append it to the circle
        already stored instead of writing ``circle``: a few hundred bytes
        whatever the room's size. The caller knows the stored circle is the
        one ``record`` follows from (``server.saving``).

        Either all of it is stored or, if this raises (``DataDirError`` when
        the disk fails), none: a relay that restarts never finds settings from
        a change its circle does not know. A failed save leaves no
        transaction open, so the next one can succeed once there is room.
        """
        with self._transaction():
            if settings is not None:
                self.save_settings(room, settings)
            if record is not None:
                self.append_record(room, record)
            elif circle is None:
                self.clear_circle(room)
            else:
                self.save_circle(room, circle)

    def load_circle(self, room: str) -> CircleSnapshot | None:
        """The room's saved circle with its journal replayed, or None if there is none."""
        row = self._db.execute("SELECT snapshot FROM circles WHERE room = ?", (room,)).fetchone()
        if row is None:
            return None
        records = self._db.execute("SELECT record FROM journal WHERE room = ? ORDER BY id", (room,))
        return replay(CircleSnapshot.unpack(row[0]), (r[0] for r in records), room)

    def journal_size(self, room: str) -> int:
        """How many records follow the room's saved circle."""
        row = self._db.execute("SELECT count(*) FROM journal WHERE room = ?", (room,)).fetchone()
        return int(row[0])

    def clear_circle(self, room: str) -> None:
        self._execute("DELETE FROM journal WHERE room = ?", (room,))
        self._execute("DELETE FROM circles WHERE room = ?", (room,))

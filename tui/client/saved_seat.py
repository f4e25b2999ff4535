"""A seat kept on disk, so a member whose client was closed can take it back.

The relay keeps an away member's seat (name, hand, stick) for the grace
period, and the seat's token is what takes it back. ``circle join`` keeps
that token here while it runs, so a client that was killed, or whose terminal
or laptop was shut, can be started again and resume its seat instead of
having to "join under another name". The seat is forgotten when the member
leaves (quietly or not), is removed, or the meeting ends.

The token takes the seat, so it is kept like a secret:

- only the relay URL, the room, the name, the member id, the token, the epoch
  and seq of the last welcome, and when it was written; never a passcode,
  never a share;
- one file per seat, mode 0600, in a directory of mode 0700, written
  atomically (a new file renamed over the old one), so a crash mid-write
  leaves the old seat or none, never half of one;
- a running client holds an advisory lock on its seat (``flock`` on a sibling
  ``.lock`` file), which the kernel lets go however the process ends. A new
  client takes back only a seat nobody holds, so two clients of one user in
  one room never take each other's seat.

Nothing here is needed to join: when the directory cannot be used, seats are
simply not kept.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs

from circle_room.protocol.handoff import FRESH_EPOCH
from circle_room.protocol.messages import Resume

STATE_DIR_ENV = "CIRCLE_STATE_DIR"
"""Overrides where ``circle`` keeps its state (tests, or a private place of your choosing)."""
SEATS = "seats"
STALE_AFTER = 24 * 3600.0
"""Seconds after which a kept seat is thrown away unread: no meeting keeps a seat that long."""


def state_dir(given: str | None = None) -> Path:
    """Where ``circle`` keeps its state: ``given``, else ``$CIRCLE_STATE_DIR``, else the
    user's state directory (``~/.local/state/circle`` on Linux)."""
    chosen = given or os.environ.get(STATE_DIR_ENV, "")
    return Path(chosen) if chosen else Path(platformdirs.user_state_dir("circle", appauthor=False))


@dataclass(frozen=True)
class SavedSeat:
    """What it takes to ask for a seat back, and nothing more."""

    url: str
    """The relay URL, normalised (``ws://host:port/room``)."""
    room: str
    name: str
    """The name the room knows the member by."""
    member_id: int
    token: str
    """The secret from the last ``Welcome``: it takes the seat back."""
    epoch: str
    seq: int
    """The room's epoch and seq at that welcome."""
    saved_at: float
    """When this was written (seconds since the Unix epoch)."""

    def resume(self) -> Resume:
        """The ``Resume`` that asks for the seat and the room as it is now.

        The client kept no copy of the room, so what happened while it was
        gone cannot be replayed onto one: the relay sends the room fresh.
        """
        return Resume(self.token, FRESH_EPOCH, 0)

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> SavedSeat | None:
        """The seat in ``data``, or None if it is not one (a file from elsewhere, or torn)."""
        try:
            found = json.loads(data)
        except ValueError:
            return None
        if not isinstance(found, dict):
            return None
        texts = ("url", "room", "name", "token", "epoch")
        numbers: dict[str, type | tuple[type, ...]] = {
            "member_id": int,
            "seq": int,
            "saved_at": (int, float),
        }
        if not all(isinstance(found.get(key), str) for key in texts):
            return None
        if not (found["url"] and found["name"] and found["token"]):
            return None
        for key, kind in numbers.items():
            value = found.get(key)
            if isinstance(value, bool) or not isinstance(value, kind):
                return None
        return cls(
            url=found["url"],
            room=found["room"],
            name=found["name"],
            member_id=found["member_id"],
            token=found["token"],
            epoch=found["epoch"],
            seq=found["seq"],
            saved_at=float(found["saved_at"]),
        )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _stem(url: str, name: str) -> str:
    """The file name of a seat: its room's URL, then its name, neither readable."""
    return f"{_digest(url)}-{_digest(name.casefold())}"


def _lock(path: Path) -> int | None:
    """An exclusive lock on ``path`` (made if missing), or None if another holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # Locked a file that was unlinked (forgotten) while we opened it: not the seat's.
        if os.fstat(fd).st_ino != os.stat(path).st_ino:
            raise OSError("the lock file was replaced")
    except OSError:
        os.close(fd)
        return None
    return fd


def _unlock(fd: int | None) -> None:
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


class HeldSeat:
    """One client's hold on its seat file: ``saved`` to resume from, ``save`` on each
    welcome, ``forget`` when the meeting is over for it, ``release`` on exit.

    A hold without a directory keeps nothing (the state directory was unusable).
    """

    def __init__(
        self,
        directory: Path | None,
        saved: SavedSeat | None = None,
        *,
        stem: str = "",
        lock: int | None = None,
    ) -> None:
        self._directory = directory
        self._saved = saved
        self._stem = stem
        self._lock = lock

    @property
    def saved(self) -> SavedSeat | None:
        """The seat kept by an earlier client (or by this one since), if any."""
        return self._saved

    def save(self, seat: SavedSeat) -> None:
        """Keep ``seat`` (replacing what was kept), unless another client holds it."""
        directory = self._directory
        if directory is None:
            return
        stem = _stem(seat.url, seat.name)
        with contextlib.suppress(OSError):
            if stem != self._stem or self._lock is None:
                lock = _lock(directory / f"{stem}.lock")
                if lock is None:
                    return  # A running client holds that seat: it is theirs to keep.
                self._remove_files()  # A seat renamed: its old file goes.
                _unlock(self._lock)
                self._stem, self._lock = stem, lock
            _write_atomically(directory / f"{stem}.json", seat.to_bytes())
            self._saved = seat

    def forget(self) -> None:
        """Remove the kept seat: the member left, was removed, or the meeting ended."""
        self._saved = None
        self._remove_files()
        self.release()

    def release(self) -> None:
        """Let go of the seat and keep its file (this client is ending, the seat is not)."""
        _unlock(self._lock)
        self._lock = None
        self._stem = ""

    def _remove_files(self) -> None:
        if self._directory is None or not self._stem or self._lock is None:
            return
        for suffix in (".json", ".lock"):
            with contextlib.suppress(OSError):
                (self._directory / f"{self._stem}{suffix}").unlink()


class SeatShelf:
    """The seats this user's clients keep, one file each, in ``directory/seats``."""

    def __init__(self, directory: Path, clock: Callable[[], float] = time.time) -> None:
        self.directory = directory / SEATS
        self._clock = clock

    def take(self, url: str, name: str = "") -> HeldSeat:
        """Hold the newest seat kept for ``url`` (named ``name``, if given) that no
        running client holds, or an empty hold to keep this client's seat in."""
        try:
            directory = self._open()
        except OSError:
            return HeldSeat(None)
        best: tuple[SavedSeat, str, int] | None = None
        for path in sorted(directory.glob(f"{_digest(url)}-*.json")):
            stem = path.name.removesuffix(".json")
            lock = _lock(directory / f"{stem}.lock")
            if lock is None:
                continue  # In use by a running client.
            seat = _read(path)
            if seat is None or seat.url != url or self._clock() - seat.saved_at > STALE_AFTER:
                HeldSeat(directory, stem=stem, lock=lock).forget()
                continue
            if (name and seat.name.casefold() != name.casefold()) or (
                best is not None and best[0].saved_at >= seat.saved_at
            ):
                _unlock(lock)
                continue
            if best is not None:
                _unlock(best[2])
            best = (seat, stem, lock)
        if best is None:
            return HeldSeat(directory)
        seat, stem, lock = best
        return HeldSeat(directory, seat, stem=stem, lock=lock)

    def _open(self) -> Path:
        base = self.directory.parent
        if not base.exists():
            base.mkdir(mode=0o700, parents=True)
        self.directory.mkdir(mode=0o700, exist_ok=True)
        os.chmod(self.directory, 0o700)  # Whatever the umask made of it.
        return self.directory


def _read(path: Path) -> SavedSeat | None:
    try:
        return SavedSeat.from_bytes(path.read_bytes())
    except OSError:
        return None


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all; the file is 0600 from its first byte."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise

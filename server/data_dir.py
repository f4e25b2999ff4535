"""What is wrong with a data directory that cannot be written, in one sentence.

The store is the relay's only disk I/O, and the disk can fail under it: full,
mounted read-only, the wrong owner. ``DataDirError`` carries what went wrong
as a ``Problem`` (for the relay, which refuses a change it could not save with
``not_saved``) and as a sentence saying what to do (for ``circle serve`` and
``circle host``, which print it and exit with status 2 instead of a
traceback). The problem is read from the file system itself where it can be
(``statvfs``), and from the error's code otherwise, never from its wording.
"""

from __future__ import annotations

import enum
import errno
import os
import sqlite3
from pathlib import Path

from circle_room.protocol.errors import CircleError

_SQLITE_FULL = 13
_SQLITE_READONLY = 8


class Problem(enum.Enum):
    FULL = "full"
    """No space left (or the user's quota is used up)."""
    READ_ONLY = "read_only"
    """Mounted read-only, or not writable by this user."""
    UNUSABLE = "unusable"
    """Anything else: not a folder, an I/O error, a damaged database."""


_ADVICE = {
    Problem.FULL: "its disk is full; free some space or choose another folder with --data-dir",
    Problem.READ_ONLY: "it is read-only; make it writable or choose another folder with --data-dir",
    Problem.UNUSABLE: "{detail}; check it or choose another folder with --data-dir",
}


class DataDirError(CircleError):
    """The data directory cannot hold the relay's rooms: ``problem`` says why."""

    def __init__(self, path: Path, problem: Problem, detail: str = "") -> None:
        advice = _ADVICE[problem].format(detail=detail or "it cannot be used")
        super().__init__(f"Cannot use the data folder {path}: {advice}.")
        self.path = path
        self.problem = problem
        self.detail = detail
        """What the system said, for the relay's log."""


def data_dir_error(path: Path, exc: BaseException) -> DataDirError:
    """The ``DataDirError`` for ``exc`` (an ``OSError`` or ``sqlite3.Error``) raised on ``path``."""
    return DataDirError(path, problem_of(path, exc), _detail(exc))


def problem_of(path: Path, exc: BaseException) -> Problem:
    """Why writing under ``path`` failed with ``exc``."""
    found = _from_file_system(path)
    if found is not None:
        return found
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return Problem.FULL
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return Problem.READ_ONLY
    # ``sqlite_errorcode`` is new in Python 3.11; the extended code's low byte
    # is the primary one.
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(exc, sqlite3.Error) and isinstance(code, int):
        if code & 0xFF == _SQLITE_FULL:
            return Problem.FULL
        if code & 0xFF == _SQLITE_READONLY:
            return Problem.READ_ONLY
    return Problem.UNUSABLE


def _from_file_system(path: Path) -> Problem | None:
    """What the file system says of the nearest existing folder at or above ``path``."""
    folder = path
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    try:
        stat = os.statvfs(folder)
    except OSError:
        return None
    if stat.f_flag & os.ST_RDONLY:
        return Problem.READ_ONLY
    if stat.f_bavail == 0:
        return Problem.FULL
    if folder == path and not os.access(folder, os.W_OK | os.X_OK):
        return Problem.READ_ONLY
    return None


def _detail(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__

"""Passcodes found right, so the slow hash runs once per passcode, not once per join.

A room's passcode is stored as scrypt, slow on purpose. Every member who
joins (and every SSH login) gives the same passcode, and a meeting of a
hundred would otherwise spend a hundred scrypt runs on it, competing with
guessers for the few hashing slots ``server.guard`` allows. Both doors into a
room, the relay's ``Hello`` and the SSH gateway's login, share one cache.

An entry is an HMAC, under a key made fresh for each process, of the stored
hash and the passcode: never the passcode itself, useless to anyone without
the process's memory, and tied to the stored hash, so a changed passcode (or a
room made again) leaves the old one unknown. Only right passcodes are kept, so
the cache holds at most one entry per room passcode in use.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from circle_room.server.store import check_passcode


class PasscodeCache:
    """``check(passcode, stored)`` is ``store.check_passcode``, scrypt only the first time."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._right: set[bytes] = set()

    def check(self, passcode: str, stored: str) -> bool:
        """Whether ``passcode`` matches the hash ``stored``; slow unless known right.

        Safe to call from a worker thread (the guard runs it in one).
        """
        entry = self._entry(passcode, stored)
        if entry in self._right:
            return True
        if not check_passcode(passcode, stored):
            return False
        self._right.add(entry)
        return True

    def known(self, passcode: str, stored: str) -> bool:
        """Whether ``passcode`` was found right for ``stored`` before (no scrypt)."""
        return self._entry(passcode, stored) in self._right

    def _entry(self, passcode: str, stored: str) -> bytes:
        message = stored.encode() + b"\0" + passcode.encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def __len__(self) -> int:
        return len(self._right)

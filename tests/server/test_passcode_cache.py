"""One cache of right passcodes: scrypt once per passcode, for the relay and the SSH login."""

from __future__ import annotations

import pytest

from circle_room.server import passcode_cache
from circle_room.server.passcode_cache import PasscodeCache
from circle_room.server.store import hash_passcode


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The passcodes given to the slow check, in order."""
    seen: list[str] = []
    real = passcode_cache.check_passcode

    def counting(passcode: str, stored: str) -> bool:
        seen.append(passcode)
        return real(passcode, stored)

    monkeypatch.setattr(passcode_cache, "check_passcode", counting)
    return seen


def test_a_right_passcode_is_hashed_once(hashed: list[str]) -> None:
    cache, stored = PasscodeCache(), hash_passcode("blue kettle")
    assert all(cache.check("blue kettle", stored) for _ in range(5))
    assert hashed == ["blue kettle"]
    assert len(cache) == 1


def test_wrong_passcodes_are_hashed_every_time_and_not_kept(hashed: list[str]) -> None:
    cache, stored = PasscodeCache(), hash_passcode("blue kettle")
    assert not cache.check("teapot", stored)
    assert not cache.check("teapot", stored)
    assert hashed == ["teapot", "teapot"]
    assert len(cache) == 0


def test_a_passcode_is_right_only_for_the_hash_it_was_checked_against(hashed: list[str]) -> None:
    cache = PasscodeCache()
    before, after = hash_passcode("blue kettle"), hash_passcode("red kettle")
    assert cache.check("blue kettle", before)
    # The room's passcode changed (or the room was made again, with a new salt).
    assert not cache.check("blue kettle", after)
    assert cache.check("blue kettle", hash_passcode("blue kettle"))
    assert hashed == ["blue kettle", "blue kettle", "blue kettle"]


def test_an_open_room_takes_any_passcode() -> None:
    assert PasscodeCache().check("anything", "")


def test_entries_hold_no_passcode() -> None:
    cache = PasscodeCache()
    cache.check("blue kettle", hash_passcode("blue kettle"))
    [entry] = cache._right
    assert b"blue kettle" not in entry
    assert PasscodeCache()._entry("blue kettle", "x") != cache._entry("blue kettle", "x")

"""Guessing a room's secrets over real sockets: one budget per address, one per room (issue 11).

Connections come from several loopback addresses (127.0.0.x) so that the
per-address and the per-room budgets can be told apart, and through a
"proxy" that says who it forwards in ``X-Forwarded-For``.
"""

from __future__ import annotations

import asyncio

import pytest

from circle_room.server import passcode_cache
from circle_room.server.config import Rate, RelayConfig
from tests.server.support import MakeRelay, RunningRelay, hello

PASSCODE = "blue kettle"
CONFIG = RelayConfig(
    passcode_rate=Rate(burst=3, per_second=1 / 60),
    room_guess_rate=Rate(burst=7, per_second=1 / 60),
)


@pytest.fixture
async def relay(make_relay: MakeRelay) -> RunningRelay:
    return await make_relay(CONFIG, passcode=PASSCODE, tls=False)


async def test_members_joining_at_once_from_one_address_are_all_let_in(
    relay: RunningRelay, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[str] = []
    real = passcode_cache.check_passcode

    def counting(passcode: str, stored: str) -> bool:
        hashed.append(passcode)
        return real(passcode, stored)

    monkeypatch.setattr(passcode_cache, "check_passcode", counting)
    # Issue 11: behind one router (or the TLS proxy the README suggests), the
    # second of two right passcodes in flight got "too many wrong passcodes".
    names = [f"member {n}" for n in range(3 * int(CONFIG.passcode_rate.burst))]
    answers = await asyncio.gather(*(hello(relay.url, name, passcode=PASSCODE) for name in names))
    assert answers == ["welcome"] * len(names)
    assert hashed == [PASSCODE], "one guess, checked once"
    # Right answers cost nothing: the address still has its whole budget.
    for n in range(int(CONFIG.passcode_rate.burst)):
        assert await hello(relay.url, passcode=f"guess {n}") == "wrong_passcode"
    assert await hello(relay.url, passcode="one more") == "too_many_attempts"


async def test_facilitator_key_guesses_are_limited_and_share_the_budget(
    relay: RunningRelay,
) -> None:
    # Issue 11: facilitator-key guesses were not limited at all.
    assert await hello(relay.url, passcode="guess") == "wrong_passcode"
    assert await hello(relay.url, key="not the key") == "wrong_key"
    assert await hello(relay.url, key="nor this") == "wrong_key"
    assert await hello(relay.url, key="a third") == "too_many_attempts"
    assert await hello(relay.url, passcode=PASSCODE) == "too_many_attempts"
    # The host, from another address, still comes in with the key.
    assert await hello(relay.url, "Host", key=relay.key, source="127.0.0.2") == "welcome"


async def test_the_room_has_a_budget_of_its_own(relay: RunningRelay) -> None:
    # Issue 11: each door and address had its own limit and there was no overall cap.
    sources = [f"127.0.0.{n}" for n in range(2, 10)]
    answers = [await hello(relay.url, passcode=f"{s} guess", source=s) for s in sources]
    assert answers == ["wrong_passcode"] * 7 + ["too_many_attempts"]
    assert await hello(relay.url, passcode="fresh", source="127.0.0.99") == "too_many_attempts"
    # The key is no guess anyone can make: a used-up room does not keep its host out.
    assert await hello(relay.url, "Host", key=relay.key, source="127.0.0.99") == "welcome"


async def test_a_forwarded_address_counts_only_from_a_trusted_proxy(
    make_relay: MakeRelay,
) -> None:
    plain = await make_relay(CONFIG, passcode=PASSCODE, tls=False)
    behind = await make_relay(
        RelayConfig(
            passcode_rate=CONFIG.passcode_rate,
            room_guess_rate=Rate(burst=100, per_second=1),
            trusted_proxies=("127.0.0.1",),
        ),
        passcode=PASSCODE,
        tls=False,
    )
    for n in range(3):
        answer = await hello(plain.url, passcode=f"g{n}", forwarded=f"198.51.100.{n}")
        assert answer == "wrong_passcode"
    # Not trusted: a guesser cannot name a fresh address each time.
    assert await hello(plain.url, passcode="g", forwarded="198.51.100.9") == "too_many_attempts"

    for n in range(3):
        answer = await hello(behind.url, passcode=f"g{n}", forwarded="203.0.113.5, 198.51.100.7")
        assert answer == "wrong_passcode"
    assert await hello(behind.url, passcode="g", forwarded="198.51.100.7") == "too_many_attempts"
    # Another member behind the same proxy has a budget of their own.
    assert (
        await hello(behind.url, "Robin", passcode=PASSCODE, forwarded="198.51.100.8") == "welcome"
    )
    # Only the proxy's word counts: from elsewhere, the header is ignored.
    answer = await hello(behind.url, passcode="g", source="127.0.0.3", forwarded="198.51.100.8")
    assert answer == "wrong_passcode"

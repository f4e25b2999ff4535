"""Connections still logging in: random early drop of the oldest idle one.

A newcomer always gets its turn unless everyone else is already logging in.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from circle_room.server.ssh_startups import OPENSSH_MAX_STARTUPS, MaxStartups, Startups

LIMITS = MaxStartups(start=4, rate=30, full=10)
PER_ADDRESS = 6


def startups(chance: float = 0.0) -> Startups[int]:
    """``chance`` stands in for ``random.random()``: 0.0 always drops, 0.99 rarely."""
    return Startups(LIMITS, PER_ADDRESS, lambda: chance)


def test_the_drop_chance_rises_from_rate_at_start_to_certain_at_full() -> None:
    limits = OPENSSH_MAX_STARTUPS
    assert limits.drop_chance(9) == 0
    assert limits.drop_chance(10) == pytest.approx(0.3)
    assert limits.drop_chance(55) == pytest.approx(0.65)
    assert limits.drop_chance(100) == limits.drop_chance(250) == 1
    chances = [limits.drop_chance(n) for n in range(120)]
    assert chances == sorted(chances)


def test_below_start_nobody_is_dropped() -> None:
    flood = startups()
    assert [flood.arrive(n, f"192.0.2.{n}") for n in range(LIMITS.start)] == [[]] * LIMITS.start
    assert len(flood) == LIMITS.start


def test_past_start_the_oldest_idle_of_the_address_with_most_idle_goes() -> None:
    flood = startups(chance=0.0)
    for n in range(3):
        flood.arrive(n, "198.51.100.1")
    flood.arrive(10, "192.0.2.1")
    flood.begin(0)  # answering questions: never dropped to make room
    assert flood.arrive(11, "192.0.2.2") == [1]
    assert flood.arrive(12, "192.0.2.3") == [2]
    # Every address now holds one idle: the oldest idle of them all goes.
    assert flood.arrive(13, "192.0.2.4") == [10]
    assert 0 not in [*flood.arrive(14, "198.51.100.1"), *flood.arrive(15, "198.51.100.1")]


def test_one_address_cannot_hold_more_than_its_share() -> None:
    roomy = MaxStartups(start=1000, rate=30, full=1000)
    flood: Startups[int] = Startups(roomy, PER_ADDRESS, lambda: 0.99)
    for n in range(PER_ADDRESS):
        assert flood.arrive(n, "198.51.100.1") == []
    flood.begin(0)
    assert flood.arrive(100, "198.51.100.1") == [1]
    assert flood.from_address("198.51.100.1") == PER_ADDRESS


def test_a_newcomer_is_turned_away_only_when_everyone_else_is_logging_in() -> None:
    flood = startups(chance=0.99)  # Below full, the dice never say drop.
    for n in range(LIMITS.full):
        assert flood.arrive(n, f"192.0.2.{n}") == []
        flood.begin(n)
    assert flood.arrive(99, "192.0.2.200") == [99]
    assert len(flood) == LIMITS.full


def test_an_honest_login_gets_through_a_flood_from_its_own_address() -> None:
    # Issue 11: 100 idle connections kept an honest login at the same address out.
    flood: Startups[int] = Startups(OPENSSH_MAX_STARTUPS, 10, random.Random(11).random)
    dropped: list[int] = []
    for n in range(200):
        dropped += flood.arrive(n, "198.51.100.1")
    honest = 1000
    assert honest not in flood.arrive(honest, "198.51.100.1")
    flood.begin(honest)  # its key exchange is done; it sends a user name
    for n in range(200, 400):
        dropped += flood.arrive(n, "198.51.100.1")
    assert honest not in dropped
    assert flood.from_address("198.51.100.1") <= 10


arrivals = st.lists(
    st.tuples(
        st.sampled_from(["arrive", "begin", "leave"]),
        st.integers(0, 40),
        st.sampled_from(["192.0.2.1", "192.0.2.2", "198.51.100.7", "2001:db8::/64"]),
    ),
    max_size=200,
)


@given(arrivals, st.randoms(use_true_random=False))
def test_the_counts_stay_bounded_and_only_the_idle_make_way(
    steps: list[tuple[str, int, str]], rng: random.Random
) -> None:
    flood: Startups[int] = Startups(LIMITS, PER_ADDRESS, rng.random)
    live: dict[int, tuple[str, bool]] = {}
    handles = iter(range(10_000))
    for action, pick, address in steps:
        if action == "arrive":
            handle = next(handles)
            live[handle] = (address, False)
            # Past its share, an address makes room itself; otherwise anyone may.
            crowded = sum(a == address for a, _ in live.values()) > PER_ADDRESS
            pool = [h for h, (a, _) in live.items() if a == address or not crowded]
            dropped = flood.arrive(handle, address)
            assert len(dropped) <= 1
            for gone in dropped:
                assert gone in pool
                assert not live[gone][1], "someone answering questions was dropped"
                if gone == handle:
                    assert all(live[h][1] for h in pool if h != handle), "an older idle one stays"
                del live[gone]
        elif live:
            handle = sorted(live)[pick % len(live)]
            if action == "begin":
                flood.begin(handle)
                live[handle] = (live[handle][0], True)
            else:
                flood.leave(handle)
                del live[handle]
        assert len(flood) == len(live) <= LIMITS.full
        assert all(flood.from_address(a) <= PER_ADDRESS for a, _ in live.values())

"""The keepalive policy: one ping per silence, never before ``idle``, never a
link given up before ``idle + timeout``, and always given up at that moment."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from circle_room.protocol.errors import LocalProtocolError
from circle_room.protocol.keepalive import Action, QuietLink, check, quiet_link

times = st.floats(min_value=0.01, max_value=1000, allow_nan=False)
links = st.builds(QuietLink, idle=times, timeout=times)


@given(link=links, heard=times, quiet=st.floats(min_value=0, max_value=3000))
def test_the_link_is_given_up_exactly_when_its_silence_reaches_the_limit(
    link: QuietLink, heard: float, quiet: float
) -> None:
    for pinged_for in (None, heard, heard - 1):
        verdict = check(link, heard, pinged_for, heard + quiet)
        assert (verdict.action is Action.GIVE_UP) == (heard + quiet >= heard + link.limit)


@given(link=links, heard=times, quiet=st.floats(min_value=0, max_value=3000))
def test_a_ping_only_after_idle_and_only_once_per_silence(
    link: QuietLink, heard: float, quiet: float
) -> None:
    now = heard + quiet
    assert check(link, heard, heard, now).action is not Action.PING
    verdict = check(link, heard, None, now)
    if verdict.action is Action.PING:
        assert now >= heard + link.idle


@given(
    link=links,
    arrivals=st.lists(st.floats(min_value=0, max_value=5000), max_size=30),
)
def test_a_side_that_looks_when_told_pings_and_gives_up_on_time(
    link: QuietLink, arrivals: list[float]
) -> None:
    """Drive a link the way the shells do: look at ``again``, or when bytes arrive.

    Every silence of at least ``idle`` gets exactly one ping, at its ``idle``
    mark; the first silence that reaches ``limit`` ends the link at that mark.
    """
    heard, pinged_for, now = 0.0, None, 0.0
    pings: list[tuple[float, float]] = []
    spells: list[tuple[float, float]] = []
    events = sorted(arrivals)
    while True:
        verdict = check(link, heard, pinged_for, now)
        if verdict.action is Action.GIVE_UP:
            assert now == heard + link.limit
            spells.append((heard, now))
            break
        if verdict.action is Action.PING:
            pings.append((heard, now))
            pinged_for = heard
        assert verdict.again > now or verdict.action is Action.PING
        if events and events[0] < verdict.again:
            arrival = max(now, events.pop(0))
            spells.append((heard, arrival))
            now = heard = arrival
        else:
            now = verdict.again
    silences = {h for h, _ in pings}
    assert len(silences) == len(pings), "a silence got two pings"
    assert all(at == h + link.idle for h, at in pings)
    assert silences == {start for start, end in spells if end - start >= link.idle}


def test_settings_in_the_websockets_style() -> None:
    assert quiet_link(None, 10) is None
    assert quiet_link(5, None) == QuietLink(5, math.inf)
    assert quiet_link(5, 7) == QuietLink(5, 7)
    assert check(QuietLink(5, math.inf), 0, 0, 1e9).action is Action.WAIT


@pytest.mark.parametrize(("idle", "timeout"), [(0, 1), (1, 0), (-1, 1), (math.nan, 1)])
def test_times_must_be_positive(idle: float, timeout: float) -> None:
    with pytest.raises(LocalProtocolError):
        QuietLink(idle, timeout)

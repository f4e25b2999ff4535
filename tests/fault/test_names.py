"""Issue 11, points 3 and 4: names that look like someone else's, and removal that does not stick.

Each test joins through the real relay and client: names compared by a TR39
confusable skeleton; invisible-only names refused; share line and
combining-mark limits; after a removal, newcomers wait for admission.
"""

from __future__ import annotations

import pytest

from circle_room.protocol.model import Presence
from circle_room.tui.client.connection import JoinRefused
from tests.fault.support import new_client
from tests.server.support import JoinFn, Peer, RunningRelay, all_see

pytestmark = pytest.mark.fault

"""Marks on each case rather than each test, so a fix that lands piecemeal flips only its own."""


async def refusal(url: str, name: str) -> str:
    """The refusal code for joining as ``name``; fails the test if the join is let in."""
    client = new_client(url, name)
    try:
        welcome = await client.connect()
    except JoinRefused as refused:
        return refused.code
    await client.leave(quiet=True)
    raise AssertionError(f"{name!r} was let in as member {welcome.member_id}")


# --- point 3: names -------------------------------------------------------------------------


async def test_a_plain_duplicate_name_is_refused_today(relay: RunningRelay, join: JoinFn) -> None:
    """The check the lookalikes below slip past."""
    await join(relay.url, "Fac", key=relay.key)
    assert await refusal(relay.url, "fac") == "name_taken"


@pytest.mark.parametrize(
    "lookalike",
    [
        pytest.param("Fac\u200d", id="zero-width-joiner"),
        pytest.param("F\u0430c", id="cyrillic-a"),
        pytest.param("Fa\u034fc", id="combining-grapheme-joiner"),
        pytest.param("F\u0430\u0441", id="cyrillic-a-and-es"),
    ],
)
async def test_a_name_that_looks_like_a_present_one_is_taken(
    relay: RunningRelay, join: JoinFn, lookalike: str
) -> None:
    await join(relay.url, "Fac", key=relay.key)
    assert await refusal(relay.url, lookalike) == "name_taken"


@pytest.mark.parametrize(
    "invisible",
    [
        pytest.param("\u200d", id="zero-width-joiner"),
        pytest.param("\u034f", id="combining-grapheme-joiner"),
        pytest.param("\u200c\u200d", id="zero-width-non-joiner-and-joiner"),
        pytest.param("a" + "\u0301" * 30, id="thirty-combining-marks"),
    ],
)
async def test_a_name_with_nothing_to_see_is_refused(relay: RunningRelay, invisible: str) -> None:
    assert await refusal(relay.url, invisible) == "bad_name"


async def holder(relay: RunningRelay, join: JoinFn) -> tuple[Peer, Peer]:
    alice = await join(relay.url, "alice")
    bob = await join(relay.url, "bob")
    await alice.client.raise_hand()
    await all_see([alice, bob], lambda p: p.state.holder == alice.id, "alice holds the stick")
    return alice, bob


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\u200d" * 3000, id="3000-zero-width-joiners"),
        pytest.param("x\n" * 1990, id="1990-lines"),
        pytest.param("o" + "\u0308" * 200, id="200-combining-marks-on-one-letter"),
    ],
)
async def test_a_share_that_would_flood_the_screen_is_refused(
    relay: RunningRelay, join: JoinFn, text: str
) -> None:
    alice, bob = await holder(relay, join)
    ref = await alice.client.share(text)
    # Alice hears either the refusal or her own share, whichever the relay decided.
    await alice.wait(lambda: bool(alice.shares()) or ref in [e.ref for e in alice.errors()], "")
    assert alice.shares() == [], "the relay shared it with the circle"
    assert (await alice.error(ref)).code != "rate_limited"
    await alice.client.share("and this one is fine")
    await bob.wait(lambda: bob.shares() == ["and this one is fine"], "only the next share")


# --- point 4: removal -----------------------------------------------------------------------


async def remove_mallory(relay: RunningRelay, join: JoinFn) -> Peer:
    fran = await join(relay.url, "Fran", key=relay.key)
    mallory = await join(relay.url, "Mallory")
    await fran.client.remove(mallory.id)
    await fran.wait(lambda: mallory.id not in fran.state.members, "mallory removed")
    return fran


async def test_the_removed_name_itself_is_refused_today(relay: RunningRelay, join: JoinFn) -> None:
    await remove_mallory(relay, join)
    assert await refusal(relay.url, "mallory") == "removed"


@pytest.mark.parametrize(
    "again",
    [
        pytest.param("Mallory\u200d", id="zero-width-joiner"),
        pytest.param("Mall\u043ery", id="cyrillic-o"),
        pytest.param("M\u0430llory", id="cyrillic-a"),
        pytest.param("Ma\u034fllory", id="combining-grapheme-joiner"),
    ],
)
async def test_a_lookalike_of_a_removed_name_is_refused(
    relay: RunningRelay, join: JoinFn, again: str
) -> None:
    await remove_mallory(relay, join)
    assert await refusal(relay.url, again) == "removed"


async def test_after_a_removal_a_newcomer_waits_for_admission(
    relay: RunningRelay, join: JoinFn
) -> None:
    fran = await remove_mallory(relay, join)
    client = new_client(relay.url, "Mallory2")
    try:
        welcome = await client.connect()
    except JoinRefused:
        return  # Refused outright is also safe.
    try:
        assert welcome.state is not None
        me = welcome.state.members[welcome.member_id]
        assert me.presence is Presence.WAITING, "walked straight back in"
        await fran.wait(lambda: welcome.member_id in fran.state.members, "the facilitator sees")
    finally:
        await client.leave(quiet=True)

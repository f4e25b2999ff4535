"""Lookalike names, removal that sticks and share limits, over a real relay (issue 11).

A name compares by its look (``protocol.skeleton``); a removal bars the name
and its lookalikes and turns the waiting room on; a share that would scroll
everyone's screen away or pile marks on a letter is refused with its own code.
"""

from __future__ import annotations

import pytest

from circle_room.protocol.messages import MemberLeft, SettingsChanged, Shared
from circle_room.protocol.model import LeaveReason, Presence, Settings
from circle_room.tui.client.connection import CircleClient, JoinRefused
from tests.server.support import JoinFn, RunningRelay, all_see, raw_join


@pytest.mark.parametrize("lookalike", ["Fac\u200d", "F\u0430c", "FAC", "F\u034fac"])
async def test_a_lookalike_of_someone_here_is_refused(
    relay: RunningRelay, join: JoinFn, lookalike: str
) -> None:
    await join(relay.url, "Fac", key=relay.key)
    with pytest.raises(JoinRefused) as refused:
        await CircleClient(relay.url, name=lookalike).connect()
    assert refused.value.code == "name_taken"
    assert "Fac" in str(refused.value)


async def test_removal_sticks_for_lookalikes_and_newcomers_wait(
    relay: RunningRelay, join: JoinFn
) -> None:
    fran = await join(relay.url, "Fran", key=relay.key)
    ana = await join(relay.url, "Ana")
    mallory = await join(relay.url, "Mallory")
    await all_see([fran, ana], lambda p: len(p.state.members) == 3, "three seated")

    await fran.client.remove(mallory.id)
    await all_see([fran, ana], lambda p: p.state.settings.waiting_room, "the waiting room on")
    for peer in (fran, ana):
        assert peer.events(MemberLeft)[-1] == MemberLeft(mallory.id, LeaveReason.REMOVED)
        turned_on = peer.events(SettingsChanged)[-1]
        assert turned_on.after_removal and turned_on.by == fran.id
    assert relay.relay.store.room(relay.room.name).settings.waiting_room  # type: ignore[union-attr]

    # Issue 11: each of these walked back in.
    for name in ("Mallory\u200d", "Mall\u043ery", "MALLORY", "Mal\u034flory"):
        with pytest.raises(JoinRefused) as refused:
            await CircleClient(relay.url, name=name).connect()
        assert refused.value.code == "removed", name
    ws, welcome = await raw_join(relay.url, "Mallory2")
    waiting = welcome.state.members[welcome.member_id]
    assert waiting.presence is Presence.WAITING
    await fran.wait(lambda: welcome.member_id in fran.state.members, "Mallory2 waiting")

    # The facilitator turns it off: whoever waited is in, and newcomers join directly.
    await fran.client.change_settings(Settings())
    await fran.wait(
        lambda: fran.state.members[welcome.member_id].presence is Presence.PRESENT, "admitted"
    )
    dee = await join(relay.url, "Dee")
    assert dee.state.members[dee.id].presence is Presence.PRESENT
    await ws.close()


async def test_shares_that_scroll_or_pile_marks_are_refused(
    relay: RunningRelay, join: JoinFn
) -> None:
    fran = await join(relay.url, "Fran", key=relay.key)
    await fran.client.take_stick()
    await fran.wait(lambda: fran.state.holder == fran.id, "the stick")
    for text, code in (
        ("a\n" * 1990, "share_too_many_lines"),  # Issue 11: 1,990 lines
        ("x" + "\u200d" * 3000, "too_many_marks"),  # Issue 11: 3,000 joiners
        ("e" + "\u0301" * 30, "too_many_marks"),
    ):
        ref = await fran.client.share(text)
        assert (await fran.error(ref)).code == code
    ref = await fran.client.share("still sharing, on one line")
    await fran.wait(lambda: "still sharing, on one line" in fran.shares(), "the share")
    assert len(fran.events(Shared)) == 1

"""What a member may not see stays unseen: across promotions, resumes and restarts."""

from __future__ import annotations

import pytest

from circle_room.protocol.messages import MeTooSet, SignalSent
from circle_room.protocol.model import Settings, SignalKind
from tests.server.support import JoinFn, RunningRelay, all_see, settle
from tests.server.test_relay import drop


async def test_a_member_promoted_while_away_is_not_replayed_earlier_signals(
    relay: RunningRelay, join: JoinFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    fran = await join(relay.url, "Fran", key=relay.key)
    ann = await join(relay.url, "ann")
    ben = await join(relay.url, "ben")
    gate = await drop(ann, [fran, ben], monkeypatch)
    await ben.client.signal(SignalKind.CHECK_IN)
    await fran.wait(lambda: bool(fran.events(SignalSent)), "ben's signal")
    await fran.client.promote(ann.id)
    await all_see([fran, ben], lambda p: p.state.is_facilitator(ann.id), "ann promoted")
    await ben.client.signal(SignalKind.OK)
    await fran.wait(lambda: len(fran.events(SignalSent)) == 2, "ben's second signal")
    gate.set()
    await settle(relay.room, [fran, ann, ben])
    # Only the signal sent after she became a co-facilitator reaches her.
    assert [e.kind for e in ann.events(SignalSent)] == [SignalKind.OK]


async def test_metoo_names_go_to_the_speaker_not_the_room(
    relay: RunningRelay, join: JoinFn
) -> None:
    fran = await join(relay.url, "Fran", key=relay.key)
    ann = await join(relay.url, "ann")
    ben = await join(relay.url, "ben")
    cy = await join(relay.url, "cy")
    await fran.client.change_settings(Settings(show_metoo_names=True))
    await all_see([ann, ben, cy], lambda p: p.state.settings.show_metoo_names, "names on")
    await ann.client.raise_hand()
    await all_see([fran, ann, ben, cy], lambda p: p.state.holder == ann.id, "ann holds")
    await ben.client.me_too()
    await all_see([fran, ann], lambda p: p.state.turn.metoo_count == 1, "the count")  # type: ignore[union-attr]
    await settle(relay.room, [fran, ann, ben, cy])
    assert ann.state.turn is not None and ann.state.turn.metoo == {ben.id}
    assert fran.state.turn is not None and fran.state.turn.metoo == {ben.id}
    assert cy.events(MeTooSet) == []
    assert cy.state.turn is not None and cy.state.turn.metoo == frozenset()
    # A late joiner's snapshot follows the same rule.
    dee = await join(relay.url, "dee")
    assert dee.state.turn is not None and dee.state.turn.metoo == frozenset()


async def test_the_first_share_of_a_turn_survives_a_restart(
    relay: RunningRelay, join: JoinFn
) -> None:
    fran = await join(relay.url, "Fran", key=relay.key)
    ann = await join(relay.url, "ann")
    await ann.client.raise_hand()
    await all_see([fran, ann], lambda p: p.state.holder == ann.id, "ann holds")
    await ann.client.share("a first share")
    await all_see([fran, ann], lambda p: p.state.turn.shares == 1, "the share")  # type: ignore[union-attr]
    snapshot = relay.relay.store.load_circle("tuesday")
    assert snapshot is not None and snapshot.state.turn is not None
    # A restarted relay must not let her pass after she has shared.
    assert snapshot.state.turn.shares == 1

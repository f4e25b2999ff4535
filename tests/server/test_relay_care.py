"""Care over real sockets: signals answered, quiet exits told privately, away seats released."""

from __future__ import annotations

import pytest

from circle_room.protocol.messages import MemberLeft, SignalSeen
from circle_room.protocol.model import LeaveReason, SignalKind
from circle_room.protocol.refusals import RefusalCode
from circle_room.tui.client.narrator import Kind
from tests.server.support import JoinFn, Peer, RunningRelay, all_see, assert_same_room, settle
from tests.server.test_relay import drop


def lines_about(peer: Peer, event_type: type) -> list[tuple[Kind, str]]:
    """What ``peer`` was told about its events of ``event_type``, in words."""
    return [
        (line.kind, line.text)
        for received in peer.received()
        if isinstance(received.event, event_type)
        for line in received.lines
    ]


async def test_a_seen_signal_reaches_only_the_member_and_the_facilitators(
    relay: RunningRelay, join: JoinFn
) -> None:
    fran = await join(relay.url, "Fran", key=relay.key)
    gil = await join(relay.url, "Gil")
    ann = await join(relay.url, "Ann")
    ben = await join(relay.url, "Ben")
    await fran.client.promote(gil.id)
    await all_see([fran, gil, ann, ben], lambda p: p.state.is_facilitator(gil.id), "gil promoted")
    await ann.client.signal(SignalKind.CHECK_IN)
    await all_see([fran, gil, ann], lambda p: p.state.signals == (ann.id,), "ann's signal waits")

    await gil.client.ack_signal(ann.id)
    await all_see([fran, gil, ann], lambda p: bool(p.events(SignalSeen)), "the answer")
    await settle(relay.room, [fran, gil, ann, ben])
    assert relay.room.state.signals == ()
    assert ben.events(SignalSeen) == [] and ben.state.signals == ()
    for peer in (fran, gil, ann):
        assert peer.events(SignalSeen) == [SignalSeen(ann.id, gil.id)]
        assert peer.state.signals == ()
    assert lines_about(ann, SignalSeen) == [(Kind.NOTE, "A facilitator has seen your signal.")]
    assert lines_about(fran, SignalSeen) == [
        (Kind.SIGNAL, "Gil let Ann know their signal was seen.")
    ]
    assert [(s.name, s.seen_by) for s in fran.client.meeting.view(0.0).inbox] == [("Ann", "Gil")]
    for peer in (fran, gil, ann, ben):
        assert_same_room(peer, relay.room)

    # A second answer, or one from a member, changes nothing and says why.
    refused = await fran.error(await fran.client.ack_signal(ann.id))
    assert refused.code == RefusalCode.NO_SIGNAL
    refused = await ben.error(await ben.client.ack_signal(ann.id))
    assert refused.code == RefusalCode.NOT_FACILITATOR


async def test_a_quiet_exit_is_told_to_the_facilitators_and_not_to_the_circle(
    relay: RunningRelay, join: JoinFn
) -> None:
    fran = await join(relay.url, "Fran", key=relay.key)
    ann = await join(relay.url, "Ann")
    dana = await join(relay.url, "Dana")
    await dana.client.leave(quiet=True)
    await all_see([fran, ann], lambda p: dana.id not in p.state.members, "dana gone")
    await settle(relay.room, [fran, ann])
    # Both got the same event: the circle knows the seat is empty, and nothing more.
    assert (
        fran.events(MemberLeft)
        == ann.events(MemberLeft)
        == [MemberLeft(dana.id, LeaveReason.QUIET)]
    )
    assert lines_about(fran, MemberLeft) == [(Kind.SIGNAL, "Dana left quietly.")]
    assert lines_about(ann, MemberLeft) == []
    fran_view = fran.client.meeting.view(0.0)
    assert [(s.name, s.tag) for s in fran_view.inbox] == [("Dana", "left quietly")]
    ann_view = ann.client.meeting.view(0.0)
    assert ann_view.inbox == ()
    assert [e.line.text for e in ann_view.log if "Dana" in e.line.text] == ["Dana joined."]


async def test_a_released_seat_frees_the_name_and_the_stick(
    relay: RunningRelay, join: JoinFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    fran = await join(relay.url, "Fran", key=relay.key)
    ann = await join(relay.url, "Ann")
    ben = await join(relay.url, "Ben")
    await ann.client.raise_hand()
    await all_see([fran, ann, ben], lambda p: p.state.holder == ann.id, "ann holds the stick")
    await ben.client.raise_hand()
    await all_see([fran, ben], lambda p: p.state.queue == (ben.id,), "ben's hand")

    refused = await fran.error(await fran.client.release_seat(ann.id))
    assert refused.code == RefusalCode.NOT_AWAY  # Ann is here: nothing to release.
    await drop(ann, [fran, ben], monkeypatch)
    refused = await ben.error(await ben.client.release_seat(ann.id))
    assert refused.code == RefusalCode.NOT_FACILITATOR

    await fran.client.release_seat(ann.id)
    await all_see([fran, ben], lambda p: ann.id not in p.state.members, "ann's seat released")
    await all_see([fran, ben], lambda p: p.state.holder == ben.id, "the stick moves on")
    assert fran.events(MemberLeft)[-1] == MemberLeft(ann.id, LeaveReason.TIMED_OUT, fran.id)
    assert lines_about(ben, MemberLeft) == [
        (Kind.NOTE, "Fran released Ann's seat while they were away.")
    ]

    # The name is free at once: whoever comes back as Ann joins as a newcomer.
    again = await join(relay.url, "Ann")
    assert again.id != ann.id
    await all_see([fran, ben], lambda p: again.id in p.state.members, "the new Ann")
    assert relay.room.state.members[again.id].name == "Ann"

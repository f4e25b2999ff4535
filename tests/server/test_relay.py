"""The relay end to end, through ``CircleClient`` over real sockets on 127.0.0.1.

A whole meeting first, then what happens when a member's connection drops.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from circle_room.protocol.messages import (
    HandRaised,
    MemberBack,
    MemberJoined,
    MemberLeft,
    MeTooCount,
    MeTooSet,
    Paused,
    Resume,
    Resumed,
    RoundEnded,
    RoundStarted,
    Shared,
    SignalSent,
    StickGiven,
    StickReleased,
    Welcome,
)
from circle_room.protocol.model import LeaveReason, Presence, Release, Role, SignalKind, Via
from circle_room.server.config import RelayConfig
from circle_room.tui.client.connection import CircleClient, JoinRefused, Resynced, Status
from tests.server.support import (
    JoinFn,
    MakeRelay,
    Peer,
    RunningRelay,
    all_see,
    assert_same_room,
    raw_join,
    read_events_until,
    read_until_closed,
    seqs_for,
    settle,
)


async def test_a_whole_meeting(relay: RunningRelay, join: JoinFn) -> None:
    room = relay.room
    fran = await join(relay.url, "Fran", key=relay.key)
    alice = await join(relay.url, "alice")
    bob = await join(relay.url, "bob")
    carol = await join(relay.url, "carol")
    everyone = [fran, alice, bob, carol]
    by_id = {p.id: p for p in everyone}
    assert len(by_id) == 4
    assert fran.state.members[fran.id].role is Role.FACILITATOR
    assert alice.state.members[alice.id].role is Role.MEMBER
    await all_see(everyone, lambda p: len(p.state.members) == 4, "all four seated")

    # Hands go up at once; the relay alone decides the order.
    await asyncio.gather(
        alice.client.raise_hand(), bob.client.raise_hand(), carol.client.raise_hand()
    )
    await all_see(
        everyone,
        lambda p: p.state.holder is not None and len(p.state.queue) == 2,
        "a holder and two hands",
    )
    raised = [e.member_id for e in fran.events(HandRaised)]
    assert sorted(raised) == sorted([alice.id, bob.id, carol.id])
    speaker, second, third = (by_id[i] for i in raised)
    for p in everyone:
        assert [e.member_id for e in p.events(HandRaised)] == raised
        # The first hand got the stick by itself, and with it the hand came down.
        assert p.events(StickGiven) == [
            StickGiven(speaker.id, 1, Via.QUEUE, p.events(StickGiven)[0].at)
        ]
        assert p.state.holder == speaker.id
        assert p.state.queue == (second.id, third.id) == room.state.queue

    # A share reaches everyone, with anything that could drive a terminal removed.
    await speaker.client.share("hi \x1b[2J\x1b]52;c;AAAA\x07 there")
    await all_see(everyone, lambda p: len(p.shares()) == 1, "the first share")
    for p in everyone:
        assert p.shares() == ["hi [2J]52;c;AAAA there"]
        assert "\x1b" not in p.shares()[0] and "\x07" not in p.shares()[0]

    # "Me too": the speaker (and the facilitator) get a count; who said it
    # stays with each listener, and listeners are not sent the count at all.
    await second.client.me_too()
    counted = [speaker, fran]
    await all_see(
        counted, lambda p: p.state.turn is not None and p.state.turn.metoo_count == 1, "count 1"
    )
    await third.client.me_too()
    await all_see(
        counted, lambda p: p.state.turn is not None and p.state.turn.metoo_count == 2, "count 2"
    )
    assert [e.count for e in speaker.events(MeTooCount)] == [1, 2]
    assert [e.count for e in fran.events(MeTooCount)] == [1, 2]
    await settle(room, everyone)
    for p in everyone:
        if p not in counted:
            assert p.events(MeTooCount) == []
    assert room.state.turn is not None and room.state.turn.metoo == {second.id, third.id}
    for listener in (second, third):
        assert listener.state.turn is not None
        assert listener.state.turn.metoo == {listener.id}
        assert [e.member_id for e in listener.events(MeTooSet)] == [listener.id]
    for p in (speaker, fran):
        assert p.state.turn is not None and p.state.turn.metoo == frozenset()
        assert p.events(MeTooSet) == []

    # Yield: the stick goes to the next hand.
    await speaker.client.yield_stick()
    await all_see(everyone, lambda p: p.state.holder == second.id, "second holds the stick")
    for p in everyone:
        assert p.events(StickReleased)[-1].reason is Release.YIELDED
        assert p.events(StickGiven)[-1].via is Via.QUEUE
        assert p.state.queue == (third.id,)

    # Pass: no words needed; it moves on.
    await second.client.pass_stick()
    await all_see(everyone, lambda p: p.state.holder == third.id, "third holds the stick")
    for p in everyone:
        assert p.events(StickReleased)[-1] == StickReleased(
            second.id, 2, Release.PASSED, p.events(StickReleased)[-1].at
        )
        assert p.state.queue == ()

    # Pause: members can do nothing until the facilitator resumes.
    await fran.client.pause("Let's take a breath")
    await all_see(everyone, lambda p: p.state.pause is not None, "the pause")
    for p in everyone:
        assert p.state.pause is not None and p.state.pause.message == "Let's take a breath"
    seq = room.seq
    refs = [
        (third, await third.client.share("words in a pause")),
        (third, await third.client.yield_stick()),
        (speaker, await speaker.client.raise_hand()),
        (second, await second.client.me_too()),
    ]
    for peer, ref in refs:
        assert (await peer.error(ref)).code == "paused"
    assert room.seq == seq, "a refused command changed the room"
    await fran.client.resume()
    await all_see(everyone, lambda p: p.state.pause is None, "the resume")
    assert all(len(p.events(Paused)) == len(p.events(Resumed)) == 1 for p in everyone)

    # A private signal reaches the facilitators (and its sender), nobody else.
    await second.client.signal(SignalKind.CHECK_IN)
    await third.client.share("after the signal")  # every later event is a barrier
    await all_see(everyone, lambda p: "after the signal" in p.shares(), "the share after")
    for p in (fran, second):
        [signal] = p.events(SignalSent)
        assert (signal.member_id, signal.kind) == (second.id, SignalKind.CHECK_IN)
    signal_seq = next(r.seq for r in fran.received() if isinstance(r.event, SignalSent))
    for p in (speaker, third):
        assert p.events(SignalSent) == []
        assert signal_seq not in [r.seq for r in p.received()]

    # A round visits every present member once, in circle order.
    await fran.client.start_round()
    order = (fran.id, alice.id, bob.id, carol.id)
    for index, member_id in enumerate(order):
        await all_see(
            everyone,
            lambda p, m=member_id: p.state.holder == m and p.state.round is not None,
            f"member {member_id} holds the stick in the round",
        )
        holder = by_id[member_id]
        if index == 0:
            await holder.client.share("checking in: tired but here")
            await holder.client.yield_stick()
        else:
            await holder.client.pass_stick()
    await all_see(everyone, lambda p: p.state.round is None, "the end of the round")
    for p in everyone:
        assert p.events(RoundStarted)[-1].order == order
        visits = [e.member_id for e in p.events(StickGiven) if e.via is Via.ROUND]
        assert visits == list(order)
        assert p.events(RoundEnded) == [RoundEnded(None)]
        assert p.state.holder is None

    # Remove: the member is shown out with 4011 and cannot come back as the same name.
    await fran.client.remove(carol.id)
    await carol.wait(lambda: carol.client.status is Status.CLOSED, "carol closed")
    assert carol.client._ws is not None and carol.client._ws.close_code == 4011
    remaining = [fran, alice, bob]
    await all_see(remaining, lambda p: carol.id not in p.state.members, "carol gone")
    for p in remaining:
        assert p.events(MemberLeft)[-1] == MemberLeft(carol.id, LeaveReason.REMOVED)
    with pytest.raises(JoinRefused) as refused:
        await CircleClient(relay.url, name="Carol").connect()
    assert refused.value.code == "removed"

    # Lock: nobody new gets in.
    await fran.client.lock()
    await all_see(remaining, lambda p: p.state.locked, "the lock")
    with pytest.raises(JoinRefused) as refused:
        await CircleClient(relay.url, name="dave").connect()
    assert refused.value.code == "locked"
    await fran.client.lock(False)
    await all_see(remaining, lambda p: not p.state.locked, "the unlock")

    # Waiting room: a newcomer waits, hears nothing, then is admitted with a snapshot.
    await fran.client.change_settings(replace(fran.state.settings, waiting_room=True))
    await all_see(remaining, lambda p: p.state.settings.waiting_room, "the waiting room")
    dave = await join(relay.url, "dave")
    assert dave.state.members[dave.id].presence is Presence.WAITING
    await fran.wait(lambda: dave.id in fran.state.members, "dave in the waiting room")
    assert fran.events(MemberJoined)[-1].member.presence is Presence.WAITING
    assert (await dave.error(await dave.client.raise_hand())).code == "waiting"
    await fran.client.take_stick()
    await fran.wait(lambda: fran.state.holder == fran.id, "fran holds the stick")
    await fran.client.share("said while dave waits")
    await all_see(remaining, lambda p: "said while dave waits" in p.shares(), "the share")
    await fran.client.admit(dave.id)
    await dave.wait(lambda: any(isinstance(u, Resynced) for u in dave.updates), "dave's snapshot")
    assert [u.gap for u in dave.updates if isinstance(u, Resynced)] == [False]
    assert dave.state.members[dave.id].presence is Presence.PRESENT
    await fran.client.share("welcome, dave")
    everyone = [*remaining, dave]
    await all_see(everyone, lambda p: "welcome, dave" in p.shares(), "the welcome")
    assert dave.shares() == ["welcome, dave"]

    # Every client holds the relay's room, bar the me-too names it may not see.
    await settle(room, everyone)
    for p in everyone:
        assert_same_room(p, room)
    assert len(room.state.members) == 4


# --- a dropped connection ------------------------------------------------------------


def hold_reconnect(peer: Peer, monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Make ``peer`` reconnect only once the returned event is set.

    The client still notices the drop and reconnects by itself; the test only
    decides when the network comes back, so it can make things happen meanwhile.
    """
    gate = asyncio.Event()
    reopen = peer.client._open

    async def gated(resume: Resume | None) -> Welcome:
        await gate.wait()
        return await reopen(resume)

    monkeypatch.setattr(peer.client, "_open", gated)
    return gate


async def drop(peer: Peer, others: list[Peer], monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Cut ``peer``'s TCP connection and wait until the others see them away."""
    gate = hold_reconnect(peer, monkeypatch)
    peer.client.abort()
    await peer.wait(lambda: peer.client.status is Status.RECONNECTING, "reconnecting")
    await all_see(
        others, lambda p: p.state.members[peer.id].presence is Presence.AWAY, f"{peer} away"
    )
    return gate


def assert_no_gaps_no_repeats(peer: Peer, room_seqs: list[int]) -> None:
    seqs = [r.seq for r in peer.received()]
    assert len(seqs) == len(set(seqs)), "an event was delivered twice"
    assert seqs == room_seqs, "events addressed to the member are missing or extra"


async def test_a_dropped_listener_gets_exactly_what_it_missed(
    relay: RunningRelay, join: JoinFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = relay.room
    fran = await join(relay.url, "Fran", key=relay.key)
    alice = await join(relay.url, "alice")
    bob = await join(relay.url, "bob")
    carol = await join(relay.url, "carol")
    everyone = [fran, alice, bob, carol]
    others = [fran, alice, carol]
    await alice.client.raise_hand()
    await all_see(everyone, lambda p: p.state.holder == alice.id, "alice holds the stick")
    await bob.client.raise_hand()
    await all_see(everyone, lambda p: p.state.queue == (bob.id,), "bob's hand")
    await carol.client.raise_hand()
    await all_see(everyone, lambda p: p.state.queue == (bob.id, carol.id), "carol's hand")
    await alice.client.share("before the drop")
    await fran.client.signal(SignalKind.OK)  # private: bob must not get it, now or later
    await all_see(everyone, lambda p: "before the drop" in p.shares(), "the first share")
    bob_id = bob.id

    gate = await drop(bob, others, monkeypatch)
    missed = ["while bob was away", "and one more thing"]
    for text in missed:
        await alice.client.share(text)
    await alice.client.yield_stick()
    # An away member keeps their place but is passed over: carol gets the stick.
    await all_see(others, lambda p: p.state.holder == carol.id, "carol holds the stick")
    assert all(p.state.queue == (bob.id,) for p in others)
    await carol.client.share("carol's turn")
    await all_see(others, lambda p: "carol's turn" in p.shares(), "carol's share")
    assert bob.shares() == ["before the drop"]

    gate.set()
    await all_see(
        everyone,
        lambda p: p.state.members[bob_id].presence is Presence.PRESENT,
        "bob back",
    )
    await settle(room, everyone)
    assert bob.client.status is Status.CONNECTED
    assert bob.id == bob_id
    assert bob.shares() == ["before the drop", *missed, "carol's turn"]
    assert not any(isinstance(u, Resynced) for u in bob.updates), "bob lost his history"
    assert bob.events(SignalSent) == []
    assert_no_gaps_no_repeats(bob, seqs_for(room, bob.id, bob.welcome.seq))
    assert bob.state.queue == (bob.id,) == room.state.queue
    for p in everyone:
        assert_same_room(p, room)


async def test_a_dropped_holder_keeps_the_stick(
    relay: RunningRelay, join: JoinFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = relay.room
    fran = await join(relay.url, "Fran", key=relay.key)
    alice = await join(relay.url, "alice")
    bob = await join(relay.url, "bob")
    everyone = [fran, alice, bob]
    await alice.client.raise_hand()
    await all_see(everyone, lambda p: p.state.holder == alice.id, "alice holds the stick")
    await alice.client.share("what I wanted to say")
    await all_see(everyone, lambda p: len(p.shares()) == 1, "the share")

    gate = await drop(alice, [fran, bob], monkeypatch)
    await bob.client.raise_hand()
    await fran.client.pause("alice's connection dropped")
    await all_see([fran, bob], lambda p: p.state.pause is not None, "the pause")
    await fran.client.resume()
    await all_see([fran, bob], lambda p: p.state.pause is None, "the resume")
    assert all(p.state.holder == alice.id for p in (fran, bob)), "the stick moved on"
    assert all(p.state.queue == (bob.id,) for p in (fran, bob))

    gate.set()
    await all_see(
        everyone, lambda p: p.state.members[alice.id].presence is Presence.PRESENT, "alice back"
    )
    await settle(room, everyone)
    assert alice.state.holder == alice.id
    assert len(alice.events(Paused)) == len(alice.events(Resumed)) == 1
    assert_no_gaps_no_repeats(alice, seqs_for(room, alice.id, alice.welcome.seq))
    await alice.client.share("as I was saying")
    await all_see(everyone, lambda p: "as I was saying" in p.shares(), "the share after")
    await settle(room, everyone)
    for p in everyone:
        assert_same_room(p, room)


async def test_commands_sent_while_away_go_out_after_the_resume(
    relay: RunningRelay, join: JoinFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    fran = await join(relay.url, "Fran", key=relay.key)
    alice = await join(relay.url, "alice")
    bob = await join(relay.url, "bob")
    await alice.client.raise_hand()
    await all_see([fran, bob], lambda p: p.state.holder == alice.id, "alice holds the stick")

    gate = await drop(bob, [fran, alice], monkeypatch)
    await bob.client.raise_hand()  # queued in the client until it is back
    await bob.client.me_too()
    gate.set()
    await all_see([fran, alice, bob], lambda p: p.state.queue == (bob.id,), "bob's hand")
    await alice.wait(
        lambda: alice.state.turn is not None and alice.state.turn.metoo_count == 1, "me too"
    )
    assert bob.errors() == []


async def test_grace_period_expiry_frees_the_seat(
    make_relay: MakeRelay, join: JoinFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay = await make_relay(RelayConfig(grace_period=0.5))
    room = relay.room
    fran = await join(relay.url, "Fran", key=relay.key)
    alice = await join(relay.url, "alice")
    bob = await join(relay.url, "bob")
    await alice.client.raise_hand()
    await all_see([fran, alice, bob], lambda p: p.state.holder == alice.id, "alice holds")
    await bob.client.raise_hand()
    await all_see([fran, alice, bob], lambda p: p.state.queue == (bob.id,), "bob's hand")
    old_id = bob.id

    gate = await drop(bob, [fran, alice], monkeypatch)
    await all_see([fran, alice], lambda p: old_id not in p.state.members, "bob timed out")
    for p in (fran, alice):
        assert p.events(MemberLeft)[-1] == MemberLeft(old_id, LeaveReason.TIMED_OUT)
        assert p.state.queue == ()
    assert room.state.queue == ()

    gate.set()
    await bob.wait(lambda: any(isinstance(u, Resynced) for u in bob.updates), "a resync")
    assert [u.gap for u in bob.updates if isinstance(u, Resynced)] == [True]
    assert bob.client.status is Status.CONNECTED
    assert bob.id != old_id
    # The update says who we are now, so screens stop showing the old seat as "you".
    assert [u.member_id for u in bob.updates if isinstance(u, Resynced)] == [bob.id]
    assert old_id not in bob.state.members and bob.state.queue == ()
    await all_see([fran, alice], lambda p: bob.id in p.state.members, "the new bob")
    assert fran.events(MemberJoined)[-1].member.name == "bob"
    await settle(room, [fran, alice, bob])
    for p in (fran, alice, bob):
        assert_same_room(p, room)


async def test_a_closed_relay_lets_no_grace_run_out(
    make_relay: MakeRelay, join: JoinFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay = await make_relay(RelayConfig(grace_period=0.2))
    room = relay.room
    fran = await join(relay.url, "Fran", key=relay.key)
    bob = await join(relay.url, "bob")
    gate = await drop(bob, [fran], monkeypatch)
    await relay.relay.close()
    # Past the grace period: a timer left running would free bob's stored seat
    # in a room that nobody serves any more.
    await asyncio.sleep(0.6)
    assert room.state.members[bob.id].presence is Presence.AWAY
    gate.set()


async def test_resume_after_the_log_moved_on_resyncs_in_place(
    make_relay: MakeRelay, join: JoinFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay = await make_relay(RelayConfig(log_size=4))
    room = relay.room
    fran = await join(relay.url, "Fran", key=relay.key)
    bob = await join(relay.url, "bob")
    await bob.client.raise_hand()
    await fran.wait(lambda: fran.state.holder == bob.id, "bob holds the stick")

    gate = await drop(bob, [fran], monkeypatch)
    for n in range(3):
        await fran.client.pause(f"pause {n}")
        await fran.client.resume()
    await fran.wait(lambda: len(fran.events(Resumed)) == 3, "three pauses")
    assert room.log[0].seq > bob.client.seq + 1, "the log still holds what bob missed"

    gate.set()
    await bob.wait(lambda: any(isinstance(u, Resynced) for u in bob.updates), "a resync")
    # Never a silent gap: the relay says so, and bob keeps his seat and the stick.
    assert [u.gap for u in bob.updates if isinstance(u, Resynced)] == [True]
    await settle(room, [fran, bob])
    assert bob.state.holder == bob.id
    for p in (fran, bob):
        assert_same_room(p, room)


async def test_a_newer_connection_replaces_the_old_one(relay: RunningRelay, join: JoinFn) -> None:
    fran = await join(relay.url, "Fran", key=relay.key)
    old, welcome = await raw_join(relay.url, "zed")
    await fran.wait(lambda: welcome.member_id in fran.state.members, "zed seated")
    new, again = await raw_join(
        relay.url, "ignored", resume=Resume(welcome.token, welcome.epoch, welcome.seq)
    )
    try:
        assert again.resumed and again.member_id == welcome.member_id
        code, _ = await read_until_closed(old)
        assert code == 4010
        await fran.client.lock()
        await fran.wait(lambda: fran.state.locked, "the lock")
        assert fran.state.members[welcome.member_id].presence is Presence.PRESENT
        assert relay.room.state.members[welcome.member_id].name == "zed"
    finally:
        await new.close()
        await old.close()


async def test_resume_replays_each_missed_event_exactly_once(
    relay: RunningRelay, join: JoinFn
) -> None:
    """On the wire, not through the client (which would quietly drop a repeat)."""
    room = relay.room
    fran = await join(relay.url, "Fran", key=relay.key)
    old, welcome = await raw_join(relay.url, "zed")
    zed = welcome.member_id
    await fran.client.take_stick()
    await fran.client.share("heard live")
    live = await read_events_until(old, lambda e: isinstance(e, Shared))
    assert [f.seq for f in live] == seqs_for(room, zed, welcome.seq)
    await old.close()
    await fran.wait(lambda: fran.state.members[zed].presence is Presence.AWAY, "zed away")

    await fran.client.share("missed, one")
    await fran.client.signal(SignalKind.OK)  # for facilitators only
    await fran.client.share("missed, two")
    await fran.wait(lambda: "missed, two" in fran.shares(), "fran's shares")
    new, again = await raw_join(
        relay.url, "zed", resume=Resume(welcome.token, welcome.epoch, live[-1].seq)
    )
    try:
        assert again.resumed and again.seq == live[-1].seq and again.state is None
        replayed = await read_events_until(
            new, lambda e: isinstance(e, MemberBack) and e.member_id == zed
        )
        assert [f.seq for f in replayed] == seqs_for(room, zed, live[-1].seq)
        texts = [f.event.text for f in replayed if isinstance(f.event, Shared)]
        assert texts == ["missed, one", "missed, two"]
        assert not any(isinstance(f.event, SignalSent) for f in replayed)
    finally:
        await new.close()

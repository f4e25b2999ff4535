"""A meeting through a network that drops, stalls and resets: nothing lost, twice or late.

Six people meet through ``ChaosProxy`` while it breaks their links at random
(seeded: ``CIRCLE_CHAOS_SEED`` replays a run's choices). Each of them acts at
random meanwhile: hands, shares, "me too", signals, and the facilitator's
pause, rounds and stick. Commands sent as a link dies may be lost; that is
the network's right. Events may not: afterwards every member's event log
equals the relay's log filtered by what that member may see, with nothing
lost, duplicated or reordered, and no member was ever told of a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
from collections.abc import Awaitable, Callable

import pytest

from circle_room.protocol.messages import LowerHand, MoveHand, SignalSent, StopRound
from circle_room.protocol.model import Role, SignalKind
from circle_room.server.config import Rate, RelayConfig
from circle_room.tui.client.connection import Resynced, Status, StatusChanged
from tests.fault.chaos import ChaosProxy
from tests.fault.support import (
    as_logged,
    expected_events,
    latest_seq,
    relay_url,
    report,
    start_relay,
)
from tests.server.support import JoinFn, MakeRelay, Peer, all_see, assert_same_room

pytestmark = [pytest.mark.fault, pytest.mark.slow]

SEED = int(os.environ.get("CIRCLE_CHAOS_SEED", "11"))
CYCLES = 200
"""Drop-and-resume cycles, summed over the members, before the chaos stops."""
PLENTY = Rate(burst=10_000, per_second=10_000)
CONFIG = RelayConfig(
    log_size=1_000_000,  # The whole meeting stays in the log, to compare against.
    share_rate=PLENTY,
    hand_rate=PLENTY,
    metoo_rate=PLENTY,
    signal_rate=PLENTY,
    other_rate=PLENTY,
    frame_rate=PLENTY,
)
"""Rate limits are not under test here; refusals would only thin out the meeting."""

Action = Callable[[Peer, random.Random], Awaitable[object]]


async def share(peer: Peer, rng: random.Random) -> object:
    if peer.state.holder == peer.id:
        return await peer.client.share(f"{peer.client.name} says {rng.randrange(10**6)}")
    return await peer.client.raise_hand()


async def yield_or_pass(peer: Peer, rng: random.Random) -> object:
    turn = peer.state.turn
    if turn is not None and turn.holder == peer.id and turn.shares == 0 and rng.random() < 0.5:
        return await peer.client.pass_stick()
    return await peer.client.yield_stick()


async def me_too(peer: Peer, rng: random.Random) -> object:
    return await peer.client.me_too(rng.random() < 0.7)


async def signal(peer: Peer, rng: random.Random) -> object:
    return await peer.client.signal(rng.choice(list(SignalKind)))


async def lower(peer: Peer, rng: random.Random) -> object:
    return await peer.client.send(LowerHand())


MEMBER_ACTIONS: list[Action] = [share, share, share, yield_or_pass, me_too, me_too, signal, lower]


async def pause_or_resume(peer: Peer, rng: random.Random) -> object:
    if peer.state.pause is None:
        return await peer.client.pause("breathe")
    return await peer.client.resume()


async def give_stick(peer: Peer, rng: random.Random) -> object:
    others = [m for m in peer.state.members if m != peer.id]
    return await peer.client.give_stick(rng.choice(others))


async def rounds(peer: Peer, rng: random.Random) -> object:
    if peer.state.round is None:
        return await peer.client.start_round()
    return await peer.client.send(StopRound())


async def tidy_hands(peer: Peer, rng: random.Random) -> object:
    queue = peer.state.queue
    if len(queue) > 1 and rng.random() < 0.7:
        return await peer.client.send(MoveHand(queue[-1], 0))
    return await peer.client.lower_all_hands()


FACILITATOR_ACTIONS: list[Action] = [
    pause_or_resume,
    pause_or_resume,
    give_stick,
    rounds,
    tidy_hands,
    share,
    signal,
]


async def act(peer: Peer, actions: list[Action], rng: random.Random, stop: asyncio.Event) -> int:
    """Act at random until ``stop``; return how many commands were sent."""
    sent = 0
    while not stop.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            # A pause between actions, cut short by the stop: no sleep to wait on anything.
            await asyncio.wait_for(stop.wait(), rng.uniform(0.01, 0.12))
        if stop.is_set():
            break
        await rng.choice(actions)(peer, rng)
        sent += 1
    return sent


def own_signals(peer: Peer) -> list[SignalSent]:
    return [e for e in peer.events(SignalSent) if e.member_id == peer.id]


def resumes(peer: Peer) -> int:
    connected = [u for u in peer.updates if isinstance(u, StatusChanged)]
    return sum(u.status is Status.CONNECTED for u in connected) - 1


async def caught_up(room: object, peers: list[Peer]) -> None:
    """Until a whole pass finds nothing new: everyone has everything the relay logged."""
    while True:
        seq = latest_seq(room)  # type: ignore[arg-type]
        for peer in peers:
            wanted = [s for s, _ in expected_events(room, peer.id, 0)]  # type: ignore[arg-type]
            last = wanted[-1] if wanted else 0
            await peer.wait(lambda p=peer, s=last: p.client.seq >= s, f"seq {last}")
        if latest_seq(room) == seq:  # type: ignore[arg-type]
            return


@pytest.mark.timeout(300)
async def test_drops_stalls_and_resets_lose_duplicate_and_reorder_nothing(
    make_relay: MakeRelay, join: JoinFn
) -> None:
    rng = random.Random(SEED)
    relay = await start_relay(make_relay, CONFIG)
    proxy = ChaosProxy(relay.port, random.Random(rng.random()))
    url = relay_url(await proxy.start())
    fran = await join(url, "Fran", key=relay.key)
    members = [await join(url, name) for name in ("alice", "bob", "carol", "dan", "erin")]
    everyone = [fran, *members]
    # A co-facilitator: private events (signals) then have more than one reader.
    await fran.client.promote(members[0].id)
    await all_see(everyone, lambda p: p.state.members[members[0].id].role is Role.COFACILITATOR, "")
    joined_at = {p.id: p.welcome.seq for p in everyone}

    stop = asyncio.Event()
    roles = [(p, FACILITATOR_ACTIONS if p is fran else MEMBER_ACTIONS) for p in everyone]
    actors = [
        asyncio.ensure_future(act(p, actions, random.Random(rng.random()), stop))
        for p, actions in roles
    ]
    try:
        while sum(resumes(p) for p in everyone) < CYCLES:
            # The fault schedule, not a wait for anything.
            await asyncio.sleep(rng.uniform(0.005, 0.04))
            proxy.strike()
            assert all(p.client.status is not Status.CLOSED for p in everyone), [
                p.updates[-3:] for p in everyone
            ]
    finally:
        stop.set()
        sent = sum(await asyncio.gather(*actors))
        proxy.calm()

    await all_see(everyone, lambda p: p.client.status is Status.CONNECTED, "everyone back")
    # A last word from each, in order after anything they still had queued.
    said = {p.id: len(own_signals(p)) for p in everyone}
    for peer in everyone:
        await peer.client.signal(SignalKind.OK)
    await all_see(everyone, lambda p: len(own_signals(p)) > said[p.id], "their own last signal")
    room = relay.room
    await caught_up(room, everyone)

    lost = duplicated = reordered = checked = 0
    for peer in everyone:
        want = expected_events(room, peer.id, joined_at[peer.id])
        got = as_logged([(u.seq, u.event) for u in peer.received()], want)
        seqs = [s for s, _ in got]
        lost += len({s for s, _ in want} - set(seqs))
        duplicated += len(seqs) - len(set(seqs))
        reordered += sum(a >= b for a, b in itertools.pairwise(seqs))
        checked += len(want)
        assert got == want, f"{peer!r} differs from the relay's log"
        assert not [u for u in peer.updates if isinstance(u, Resynced)], "a gap was reported"
        assert_same_room(peer, room)
    cycles = sum(resumes(p) for p in everyone)
    report(
        f"chaos (seed {SEED}): {cycles} drop/resume cycles over {len(everyone)} members, "
        f"faults {dict(proxy.struck)}, {sent} commands, {latest_seq(room)} events logged, "
        f"{checked} deliveries checked: {lost} lost, {duplicated} duplicated, "
        f"{reordered} reordered"
    )
    assert cycles >= CYCLES
    await proxy.close()

"""The relay SIGKILLed in the middle of a burst of changes, again and again, on a bad network.

tests/server/test_relay_restart.py kills ``circle serve`` once, at a quiet
moment, and checks that the circle comes back. This test kills it at a
random moment (seeded) while members are raising hands and a chaos proxy
drops their links, five times over, and checks the promise that makes a
restart safe: what any member was told is never undone. Hands are only ever
raised during a burst, so the queue only grows, and every queue a member saw
before the kill must be a prefix of the queue the next relay restores. The
stick and a pause seen before the kill come back too, every member keeps
their seat and is told of the gap exactly once per restart, and afterwards
the meeting goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
from pathlib import Path

import pytest

from circle_room.protocol.messages import Paused
from circle_room.protocol.model import Presence, RoomState
from circle_room.protocol.room import apply
from circle_room.tui.client.connection import Received, Resynced, Status
from tests.fault.chaos import ChaosProxy
from tests.fault.support import Spawned, Spawner, add_room, relay_url, report
from tests.server.support import JoinFn, Peer, all_see, without_metoo_names

pytestmark = [pytest.mark.fault, pytest.mark.slow]

SEED = int(os.environ.get("CIRCLE_CHAOS_SEED", "11"))
KILLS = 5


def queues_seen(peer: Peer, start: RoomState, since: int) -> list[tuple[int, ...]]:
    """Every queue ``peer`` was shown after its ``since``-th update, from state ``start``."""
    state, seen = start, []
    for update in peer.updates[since:]:
        if isinstance(update, Received):
            state = apply(state, update.event)
            seen.append(state.queue)
    return seen


def back(peer: Peer, count: int) -> bool:
    members = peer.state.members.values()
    return (
        peer.client.status is Status.CONNECTED
        and len(members) == count
        and all(m.presence is Presence.PRESENT for m in members)
    )


def gaps(peer: Peer) -> list[Resynced]:
    return [u for u in peer.updates if isinstance(u, Resynced)]


async def burst(hands: list[Peer], rng: random.Random) -> None:
    """Everyone but the holder raises a hand, in a random order, a moment apart."""
    for peer in rng.sample(hands, len(hands)):
        await asyncio.sleep(rng.uniform(0, 0.03))  # The members' own pace.
        with contextlib.suppress(ConnectionError):
            await peer.client.raise_hand()


@pytest.mark.timeout(240)
async def test_what_anyone_was_told_survives_a_sigkill_at_any_moment(
    spawner: Spawner, join: JoinFn, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    data = tmp_path / "data"
    key = add_room(data)
    relay: Spawned = await spawner.serve(data)
    port = relay.port
    proxy = ChaosProxy(port, random.Random(rng.random()))
    url = relay_url(await proxy.start())
    fran = await join(url, "Fran", key=key)
    alice = await join(url, "alice")
    hands = [await join(url, name) for name in ("bob", "carol", "dan", "erin")]
    everyone = [fran, alice, *hands]
    ids = {p.client.name: p.id for p in everyone}
    await alice.client.raise_hand()
    await all_see(everyone, lambda p: p.state.holder == alice.id, "alice holds the stick")

    told_first = []
    pause_told = False
    for kill in range(1, KILLS + 1):
        if fran.state.queue:
            await fran.client.lower_all_hands()
        await all_see(everyone, lambda p: p.state.queue == (), "no hands up")
        start = {p.id: (p.state, len(p.updates)) for p in everyone}
        before_gaps = {p.id: len(gaps(p)) for p in everyone}

        raising = asyncio.ensure_future(burst(hands, rng))
        if kill == KILLS:
            pausing = asyncio.ensure_future(fran.client.pause("hold on"))
        for _ in range(rng.randrange(3)):
            proxy.strike()
        await asyncio.sleep(rng.uniform(0, 0.12))  # The moment of the kill, at random.
        assert await relay.signal(signal.SIGKILL) == -signal.SIGKILL
        await raising
        if kill == KILLS:
            await pausing
        proxy.calm()

        seen = [q for p in everyone for q in queues_seen(p, *start[p.id])]
        paused_seen = any(
            isinstance(u, Received) and isinstance(u.event, Paused)
            for p in everyone
            for u in p.updates[start[p.id][1] :]
        )
        told_first.append(max(map(len, seen), default=0))
        pause_told = pause_told or paused_seen

        relay = await spawner.serve(data, port=port)
        await all_see(everyone, lambda p: back(p, len(everyone)), "everyone back")
        for peer in everyone:
            assert peer.id == ids[peer.client.name], "a member lost their seat"
            new = gaps(peer)[before_gaps[peer.id] :]
            assert [g.gap for g in new] == [True], f"{peer!r}: told of the gap once"
            restored = new[0].state
            assert restored.holder == alice.id
            for queue in seen:
                assert restored.queue[: len(queue)] == queue, (
                    f"kill {kill}: {peer!r} restored {restored.queue}, but {queue} was told"
                )
            if paused_seen:
                assert restored.pause is not None, f"kill {kill}: a pause was told, then lost"

    # The circle that came back is live, and everyone sees the same one.
    if fran.state.pause is not None:
        await fran.client.resume()
    await all_see(everyone, lambda p: p.state.pause is None, "resumed")
    await alice.client.share("still here after all that")
    await all_see(everyone, lambda p: "still here after all that" in p.shares(), "the share")
    for peer in everyone:
        assert without_metoo_names(peer.state) == without_metoo_names(fran.state)
    report(
        f"relay kills (seed {SEED}): {KILLS} SIGKILLs mid-burst, hands told before each "
        f"kill {told_first}, pause told before the last: {pause_told}, "
        f"faults {dict(proxy.struck)}; every told change restored"
    )
    await proxy.close()

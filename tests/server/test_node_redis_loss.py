"""Redis loses every room's history mid-meeting (FLUSHALL): a new epoch, said plainly.

The room goes on from the nodes' memory under a new epoch: the first event
appended after the wipe carries it, every node rebuilds from it and closes its
connections, and every member's resume is answered ``resumed=false`` with the
room as it is, never a silent gap and never a replay under the old epoch.
"""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from circle_room.protocol.messages import RaiseHand, Share, Welcome
from circle_room.protocol.model import Presence
from circle_room.server.redis_log import RoomLog, Snap
from tests.server.conftest import MakeNode
from tests.server.node_processes import audiences, holder, member, owner_of_room, until, view
from tests.server.redis_support import RedisServer
from tests.server.support import ROOM, Peer, all_see

pytestmark = pytest.mark.slow


async def test_a_wiped_redis_starts_a_new_epoch_and_every_resume_says_so(
    nodes: tuple[MakeNode, str], redis_server: RedisServer
) -> None:
    make, key = nodes
    a, b = await make(), await make()
    admin = aioredis.Redis.from_url(redis_server.admin_url)
    welcomes: dict[str, list[Welcome]] = {"Host": [], "Bea": [], "Cy": []}
    peers: list[Peer] = []
    try:
        peers.append(await member(a.url, "Host", welcomes["Host"], key=key))
        peers.append(await member(b.url, "Bea", welcomes["Bea"]))
        peers.append(await member(a.url, "Cy", welcomes["Cy"]))
        host, bea, cy = peers
        await bea.client.send(RaiseHand())
        await all_see(peers, lambda p: holder(p) == bea.id, "Bea holding the stick")
        await bea.client.send(Share("before the wipe"))
        await all_see(peers, lambda p: p.shares() == ["before the wipe"], "the first share")
        old_epoch, seq_before = host.welcome.epoch, host.client.seq

        await admin.flushall()
        # The old owner loses its lease with the rest; a node takes the room anew.
        await until(lambda: _owned(admin), "a node to take the wiped room", timeout=10)
        await cy.client.send(RaiseHand())
        await all_see(
            peers,
            lambda p: len(welcomes[p.client.name]) == 2 and cy.id in p.state.queue,
            "a resume after the wipe, and Cy's hand",
        )
        for name, got in welcomes.items():
            fresh = got[1]
            assert not fresh.resumed and fresh.epoch != old_epoch, name
            assert fresh.state is not None and fresh.seq >= seq_before, name
        assert len({w[1].epoch for w in welcomes.values()}) == 1

        # The room goes on under the new epoch, and nothing is missed after it.
        await bea.client.send(Share("after the wipe"))
        await all_see(peers, lambda p: p.state.turn is not None, "the stick still held")
        await all_see(peers, lambda p: "after the wipe" in p.shares(), "the second share")
        await all_see(
            peers,
            lambda p: all(m.presence is Presence.PRESENT for m in p.state.members.values()),
            "everyone present again",
        )
        rows = await admin.xrange(f"room:{{{ROOM}}}:stream", "-", "+")
        assert rows[0][1][b"e"].decode() == welcomes["Host"][1].epoch
        first = int(rows[0][0].decode().partition("-")[2])
        settings = a.relay.store.room(ROOM).settings  # type: ignore[union-attr]
        snap = await RoomLog(admin, ROOM, 100).snap()
        assert snap is not None and snap.seq == first - 1
        for peer in peers:
            mine = welcomes[peer.client.name][1]
            seqs = [u.seq for u in peer.received()]
            assert len(seqs) == len(set(seqs)) and seqs == sorted(seqs), peer
            after = [s for s in seqs if s > mine.seq]
            tip = max(seqs)
            expected = [s for s in _seen_after(rows, settings, snap, peer.id, mine.seq) if s <= tip]
            assert after == expected, peer
        assert len({repr(view(p)) for p in peers}) == 1
    finally:
        for peer in peers:
            await peer.stop()
        await admin.aclose()


async def _owned(admin: aioredis.Redis) -> bool:
    return await owner_of_room(admin) != ""


def _seen_after(
    rows: list[tuple[bytes, dict[bytes, bytes]]],
    settings: object,
    snap: Snap,
    member_id: int,
    seq: int,
) -> list[int]:
    """The seqs after ``seq`` that ``member_id`` may read, following the new epoch's log."""
    return [s for s in audiences(rows, settings, snap).get(member_id, []) if s > seq]

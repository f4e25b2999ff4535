"""A zombie owner: paused past its lease, replaced, then woken; its appends are fenced.

SIGSTOP the node that decides for the room for longer than the lease, so
another node takes the lease over and the meeting goes on there; then
SIGCONT. The woken node still believes it decides and still holds commands
to decide, but every append it tries carries its old fence: the script
answers FENCED, it stops deciding, and no member sees any seq twice.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from circle_room.protocol.codec import decode
from circle_room.protocol.messages import RaiseHand, Share, Welcome, Yield
from tests.server.node_processes import (
    SECRET,
    NodeProcess,
    audiences,
    holder,
    member,
    new_room,
    no_file_holds,
    owner_of_room,
    settled_rows,
    until,
    view,
)
from tests.server.redis_support import RedisServer
from tests.server.support import Peer, all_see

pytestmark = pytest.mark.slow


async def test_a_paused_owner_that_wakes_is_fenced_and_nobody_sees_a_seq_twice(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    data = tmp_path / "data"
    key, settings = new_room(data)
    nodes = [NodeProcess(data, redis_server.url, tmp_path / f"node{i}.log") for i in range(3)]
    admin = aioredis.Redis.from_url(redis_server.admin_url)
    peers: list[Peer] = []
    welcomes: dict[str, list[Welcome]] = {}
    try:
        # The first member opens the room, so node 0 decides; the host is elsewhere.
        for i, name in enumerate(("Ann", "Host", "Bo", "Cy", "Di", "Ed")):
            welcomes[name] = []
            extra = {"key": key} if name == "Host" else {}
            peers.append(await member(nodes[i % 3].url, name, welcomes[name], **extra))
        await all_see(peers, lambda p: len(p.state.members) == 6, "six members")
        zombie = nodes[0]
        assert await owner_of_room(admin) == zombie.node_id
        bo = peers[2]
        await bo.client.send(RaiseHand())
        await all_see(peers, lambda p: holder(p) == bo.id, "Bo holding the stick")
        await bo.client.send(Share(f"{SECRET} before the pause"))
        await all_see(peers, lambda p: len(p.shares()) == 1, "the first share")

        os.kill(zombie.process.pid, signal.SIGSTOP)
        await until(
            lambda: _other_owner(admin, zombie), "another node to take the lease", timeout=20
        )
        # The meeting goes on under the new owner while the old one sleeps.
        awake = [p for i, p in enumerate(peers) if i % 3 != 0]
        await bo.client.send(Share(f"{SECRET} during the pause"))
        await all_see(awake, lambda p: len(p.shares()) == 2, "a share under the new owner")
        new_owner = await owner_of_room(admin)

        os.kill(zombie.process.pid, signal.SIGCONT)
        # It wakes holding commands it has not decided and a lease it lost.
        await until(lambda: zombie.said("stopped deciding (FENCED)"), "the zombie to be fenced")
        assert await owner_of_room(admin) == new_owner
        await bo.client.send(Share(f"{SECRET} after the pause"))
        await bo.client.send(Yield())
        ann = peers[0]  # Her connection was on the zombie all along.
        await ann.client.send(RaiseHand())
        await all_see(peers, lambda p: holder(p) == ann.id, "Ann holding the stick")

        rows = await settled_rows(peers, admin)
        stream_seqs = [int(r[0].decode().partition("-")[2]) for r in rows]
        assert stream_seqs == list(range(stream_seqs[0], stream_seqs[-1] + 1))
        expected = audiences(rows, settings)
        for peer in peers:
            seqs = [u.seq for u in peer.received()]
            assert len(seqs) == len(set(seqs)) and seqs == sorted(seqs), peer
            assert seqs == [s for s in expected[peer.id] if s > peer.welcome.seq], (
                peer,
                [decode(r[1][b"d"]) for r in rows[-3:]],
                peer.updates[-6:],
            )
            assert peer.shares()[-1] == f"{SECRET} after the pause", peer
        epoch = peers[0].welcome.epoch
        assert all(w.epoch == epoch for ws in welcomes.values() for w in ws)
        assert all(w.resumed for ws in welcomes.values() for w in ws[1:])
        assert len({repr(view(p)) for p in peers}) == 1
        assert await owner_of_room(admin) == new_owner
    finally:
        for peer in peers:
            await peer.stop()
        for node in nodes:
            node.stop()
        await admin.aclose()
    redis_server.stop()
    no_file_holds(tmp_path, SECRET)


async def _other_owner(admin: aioredis.Redis, zombie: NodeProcess) -> bool:
    owner = await owner_of_room(admin)
    return owner not in ("", zombie.node_id)

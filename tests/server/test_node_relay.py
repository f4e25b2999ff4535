"""Several relay nodes serving one room through a real redis-server, in one event loop."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from redis.exceptions import NoPermissionError, ResponseError

from circle_room.protocol.close_codes import CloseCode
from circle_room.protocol.messages import HandRaised, MemberAway, RaiseHand, Resume, Share, Shared
from circle_room.protocol.model import Presence
from circle_room.server.node_room import NodeRoom
from tests.server.conftest import MakeNode
from tests.server.node_processes import until
from tests.server.redis_support import RedisServer
from tests.server.support import ROOM, JoinFn, all_see, raw_join, read_until_closed


async def test_a_share_on_one_node_reaches_members_on_the_others(
    nodes: tuple[MakeNode, str], join: JoinFn
) -> None:
    make, key = nodes
    a, b, c = await make(), await make(), await make()
    host = await join(a.url, "Host", key=key)
    bea = await join(b.url, "Bea")
    cy = await join(c.url, "Cy")
    peers = [host, bea, cy]
    await all_see(peers, lambda p: len(p.state.members) == 3, "three members")
    await bea.client.send(RaiseHand())
    await all_see(peers, lambda p: p.state.turn is not None, "Bea holding the stick")
    await bea.client.send(Share("it has been a long week"))
    await all_see(peers, lambda p: p.shares() == ["it has been a long week"], "Bea's share")
    assert {p.welcome.epoch for p in peers} == {host.welcome.epoch}
    assert [p.client.seq for p in peers] == [host.client.seq] * 3


async def test_a_member_resumes_on_another_node_with_nothing_lost(
    nodes: tuple[MakeNode, str], join: JoinFn
) -> None:
    make, key = nodes
    a, b = await make(), await make()
    host = await join(a.url, "Host", key=key)
    bea = await join(a.url, "Bea")
    await bea.client.send(RaiseHand())
    await all_see([host, bea], lambda p: p.state.turn is not None, "Bea holding the stick")
    # Bea's node goes away; her client comes back through the other one.
    bea.client.url = b.url
    await a.relay.close()
    await bea.wait(lambda: bea.client.url == b.url and bea.state.turn is not None, "resumed")
    await bea.client.send(Share("still here"))
    await bea.wait(lambda: bea.shares() == ["still here"], "her own share")
    seqs = [u.seq for u in bea.received()]
    assert seqs == sorted(set(seqs))


async def test_a_refusal_comes_back_to_the_member_on_another_node(
    nodes: tuple[MakeNode, str], join: JoinFn
) -> None:
    make, key = nodes
    a, b = await make(), await make()
    await join(a.url, "Host", key=key)
    bea = await join(b.url, "Bea")
    ref = await bea.client.send(Share("not holding the stick"))
    error = await bea.error(ref)
    assert error.code
    assert not bea.events(Shared)


async def test_a_resume_on_another_node_closes_the_stale_connection_with_4010(
    nodes: tuple[MakeNode, str], join: JoinFn
) -> None:
    make, key = nodes
    a, b = await make(), await make()
    host = await join(a.url, "Host", key=key)
    stale, welcome = await raw_join(a.url, "Bea")
    await host.wait(lambda: len(host.state.members) == 2, "Bea in")
    # Her link to node A looks alive to A; her client gave up on it and came back on B.
    resume = Resume(welcome.token, welcome.epoch, welcome.seq)
    fresh, again = await raw_join(b.url, "Bea", resume=resume)
    try:
        assert again.resumed and again.member_id == welcome.member_id
        code, _ = await read_until_closed(stale)
        assert code == CloseCode.REPLACED
        # A said nothing to the owner of that close: Bea never went away.
        await host.client.send(RaiseHand())
        await host.wait(lambda: bool(host.events(HandRaised)), "the host's hand")
        assert not host.events(MemberAway)
        assert host.state.members[welcome.member_id].presence is Presence.PRESENT
        conn = await b.relay.redis.hget(f"room:{{{ROOM}}}:conn", str(welcome.member_id))
        assert conn == b.relay.node_id.encode()
    finally:
        await fresh.close()


async def test_an_owner_whose_lease_was_taken_is_fenced_and_shows_nothing(
    nodes: tuple[MakeNode, str], join: JoinFn, redis_server: RedisServer
) -> None:
    make, key = nodes
    a = await make()
    host = await join(a.url, "Host", key=key)
    bea = await join(a.url, "Bea")
    room = a.relay.rooms[ROOM]
    assert isinstance(room, NodeRoom) and room.owner is not None
    admin = aioredis.Redis.from_url(redis_server.admin_url)
    try:
        # As if it had slept past its lease and another node took the room.
        await admin.set(room.rlog.lease, "other:999", px=60_000)
        tip = host.client.seq
        await bea.client.send(RaiseHand())
        await until(lambda: room.owner is None, "the owner to stop deciding")
        assert [r[0] for r in await admin.xrange(room.rlog.stream, f"(0-{tip}", "+")] == []
        assert await admin.get(room.rlog.lease) == b"other:999"
        assert host.client.seq == bea.client.seq == tip
    finally:
        await admin.aclose()


async def test_the_relays_user_cannot_turn_persistence_on(redis_server: RedisServer) -> None:
    relay = aioredis.Redis.from_url(redis_server.url)
    try:
        for command in (("BGSAVE",), ("CONFIG", "SET", "appendonly", "yes")):
            with pytest.raises(NoPermissionError):
                await relay.execute_command(*command)
        with pytest.raises(ResponseError, match=r"(?i)permission|not allowed"):
            await relay.eval("return redis.call('BGSAVE')", 0)
    finally:
        await relay.aclose()

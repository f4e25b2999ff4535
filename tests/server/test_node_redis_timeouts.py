"""A node whose link to Redis falls silent mid-meeting gives up on it and carries on.

Node A reaches Redis through a proxy that can freeze like a dropped network:
the kernel still acknowledges, so only a timeout can tell. Without one, A's
blocking read and its notice channel would wait on the dead links for ever
and its members would see nothing more of the meeting.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from circle_room.protocol.messages import HandRaised, RaiseHand, Share
from circle_room.server.config import RelayConfig
from circle_room.server.node_relay import NodeRelay
from circle_room.server.redis_log import BLOCK_MS
from circle_room.server.store import Store
from tests.server.conftest import MakeNode
from tests.server.proxy import Proxy
from tests.server.redis_support import RELAY_PASSWORD, RELAY_USER, RedisServer
from tests.server.support import ROOM, JoinFn

REPLY_TIMEOUT = 2.5
"""Short for the test, and still longer than a blocking read."""


async def test_a_node_whose_redis_link_goes_silent_reconnects_and_its_members_go_on(
    nodes: tuple[MakeNode, str], join: JoinFn, redis_server: RedisServer, tmp_path: Path
) -> None:
    make, key = nodes
    b = await make()
    host = await join(b.url, "Host", key=key)  # B opens the room: B decides.
    proxy = await Proxy(redis_server.port).start()
    url = f"redis://{RELAY_USER}:{RELAY_PASSWORD}@127.0.0.1:{proxy.port}"
    a = NodeRelay(Store(tmp_path / "data"), url, RelayConfig(), reply_timeout=REPLY_TIMEOUT)
    await a.start("127.0.0.1", 0)
    try:
        bea = await join(f"ws://127.0.0.1:{a.port}/{ROOM}", "Bea")
        await host.wait(lambda: len(host.state.members) == 2, "Bea in")
        proxy.freeze()
        # A's reader is blocked on a link that now carries nothing either way.
        await host.client.send(RaiseHand())
        await bea.wait(lambda: bool(bea.events(HandRaised)), "the host's hand", timeout=20)
        # The owner's refusal comes back on A's notice channel, over a new link too.
        # A command A sent into a link that had just died is lost (its client
        # gets no answer), so Bea asks again, as a person would, until answered.
        refs: list[int] = []
        for _ in range(4):
            refs.append(await bea.client.send(Share("not holding the stick")))
            try:
                await bea.wait(lambda: any(e.ref in refs for e in bea.errors()), "a refusal", 8)
                break
            except AssertionError:
                continue
        assert any(e.ref in refs for e in bea.errors()), "no refusal came back to node A"
    finally:
        await a.close()
        a.store.close()
        await proxy.close()


async def test_a_blocking_read_ends_before_the_reply_timeout(
    nodes: tuple[MakeNode, str], join: JoinFn
) -> None:
    make, key = nodes
    a = await make()
    await join(a.url, "Host", key=key)
    rlog = a.relay.room(ROOM).rlog  # type: ignore[union-attr]
    meta = await rlog.meta()
    assert meta is not None
    # Nothing comes after the tip: the read waits its whole block and answers empty.
    assert await rlog.after(meta.seq, block_ms=BLOCK_MS) == []


def test_a_reply_timeout_shorter_than_a_blocking_read_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="blocking read"):
        NodeRelay(Store(tmp_path), "redis://127.0.0.1:1", reply_timeout=BLOCK_MS / 1000)

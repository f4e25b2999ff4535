"""Keepalive TCP segments per idle member-hour: Circle, websockets' own keepalive, ngircd.

An hour is too long to wait, so each system runs with its keepalive times
divided by a scale factor, for a window of about ten of its keepalive periods,
and the segments counted on each member's socket (``ss``: segs_in + segs_out,
both directions) are scaled back:

    segments per idle member-hour = segments in the window / members
                                    x (3600 s / window) / scale

That holds when the timers are punctual, which they are for Circle (the
relay's timer resolution shrinks with its times) and for websockets. ngircd
checks its timers once a second, which does not scale down, so for it the
window counts the PINGs too, and the hour is built from the segments per
PING exchange times the exchanges an hour holds at ngircd's default
``PingTimeout`` (120 s) plus the lateness measured in the window (about 30).

- Circle: the relay and ``CircleClient`` as shipped, times / ``--idle-scale``.
- websockets' keepalive, 20 s from both ends with a 60 s timeout: what Circle
  did before quiet-link pings (a bare websockets server and clients), times / 10.
- ngircd with ``PingTimeout`` 4 s instead of 120 s (its other settings default).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any

from irc import IrcClient, Ngircd
from sockets import Counts, snapshot
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve

from circle_room.protocol.keepalive import CLIENT, RELAY
from circle_room.server.config import RelayConfig
from circle_room.server.relay import Relay
from circle_room.server.store import Store
from circle_room.tui.client.connection import CircleClient

HOUR = 3600.0
WEBSOCKETS_PING = (20.0, 60.0)
"""websockets' keepalive as Circle used it before: ping every 20 s, 60 s timeout."""
WEBSOCKETS_SCALE = 10.0
IRC_DEFAULT_PING = 120
IRC_PING = 4


def _sockets_to(port: int) -> dict[tuple[int, int], Counts]:
    """The client ends of every connection to ``port``."""
    return {key: c for key, c in snapshot().items() if key[1] == port}


def _delta(
    before: dict[tuple[int, int], Counts], after: dict[tuple[int, int], Counts]
) -> tuple[int, int]:
    """(sockets present throughout, segments on them in between)."""
    common = before.keys() & after.keys()
    return len(common), sum((after[k] - before[k]).segments for k in common)


async def _window(port: int, window: float) -> tuple[int, int]:
    before = _sockets_to(port)
    await asyncio.sleep(window)
    return _delta(before, _sockets_to(port))


async def circle_idle(members: int, scale: float, window: float) -> dict[str, Any]:
    data_dir = tempfile.mkdtemp(prefix="circle-bench-idle-")
    store = Store(Path(data_dir))
    store.add_room("idle")
    config = RelayConfig(ping_interval=RELAY.idle / scale, ping_timeout=RELAY.timeout / scale)
    relay = Relay(store, config)
    await relay.start("127.0.0.1", 0)
    clients = []
    try:
        for n in range(members):
            client = CircleClient(
                f"ws://127.0.0.1:{relay.port}/idle",
                name=f"member {n}",
                ping_interval=CLIENT.idle / scale,
                ping_timeout=CLIENT.timeout / scale,
            )
            await client.connect()
            clients.append(client)
        await asyncio.sleep(CLIENT.limit / scale)  # every link settled into its idle rhythm
        sockets, segments = await _window(relay.port, window)
        reconnects = sum(c.status.value != "connected" for c in clients)
    finally:
        await relay.close()  # first, so that no grace-period timer outlives the store
        for client in clients:
            await client.close()
        store.close()
        shutil.rmtree(data_dir, ignore_errors=True)
    return _per_hour(
        "Circle",
        f"relay pings a link quiet for {RELAY.idle:g} s (/{scale:g}), "
        f"client after {CLIENT.idle:g} s",
        sockets,
        segments,
        window,
        scale,
        extra={"not_connected_at_end": reconnects},
    )


async def websockets_idle(members: int, window: float) -> dict[str, Any]:
    """websockets' built-in keepalive on both ends, as Circle had it before."""
    interval, timeout = (t / WEBSOCKETS_SCALE for t in WEBSOCKETS_PING)

    async def handler(ws: ServerConnection) -> None:
        await ws.wait_closed()

    clients: list[ClientConnection] = []
    async with serve(
        handler, "127.0.0.1", 0, ping_interval=interval, ping_timeout=timeout
    ) as server:
        port = int(server.sockets[0].getsockname()[1])
        try:
            for _ in range(members):
                clients.append(
                    await connect(
                        f"ws://127.0.0.1:{port}", ping_interval=interval, ping_timeout=timeout
                    )
                )
            await asyncio.sleep(interval)
            sockets, segments = await _window(port, window)
        finally:
            for ws in clients:
                await ws.close()
    return _per_hour(
        "websockets keepalive (Circle before)",
        f"ping every {WEBSOCKETS_PING[0]:g} s from both ends (/{WEBSOCKETS_SCALE:g})",
        sockets,
        segments,
        window,
        WEBSOCKETS_SCALE,
    )


async def irc_idle(binary: str, members: int, window: float, ping: int) -> dict[str, Any]:
    server = await Ngircd(binary, ping_timeout=ping).start()
    clients: list[IrcClient] = []
    try:
        for n in range(members):
            clients.append(await IrcClient.join(server.port, f"idle{n}"))
        await asyncio.sleep(ping + 1)
        pings_before = sum(c.pings for c in clients)
        sockets, segments = await _window(server.port, window)
        pings = sum(c.pings for c in clients) - pings_before
    finally:
        for client in clients:
            await client.close()
        server.stop()
    per_exchange = segments / pings if pings else float("nan")
    # ngircd's once-a-second timer makes each period a little longer than
    # PingTimeout; the same lateness is added to the default period.
    period = window * sockets / pings if pings else float("nan")
    per_hour = per_exchange * HOUR / (IRC_DEFAULT_PING + period - ping)
    return {
        "system": "ngircd",
        "how": f"server PINGs a client quiet for PingTimeout ({IRC_DEFAULT_PING} s; "
        f"run with {ping} s)",
        "members": sockets,
        "window_s": window,
        "segments": segments,
        "pings": pings,
        "segments_per_exchange": round(per_exchange, 2),
        "measured_period_s": round(period, 2),
        "segments_per_idle_member_hour": round(per_hour, 1),
    }


def _per_hour(
    system: str,
    how: str,
    sockets: int,
    segments: int,
    window: float,
    scale: float,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    per_hour = segments / max(1, sockets) * (HOUR / window) / scale
    return {
        "system": system,
        "how": how,
        "members": sockets,
        "window_s": window,
        "scale": scale,
        "segments": segments,
        "segments_per_idle_member_hour": round(per_hour, 1),
        **(extra or {}),
    }


async def run(
    irc_binary: str | None,
    members: int = 5,
    scale: float = 50.0,
    periods: float = 10.0,
    irc_ping: int = IRC_PING,
) -> dict[str, Any]:
    """All three side by side, concurrently (idle links barely use the CPU)."""
    circle_window = periods * RELAY.idle / scale
    jobs = [
        circle_idle(members, scale, circle_window),
        websockets_idle(members, circle_window),
    ]
    if irc_binary:
        irc_window = max(circle_window, 3 * irc_ping)
        jobs.append(irc_idle(irc_binary, members, irc_window, irc_ping))
    results = await asyncio.gather(*jobs)
    return {"rows": list(results)}

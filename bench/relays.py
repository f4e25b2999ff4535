"""The two relays of the fan-out benchmark, each run in its own process.

- ``bare``: what websockets' documentation shows, every message it gets goes
  to every connection with ``broadcast``, with Circle's deflate settings, so
  that the difference with Circle is Circle's own work;
- ``circle``: ``Relay`` + ``Store`` as shipped, with the rate limits raised
  (a real member may share once per 3 s) and room for 2000 members.

``relay_main`` sends ``("port", N)`` on its pipe once listening, and stops
when the pipe says anything (or the parent goes away).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from multiprocessing.connection import Connection as Pipe
from pathlib import Path

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

HOST = "127.0.0.1"


def relay_deflate() -> ServerPerMessageDeflateFactory:
    """Circle's relay settings (``server.relay``), given to the bare relay as well."""
    return ServerPerMessageDeflateFactory(
        server_max_window_bits=13,
        client_max_window_bits=12,
        compress_settings={"memLevel": 5, "level": 6},
    )


def relay_main(kind: str, data_dir: str, compression: bool, control: Pipe) -> None:
    asyncio.run(_relay(kind, data_dir, compression, control))


async def _relay(kind: str, data_dir: str, compression: bool, control: Pipe) -> None:
    # Listeners that leave while a broadcast backlog drains are no news.
    logging.getLogger("asyncio").setLevel(logging.ERROR)
    logging.getLogger("websockets").setLevel(logging.ERROR)
    if kind == "circle":
        await _circle(data_dir, compression, control)
    else:
        await _bare(compression, control)


async def _until_told(control: Pipe) -> None:
    with contextlib.suppress(EOFError):
        await asyncio.to_thread(control.recv)


async def _circle(data_dir: str, compression: bool, control: Pipe) -> None:
    from circle_room.server.config import Rate, RelayConfig
    from circle_room.server.relay import Relay
    from circle_room.server.store import Store

    store = Store(Path(data_dir))
    fast = Rate(1e6, 1e6)
    config = RelayConfig(
        compression=compression, share_rate=fast, frame_rate=fast, max_members=2000
    )
    relay = Relay(store, config)
    await relay.start(HOST, 0)
    control.send(("port", relay.port))
    await _until_told(control)
    await relay.close()
    store.close()


async def _bare(compression: bool, control: Pipe) -> None:
    clients: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        clients.add(ws)
        try:
            async for message in ws:
                broadcast(clients, message)
        except ConnectionClosed:
            pass
        finally:
            clients.discard(ws)

    async with serve(
        handler,
        HOST,
        0,
        compression=None,
        extensions=[relay_deflate()] if compression else None,
        ping_interval=None,
        max_queue=16,
    ) as server:
        control.send(("port", server.sockets[0].getsockname()[1]))
        await _until_told(control)

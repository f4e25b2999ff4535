"""A TCP proxy on 127.0.0.1 that can fall silent like a dead network, and that
counts the websocket frames going each way, by opcode.

``freeze()`` makes every link open at that moment swallow what it receives,
both ways, without closing anything: the kernel still acknowledges, so
neither end sees an error, only silence, as when a laptop leaves the Wi-Fi or
a NAT forgets the connection. Links opened afterwards work normally, so a
client that gives up on a frozen link can reconnect through the same proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from circle_room.server.config import RelayConfig
from circle_room.server.relay import Relay
from circle_room.server.store import Store
from tests.server.support import ROOM, RunningRelay, until

PING = 0x9
PONG = 0xA
TO_RELAY = "to relay"
TO_CLIENT = "to client"

MakePlainRelay = Callable[[RelayConfig], Awaitable[RunningRelay]]


@contextlib.asynccontextmanager
async def plain_relays(folder: Path) -> AsyncIterator[MakePlainRelay]:
    """Start relays on plain ``ws://`` (the proxy reads their frames); close them at the end."""
    running: list[RunningRelay] = []

    async def make(config: RelayConfig) -> RunningRelay:
        store = Store(folder / f"plain-{len(running)}")
        key = store.add_room(ROOM)
        relay = Relay(store, config)
        await relay.start("127.0.0.1", 0)
        running.append(RunningRelay(relay, f"ws://127.0.0.1:{relay.port}/{ROOM}", key))
        return running[-1]

    try:
        yield make
    finally:
        for started in reversed(running):
            await started.relay.close()
            started.relay.store.close()


class FrameCounter:
    """Reads one direction of a websocket connection: HTTP headers, then frames."""

    def __init__(self, counts: Counter[int]) -> None:
        self._buffer = bytearray()
        self._in_headers = True
        self._counts = counts

    def feed(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if self._in_headers:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            del buffer[: end + 4]
            self._in_headers = False
        while len(buffer) >= 2:
            length, start = buffer[1] & 0x7F, 2
            if length == 126:
                length, start = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                length, start = int.from_bytes(buffer[2:10], "big"), 10
            if buffer[1] & 0x80:
                start += 4  # masking key (client to server)
            if len(buffer) < start + length:
                return
            self._counts[buffer[0] & 0x0F] += 1
            del buffer[: start + length]


class Proxy:
    """Forwards 127.0.0.1:``port`` to the relay at ``target``; see the module docstring."""

    def __init__(self, target: int) -> None:
        self._target = target
        self.frames: dict[str, Counter[int]] = {TO_RELAY: Counter(), TO_CLIENT: Counter()}
        """Frames seen on the wire, by direction and opcode, over all links."""
        self._links: list[dict[str, bool]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self._changed = asyncio.Event()
        self._server: asyncio.Server | None = None

    async def start(self) -> Proxy:
        self._server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        return self

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    def url(self, room: str) -> str:
        return f"ws://127.0.0.1:{self.port}/{room}"

    def count(self, direction: str, opcode: int) -> int:
        return self.frames[direction][opcode]

    def freeze(self) -> None:
        """From now on, the links open now carry nothing either way."""
        for link in self._links:
            link["frozen"] = True

    async def wait(self, predicate: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
        """Return once ``predicate()`` holds; checked after every chunk the proxy sees."""
        try:
            await until(self._changed, predicate, timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"waited {timeout} s for {what}; saw {self.frames}") from None

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _link(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        relay_r, relay_w = await asyncio.open_connection("127.0.0.1", self._target)
        self._writers += [client_w, relay_w]
        link = {"frozen": False}
        self._links.append(link)
        for reader, writer, direction in (
            (client_r, relay_w, TO_RELAY),
            (relay_r, client_w, TO_CLIENT),
        ):
            task = asyncio.get_running_loop().create_task(
                self._pump(reader, writer, FrameCounter(self.frames[direction]), link)
            )
            self._tasks.add(task)

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        counter: FrameCounter,
        link: dict[str, bool],
    ) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                counter.feed(data)
                self._changed.set()
                if not link["frozen"]:
                    writer.write(data)
        if not link["frozen"]:
            writer.close()

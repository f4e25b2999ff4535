"""A TCP proxy that plays a bad network between members and a relay.

``ChaosProxy`` listens on 127.0.0.1, port 0, and forwards each connection to
the relay. ``strike`` breaks one live link the way real networks do:

- ``drop``: both sides closed cleanly (a NAT or proxy giving up);
- ``reset``: both sides reset (RST), bytes in flight lost;
- ``cut``: only the member's side is reset; the relay's side stays open and
  silent, as after a laptop lid closes, until the member's resume replaces it;
- ``stall``: nothing moves either way for a while, then the link goes on
  (or, half the time, drops).

Which link and which fault come from a seeded ``random.Random``, so a failing
run can be replayed from its seed (the timing of a real network cannot).
TLS passes through untouched: the proxy sees bytes, never frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections import Counter
from dataclasses import dataclass, field

FAULTS = ("drop", "reset", "cut", "stall")
WEIGHTS = (3, 3, 2, 2)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST rather than FIN: what a dead path or a crashed peer looks like."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@dataclass(eq=False)
class Link:
    """One member connection: member <-> proxy <-> relay."""

    member: asyncio.StreamWriter
    relay: asyncio.StreamWriter
    flowing: asyncio.Event = field(default_factory=asyncio.Event)
    """Cleared while stalled: the pumps hold what they read until it is set again."""
    broken: bool = False
    timer: asyncio.TimerHandle | None = None
    """The end of a stall, while one is on."""
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def drop(self) -> None:
        self.broken = True
        for writer in (self.member, self.relay):
            writer.close()

    def reset(self) -> None:
        self.broken = True
        _reset(self.member)
        _reset(self.relay)

    def cut(self) -> None:
        """The member's side dies; the relay's side is left open and quiet."""
        self.broken = True
        _reset(self.member)

    def stall(self, seconds: float, then_drop: bool) -> None:
        self.flowing.clear()
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(seconds, self.drop if then_drop else self.flowing.set)


class ChaosProxy:
    """``await start()``; members connect to ``port``; ``strike()`` breaks a link."""

    def __init__(self, relay_port: int, rng: random.Random) -> None:
        self.relay_port = relay_port
        self.rng = rng
        self.links: list[Link] = []
        self.struck: Counter[str] = Counter()
        self._server: asyncio.Server | None = None
        self._dangling: list[asyncio.StreamWriter] = []
        """Relay sides of cut links, left open until the end."""

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.relay_port)
        except OSError:
            _reset(writer)  # The relay is down: the member sees a refused connection.
            return
        link = Link(writer, up_writer)
        link.flowing.set()
        self.links.append(link)
        link.tasks = [
            asyncio.ensure_future(self._pump(link, reader, up_writer)),
            asyncio.ensure_future(self._pump(link, up_reader, writer)),
        ]
        await asyncio.gather(*link.tasks, return_exceptions=True)
        self.links.remove(link)
        if not up_writer.is_closing():
            self._dangling.append(up_writer)

    @staticmethod
    async def _pump(link: Link, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                await link.flowing.wait()
                if dst.is_closing():
                    break
                dst.write(data)
                await dst.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            # One direction ended: so does the other, as a real connection would.
            if not link.broken:
                link.drop()

    def live(self) -> list[Link]:
        return [link for link in self.links if not link.broken and link.flowing.is_set()]

    def strike(self) -> str | None:
        """Break one live link at random; return the fault, or None if nothing was live."""
        live = self.live()
        if not live:
            return None
        link = self.rng.choice(live)
        fault = self.rng.choices(FAULTS, WEIGHTS)[0]
        if fault == "drop":
            link.drop()
        elif fault == "reset":
            link.reset()
        elif fault == "cut":
            link.cut()
        else:
            link.stall(self.rng.uniform(0.05, 0.5), then_drop=self.rng.random() < 0.5)
        self.struck[fault] += 1
        return fault

    def calm(self) -> None:
        """No more stalls: every held link flows again, and no stall ends in a drop."""
        for link in self.links:
            if link.timer is not None:
                link.timer.cancel()
            link.flowing.set()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self.links):
            link.reset()
        for link in list(self.links):
            await asyncio.gather(*link.tasks, return_exceptions=True)
        for writer in self._dangling:
            _reset(writer)
        if self._server is not None:
            await self._server.wait_closed()

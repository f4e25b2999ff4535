"""Listener processes for the fan-out and join benchmarks: many members, cheaply.

A listener process holds hundreds of members and has to take tens of
thousands of frames a second on a CPU it shares with the speaker (and, on a
busy machine, with everything else). ``websockets.connect`` with ``recv``
wakes a task per message, and even websockets' sans-I/O parser costs a
generator per frame; then the listeners, not the relay, set the latency. So a
``Member`` speaks just the websocket the relay sends: it writes the upgrade
request itself, reads unmasked server frames from a buffer, inflates
permessage-deflate messages with one ``zlib`` stream per connection (the
relay keeps its context), answers pings, and sends its one ``Hello`` masked.

Only a few members are probes, which read every frame as it comes and time
the shares. The others read in batches: their sockets are paused, and every
``BATCH`` seconds each is let read what the kernel holds (a few kilobytes),
then paused again. The relay's work is the same either way (it writes every
frame to every socket at once; the kernel buffers are far from full), but a
read per socket per share would cost the listener processes more CPU than a
busy two-core machine has, and the latencies would be theirs.

Everything a member measures goes into a ``Tally`` shared by the process.
"""

from __future__ import annotations

import array
import asyncio
import base64
import contextlib
import os
import time
import zlib
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from multiprocessing.sharedctypes import Synchronized
from typing import Any
from urllib.parse import urlsplit

import msgpack
from relay_bench import parse_share

from circle_room.protocol import PROTOCOL_VERSIONS
from circle_room.protocol.codec import decode, encode
from circle_room.protocol.messages import (
    CommandFrame,
    Greeting,
    Hello,
    Leave,
    Said,
    Shared,
    Welcome,
)

TAG_SHARED = Shared.TAG
TEXT_AT = {Shared.TAG: 4, Said.TAG: 2}
"""Where a share's text is in each frame that carries one: ``Shared``, and ``Said`` (version 3)."""
BINARY, CLOSE, PING, PONG = 0x2, 0x8, 0x9, 0xA
BATCH = 0.2
"""Seconds between two reads of a member that is not a probe."""


@dataclass
class Tally:
    delivered: Synchronized[int]
    """``Shared`` frames received, readable by the parent while the run goes on."""
    timing: Synchronized[int]
    """While set, each ``Shared`` frame's latency is recorded."""
    latencies: array.array[float] = field(default_factory=lambda: array.array("d"))
    shared: int = 0
    out_of_order: int = 0


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked client-to-server frame."""
    mask = os.urandom(4)
    length = len(payload)
    head = bytes([0x80 | opcode])
    if length < 126:
        head += bytes([0x80 | length])
    else:
        head += bytes([0x80 | 126]) + length.to_bytes(2, "big")
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


class Member(asyncio.Protocol):
    """One member: joins (for Circle: Greeting, Hello, Welcome), then counts."""

    def __init__(
        self, url: str, kind: str, name: str, compression: bool, tally: Tally, probe: bool
    ) -> None:
        parts = urlsplit(url)
        self.probe = probe
        self.host = f"{parts.hostname}:{parts.port}"
        self.path = parts.path or "/"
        self.kind = kind
        self.name = name
        self.compression = compression
        self.tally = tally
        self.buffer = bytearray()
        self.upgraded = False
        self.inflate: Any = None
        self.last = -1
        self.closing = False
        loop = asyncio.get_running_loop()
        self.joined: asyncio.Future[None] = loop.create_future()
        self.lost: asyncio.Future[None] = loop.create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        offer = "Sec-WebSocket-Extensions: permessage-deflate\r\n" if self.compression else ""
        transport.write(
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\n{offer}\r\n".encode()
        )

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded and not self._upgrade():
            return
        start, end = 0, len(buffer)
        while end - start >= 2:
            b0, length = buffer[start], buffer[start + 1] & 0x7F
            head = 2
            if length == 126:
                if end - start < 4:
                    break
                length, head = int.from_bytes(buffer[start + 2 : start + 4], "big"), 4
            elif length == 127:
                if end - start < 10:
                    break
                length, head = int.from_bytes(buffer[start + 2 : start + 10], "big"), 10
            if end - start < head + length:
                break
            payload = bytes(buffer[start + head : start + head + length])
            start += head + length
            opcode = b0 & 0x0F
            if opcode == BINARY:
                if b0 & 0x40:  # RSV1: a deflated message
                    payload = self.inflate.decompress(payload + b"\x00\x00\xff\xff")
                self._message(payload)
            elif opcode == PING:
                self._write(client_frame(PONG, payload))
            elif opcode == CLOSE:
                self._write(client_frame(CLOSE, payload[:2]))
        del buffer[:start]
        if not (self.probe or self.closing) and self.joined.done() and self.transport:
            self.transport.pause_reading()  # until the next batch

    def _upgrade(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = self.buffer[:end].decode("latin-1")
        del self.buffer[: end + 4]
        if not head.startswith("HTTP/1.1 101"):
            self.joined.set_exception(RuntimeError(head.split("\r\n", 1)[0]))
            return False
        if "permessage-deflate" in head.lower():
            self.inflate = zlib.decompressobj(-15)
        self.upgraded = True
        if self.kind == "bare":
            self.joined.set_result(None)
        return True

    def _message(self, frame: bytes) -> None:
        if not self.joined.done():
            if frame[1] == Greeting.TAG:
                hello = Hello(PROTOCOL_VERSIONS[-1], name=self.name, agreed=True)
                self._write(client_frame(BINARY, encode(hello)))
            elif frame[1] == Welcome.TAG:
                self.joined.set_result(None)
            else:
                self.joined.set_exception(RuntimeError(repr(decode(frame))[:300]))
            return
        if frame[1] not in TEXT_AT:
            return
        tally = self.tally
        tally.delivered.value += 1
        tally.shared += 1
        if self.probe and tally.timing.value:
            sent, index = parse_share(msgpack.unpackb(frame)[TEXT_AT[frame[1]]])
            tally.latencies.append(time.time() - sent)
            if index <= self.last:
                tally.out_of_order += 1
            self.last = index

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.joined.done():
            self.joined.set_exception(ConnectionError(f"lost while joining: {exc}"))
        self.lost.set_result(None)

    async def close(self, leave: bool = False) -> None:
        """Say goodbye and wait, briefly, for the relay to hang up. A close frame (1000)
        alone is a dropped connection to Circle, whose seat waits out the grace period;
        with ``leave`` the member sends ``Leave`` first and its seat is free at once."""
        self.closing = True
        if self.transport is not None:
            self.transport.resume_reading()  # or the hang-up would go unnoticed
        if leave:
            self._write(client_frame(BINARY, encode(CommandFrame(1, Leave()))))
        else:
            self._write(client_frame(CLOSE, (1000).to_bytes(2, "big")))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.lost), 5)
        if self.transport is not None:
            self.transport.abort()


def listeners_main(
    url: str,
    kind: str,
    first: int,
    count: int,
    compression: bool,
    concurrency: int,
    probes: int,
    delivered: Synchronized[int],
    timing: Synchronized[int],
    read: bool,
    control: Pipe,
    report: Pipe,
    leave: bool = False,
) -> None:
    """Hold ``count`` members: report "started"; on "go" connect them and report
    "ready"; on "stop" close them (with ``leave``, each leaves the room first)
    and report the "result". The first ``probes`` read and time every frame, the
    others read in batches. With ``read`` off, members only join and then stop
    reading (the kernel holds what comes)."""
    tally = Tally(delivered, timing)
    settings = (url, kind, first, count, compression, concurrency, probes, read)
    result = asyncio.run(_listeners(*settings, tally, control, report, leave))
    report.send(("result", result))


async def _listeners(
    url: str,
    kind: str,
    first: int,
    count: int,
    compression: bool,
    concurrency: int,
    probes: int,
    read: bool,
    tally: Tally,
    control: Pipe,
    report: Pipe,
    leave: bool = False,
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(concurrency)
    members: list[Member] = []
    failures: list[str] = []
    parts = urlsplit(url)

    async def member(number: int) -> None:
        try:
            async with gate:
                probe = number - first < probes
                _, joining = await loop.create_connection(
                    lambda: Member(url, kind, f"listener {number}", compression, tally, probe),
                    parts.hostname,
                    parts.port,
                )
                await asyncio.wait_for(joining.joined, 120)
        except Exception as exc:
            failures.append(f"member {number}: {type(exc).__name__}: {exc}"[:300])
            return
        members.append(joining)
        if not read and joining.transport is not None:
            joining.transport.pause_reading()

    report.send(("started",))
    with contextlib.suppress(EOFError):
        await asyncio.to_thread(control.recv)  # "go"
    started = time.time()
    await asyncio.gather(*(member(first + i) for i in range(count)))
    report.send(("ready", len(members), failures[:5], started, time.time()))
    batches = loop.create_task(_batches(members)) if read else None
    with contextlib.suppress(EOFError):
        await asyncio.to_thread(control.recv)  # "stop"
    if batches is not None:
        batches.cancel()
    for start in range(0, len(members), concurrency):
        await asyncio.gather(*(m.close(leave) for m in members[start : start + concurrency]))
    return {
        "latencies": tally.latencies.tobytes(),
        "shared": tally.shared,
        "out_of_order": tally.out_of_order,
    }


async def _batches(members: list[Member]) -> None:
    """Let each member that is not a probe read what it has, every ``BATCH`` seconds."""
    while True:
        await asyncio.sleep(BATCH)
        for member in members:
            if not member.probe and member.transport is not None:
                member.transport.resume_reading()

"""Attackers in a process of their own: ``python -m tests.fault.attacker KIND URL [SEED]``.

They run apart from the test so that their work never lands on the event
loop that times the honest member. Each kind keeps several connections busy
until SIGTERM, then prints one summary line (``attacked: ...``). It prints
``ready`` once its first connection is in the room.

- ``flood``: members sending valid commands as fast as TCP allows; when the
  relay hangs up on them they take their seat back and go on;
- ``fuzz``: garbage hellos, random bytes, random msgpack, mutated frames,
  text frames and oversized frames, reconnecting whenever they are closed;
- ``abort``: like ``flood``, but each connection is reset (RST) after a
  burst, with frames still queued at the relay: what a crashing bot does.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import socket
import struct
import sys
from collections import Counter

import msgpack
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from circle_room.protocol import PROTOCOL_VERSIONS
from circle_room.protocol.codec import decode, encode
from circle_room.protocol.messages import (
    CommandFrame,
    EventFrame,
    Hello,
    LowerHand,
    RaiseHand,
    Resume,
    Welcome,
)

CONNECTIONS = {"flood": 6, "fuzz": 4, "abort": 6}


class Attack:
    def __init__(self, kind: str, url: str, seed: int) -> None:
        self.kind = kind
        self.url = url
        self.rng = random.Random(seed)
        self.sent = 0
        self.connections = 0
        self.closes: Counter[int | None] = Counter()
        self.ready = asyncio.Event()
        self.stop = asyncio.Event()

    async def open(self) -> ClientConnection:
        ws = await connect(self.url, compression=None, max_size=2**22, open_timeout=10)
        self.connections += 1
        await ws.recv()  # The greeting.
        return ws

    async def join(self, name: str, seat: Resume | None) -> tuple[ClientConnection, Resume]:
        """Join (or take the seat back); return the connection and how to resume it."""
        ws = await self.open()
        await ws.send(encode(Hello(PROTOCOL_VERSIONS[-1], name, "", "", True, seat)))
        welcome = decode(await ws.recv())
        if not isinstance(welcome, Welcome):
            if seat is not None:  # The seat is gone: join afresh.
                await ws.close()
                return await self.join(name, None)
            raise RuntimeError(f"{name} was refused: {welcome}")
        self.ready.set()
        return ws, Resume(welcome.token, welcome.epoch, welcome.seq)

    async def drain(self, ws: ClientConnection, seat: list[Resume]) -> None:
        """Read everything, keeping the seq for the next resume."""
        with contextlib.suppress(ConnectionClosed):
            async for data in ws:
                if isinstance(data, bytes):
                    with contextlib.suppress(Exception):
                        frame = decode(data)
                        if isinstance(frame, EventFrame):
                            old = seat[0]
                            seat[0] = Resume(old.token, old.epoch, frame.seq)

    async def member(self, n: int) -> None:
        """One attacking member, reconnecting until told to stop."""
        seat: list[Resume] = []
        while not self.stop.is_set():
            try:
                if self.kind == "fuzz" and self.rng.random() < 0.2:
                    await self.garbage_hello()
                    continue
                ws, resume = await self.join(f"{self.kind} {n}", seat[0] if seat else None)
                seat[:] = [resume]
                reader = asyncio.ensure_future(self.drain(ws, seat))
                try:
                    if self.kind == "fuzz":
                        await self.fuzz(ws)
                    else:
                        await self.flood(ws)
                finally:
                    if not self.stop.is_set() and self.kind == "abort":
                        reset(ws)
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(reader, 10)
                    self.closes[ws.close_code] += 1
            except (
                ConnectionClosed,
                InvalidHandshake,
                OSError,
                asyncio.TimeoutError,
                RuntimeError,
            ):
                await asyncio.sleep(0.05)  # The relay is shedding load: a moment, then again.

    async def flood(self, ws: ClientConnection) -> None:
        budget = self.rng.randrange(50, 400) if self.kind == "abort" else 10**9
        ref = 0
        with contextlib.suppress(ConnectionClosed):
            while not self.stop.is_set() and ref < budget:
                ref += 1
                command = RaiseHand() if ref % 2 else LowerHand()
                await ws.send(encode(CommandFrame(ref, command)))
                self.sent += 1
                if ref % 16 == 0:
                    await asyncio.sleep(0)  # send() may never yield: let the others run.

    async def fuzz(self, ws: ClientConnection) -> None:
        rng = self.rng
        valid = encode(CommandFrame(1, RaiseHand()))
        with contextlib.suppress(ConnectionClosed):
            while not self.stop.is_set():
                kind = rng.randrange(6)
                if kind == 0:
                    frame: bytes | str = rng.randbytes(rng.randrange(1, 200))
                elif kind == 1:
                    frame = msgpack.packb(random_value(rng, 3))
                elif kind == 2:
                    mutated = bytearray(valid)
                    mutated[rng.randrange(len(mutated))] = rng.randrange(256)
                    frame = bytes(mutated)
                elif kind == 3:
                    frame = "a text frame"
                elif kind == 4:
                    frame = msgpack.packb([rng.randrange(-5, 300), *random_value(rng, 2, list)])
                else:
                    frame = rng.randbytes(17 * 1024) if rng.random() < 0.05 else valid
                await ws.send(frame)
                self.sent += 1
                if self.sent % 16 == 0:
                    await asyncio.sleep(0)  # send() may never yield: let the others run.

    async def garbage_hello(self) -> None:
        ws = await self.open()
        with contextlib.suppress(ConnectionClosed):
            await ws.send(self.rng.randbytes(self.rng.randrange(1, 64)))
            await ws.recv()
        self.closes[ws.close_code] += 1
        await ws.close()


def random_value(rng: random.Random, depth: int, kind: type | None = None) -> object:
    """A random msgpack-able value, nested at most ``depth`` deep."""
    choice = kind or rng.choice([int, str, bytes, float, list, dict, bool, type(None)])
    if choice is list:
        return [random_value(rng, depth - 1) for _ in range(rng.randrange(4))] if depth else []
    if choice is dict:
        return {str(rng.random()): random_value(rng, depth - 1) for _ in range(2)} if depth else {}
    if choice is int:
        return rng.choice([0, -1, 2**31, 2**63 - 1, -(2**63), rng.randrange(-1000, 1000)])
    if choice is str:
        return "".join(chr(rng.randrange(0x10FFFF) % 0xD800) for _ in range(rng.randrange(20)))
    if choice is bytes:
        return rng.randbytes(rng.randrange(20))
    if choice is float:
        return rng.choice([0.0, -1.5, float("inf"), float("nan"), 1e308])
    if choice is bool:
        return rng.random() < 0.5
    return None


def reset(ws: ClientConnection) -> None:
    sock = ws.transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ws.transport.abort()


async def main(kind: str, url: str, seed: int) -> None:
    attack = Attack(kind, url, seed)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, attack.stop.set)
    members = [asyncio.ensure_future(attack.member(n)) for n in range(CONNECTIONS[kind])]
    ready = asyncio.ensure_future(attack.ready.wait())
    stopped = asyncio.ensure_future(attack.stop.wait())
    await asyncio.wait([ready, stopped], return_when=asyncio.FIRST_COMPLETED)
    if attack.ready.is_set():
        print("ready", flush=True)
    await stopped
    ready.cancel()
    for task in members:
        task.cancel()
    await asyncio.gather(*members, return_exceptions=True)
    closes = ", ".join(f"{code}: {n}" for code, n in sorted(attack.closes.items(), key=str))
    print(
        f"attacked: {kind}, {attack.sent} frames over {attack.connections} connections; "
        f"closed with {{{closes}}}",
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 11))

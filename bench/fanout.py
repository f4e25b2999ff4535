"""Fan-out side by side: a bare websockets broadcast relay vs Circle's relay.

For each relay (``bare``, ``circle``) and each compression setting, in one run:

- memory: relay RSS before and after the listeners connect, per connection;
- latency: a speaker shares ``--rate`` times a second for ``--duration``
  seconds to ``--members`` listeners; p50/p99 from the speaker's send to each
  listener's receive (one machine, one clock);
- saturation: the speaker sends as fast as the listeners drain (at most
  ``WINDOW`` shares in flight per listener) for ``--saturation`` seconds;
  deliveries per relay CPU-second, and deliveries per wall second.

The two relays are in ``relays.py``; the bare one is sent the exact frame
Circle would send (an encoded ``Shared`` event).

Processes as in ``relay_bench.py``: the relay alone on the first CPU, the
listeners (in ``--listener-procs`` processes, ``listeners.py``) and the
speaker on the others.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import multiprocessing as mp
import os
import shutil
import tempfile
import time
from multiprocessing.connection import Connection as Pipe
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

from listeners import listeners_main
from relay_bench import cpu_seconds, cpu_split, percentile, rss_kib, share_text
from relays import relay_main
from websockets.asyncio.client import ClientConnection, connect

from circle_room.protocol import PROTOCOL_VERSIONS
from circle_room.protocol.codec import decode, encode
from circle_room.protocol.messages import (
    CommandFrame,
    Greeting,
    Hello,
    Said,
    Share,
    Shared,
    StickGiven,
    TakeStick,
    Welcome,
)

HOST = "127.0.0.1"
ROOM = "bench"
TAG_SHARED = Shared.TAG
TAG_WELCOME = Welcome.TAG
WINDOW = 200
"""Shares in flight per listener during saturation: enough to keep the relay busy
while most listeners read in batches (``listeners.BATCH``), few enough that the
relay's buffers stay bounded (a few megabytes)."""


# --- the speaker ----------------------------------------------------------------------------


class Speaker:
    """Shares into a Circle room (as its facilitator) or into the bare relay."""

    def __init__(self, kind: str, ws: ClientConnection, key: str) -> None:
        self.kind = kind
        self.ws = ws
        self.key = key
        self.sent = 0
        self.holding = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def join(cls, kind: str, url: str, key: str, compression: bool) -> Speaker:
        ws = await connect(url, compression="deflate" if compression else None, ping_interval=None)
        speaker = cls(kind, ws, key)
        if kind == "circle":
            await speaker.holding.wait()  # set by the reader at the Welcome; see _read
            speaker.holding.clear()
            await ws.send(encode(CommandFrame(1, TakeStick())))
            await asyncio.wait_for(speaker.holding.wait(), 10)
        return speaker

    async def _read(self) -> None:
        ws = self.ws
        if self.kind == "circle":
            greeting = decode(await ws.recv())  # type: ignore[arg-type]
            assert isinstance(greeting, Greeting), greeting
            hello = Hello(PROTOCOL_VERSIONS[-1], name="speaker", key=self.key, agreed=True)
            await ws.send(encode(hello))
            self.holding.set()
        with contextlib.suppress(Exception):
            async for data in ws:
                if data[1] == StickGiven.TAG:
                    self.holding.set()

    def frame(self, index: int) -> bytes:
        text = share_text(index, time.time())
        if self.kind == "circle":
            return encode(CommandFrame(index + 2, Share(text)))
        # What Circle's relay sends a version-3 listener for a share.
        return encode(Said(1000 + index, text))

    async def paced(self, n: int, rate: float) -> float:
        start = time.monotonic() + 0.05
        for i in range(n):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await self.ws.send(self.frame(self.sent))
            self.sent += 1
        return n / (time.monotonic() - start)

    async def saturate(self, seconds: float, members: int, delivered: Any) -> int:
        """Send as fast as the room drains, with at most ``WINDOW`` shares in flight."""
        first = self.sent
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if (self.sent - first) * members - delivered() > WINDOW * members:
                await asyncio.sleep(0.0005)
                continue
            await self.ws.send(self.frame(self.sent))
            self.sent += 1
        return self.sent - first

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.gather(self._reader, return_exceptions=True)


# --- one relay, one compression setting ------------------------------------------------------


async def _recv(pipe: Pipe, timeout: float) -> Any:
    if not await asyncio.to_thread(pipe.poll, timeout):
        raise TimeoutError(f"no message within {timeout} s")
    return pipe.recv()


class Room:
    """A relay process with a room, and listener processes ready to join it."""

    def __init__(self, kind: str, compression: bool, args: Any) -> None:
        self.kind = kind
        self.compression = compression
        self.args = args
        self.ctx = mp.get_context("spawn")
        self.data_dir = tempfile.mkdtemp(prefix="circle-bench-fanout-")
        self.processes: list[mp.process.BaseProcess] = []
        self.listeners: list[tuple[Pipe, Pipe, Synchronized[int]]] = []
        self.timing: Synchronized[int] = self.ctx.Value("b", 0, lock=False)  # type: ignore[assignment]
        self.key = ""
        self.url = ""
        self.relay_pid = 0
        self._all_cpus = os.sched_getaffinity(0)

    async def open(self, room: str = ROOM) -> Room:
        from circle_room.server.store import Store

        store = Store(Path(self.data_dir))
        self.key = store.add_room(room)
        store.close()
        relay_cpus, client_cpus = cpu_split(self.args.pin)
        if client_cpus:
            os.sched_setaffinity(0, client_cpus)
        control, end = self.ctx.Pipe()
        relay = self.ctx.Process(
            target=relay_main,
            args=(self.kind, self.data_dir, self.compression, end),
            name="relay",
            daemon=True,
        )
        relay.start()
        self.processes.append(relay)
        assert relay.pid is not None
        self.relay_pid = relay.pid
        if relay_cpus:
            os.sched_setaffinity(relay.pid, relay_cpus)
        self.relay_control = control
        _, port = await _recv(control, 60)
        self.url = f"ws://{HOST}:{port}/{room}"
        return self

    async def add_listeners(self, members: int, read: bool = True) -> dict[str, Any]:
        """Start the listener processes, connect ``members``; return how long it took."""
        procs = self.args.listener_procs
        per_proc = [members // procs + (1 if i < members % procs else 0) for i in range(procs)]
        first = 0
        for count in per_proc:
            control, control_end = self.ctx.Pipe()
            report, report_end = self.ctx.Pipe()
            delivered: Synchronized[int] = self.ctx.Value("q", 0, lock=False)  # type: ignore[assignment]
            proc = self.ctx.Process(
                target=listeners_main,
                args=(
                    self.url,
                    self.kind,
                    first,
                    count,
                    self.compression,
                    self.args.connect_concurrency,
                    self.args.probes // procs if read else 0,
                    delivered,
                    self.timing,
                    read,
                    control_end,
                    report_end,
                ),
                daemon=True,
            )
            proc.start()
            self.processes.append(proc)
            self.listeners.append((control, report, delivered))
            first += count
        for _, report, _ in self.listeners:  # each has imported everything: ready to go
            await _recv(report, 60)
        cpu_before = cpu_seconds(self.relay_pid)
        for control, _, _ in self.listeners:
            control.send("go")
        connected, failures, started, finished = 0, [], [], []
        for _, report, _ in self.listeners:
            _, ok, failed, start, end = await _recv(report, self.args.connect_timeout)
            connected += ok
            failures += failed
            started.append(start)
            finished.append(end)
        return {
            "connected": connected,
            "failures": failures,
            "seconds": max(finished) - min(started),
            "relay_cpu_s": cpu_seconds(self.relay_pid) - cpu_before,
        }

    def delivered(self) -> int:
        return sum(d.value for _, _, d in self.listeners)

    async def wait_delivered(self, total: int, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while self.delivered() < total:
            if time.monotonic() > end:
                return False
            await asyncio.sleep(0.01)
        return True

    async def stop_listeners(self) -> list[dict[str, Any]]:
        for control, _, _ in self.listeners:
            control.send("stop")
        results = []
        for _, report, _ in self.listeners:
            _, result = await _recv(report, 120)
            results.append(result)
        return results

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self.relay_control.send("stop")
        for proc in self.processes:
            await asyncio.to_thread(proc.join, 10)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
        os.sched_setaffinity(0, self._all_cpus)
        shutil.rmtree(self.data_dir, ignore_errors=True)


async def scenario(kind: str, compression: bool, args: Any) -> dict[str, Any]:
    """Memory, paced latency and saturation for one relay and one compression setting."""
    room = await Room(kind, compression, args).open()
    result: dict[str, Any] = {"relay": kind, "compression": compression, "members": args.members}
    try:
        speaker = await Speaker.join(kind, room.url, room.key, compression)
        await asyncio.sleep(0.5)
        rss_before = rss_kib(room.relay_pid)
        joined = await room.add_listeners(args.members)
        await asyncio.sleep(args.settle)
        rss_after = rss_kib(room.relay_pid)
        members = joined["connected"]
        result["connected"] = members
        result["kib_per_connection"] = round((rss_after - rss_before) / max(1, members), 2)

        # Latency at a steady rate.
        n = round(args.rate * args.duration)
        room.timing.value = 1
        cpu0, wall0 = cpu_seconds(room.relay_pid), time.monotonic()
        achieved = await speaker.paced(n, args.rate)
        drained = await room.wait_delivered(n * members, args.drain_timeout)
        cpu1, wall1 = cpu_seconds(room.relay_pid), time.monotonic()
        room.timing.value = 0
        result["paced"] = {
            "shares": n,
            "achieved_rate": round(achieved, 1),
            "drained": drained,
            "relay_cpu_percent": round(100 * (cpu1 - cpu0) / (wall1 - wall0), 1),
        }

        # Saturation: deliveries per relay CPU-second.
        base = room.delivered()
        warm = await speaker.saturate(0.5, members, lambda: room.delivered() - base)
        cpu0, wall0, got0 = cpu_seconds(room.relay_pid), time.monotonic(), room.delivered()
        sent = await speaker.saturate(
            args.saturation, members, lambda: room.delivered() - base - warm * members
        )
        cpu1, wall1, got1 = cpu_seconds(room.relay_pid), time.monotonic(), room.delivered()
        deliveries = got1 - got0
        result["saturation"] = {
            "shares": sent,
            "deliveries": deliveries,
            "wall_s": round(wall1 - wall0, 2),
            "relay_cpu_s": round(cpu1 - cpu0, 2),
            "relay_cpu_percent": round(100 * (cpu1 - cpu0) / (wall1 - wall0), 1),
            "deliveries_per_relay_cpu_s": round(deliveries / max(1e-9, cpu1 - cpu0)),
            "deliveries_per_s": round(deliveries / (wall1 - wall0)),
        }
        await speaker.close()
        results = await room.stop_listeners()
        latencies = array.array("d")
        for r in results:
            latencies.frombytes(r["latencies"])
        ordered = sorted(latencies)
        result["paced"].update(
            samples=len(ordered),
            expected=n * min(members, args.probes // args.listener_procs * args.listener_procs),
            p50_ms=round(percentile(ordered, 50) * 1e3, 2),
            p99_ms=round(percentile(ordered, 99) * 1e3, 2),
            out_of_order=sum(r["out_of_order"] for r in results),
        )
    finally:
        await room.close()
    return result


async def run(args: Any) -> dict[str, Any]:
    rows = []
    for compression in (False, True):
        for kind in ("bare", "circle"):
            if not args.quiet:
                print(f"[fan-out] {kind}, compression {'on' if compression else 'off'} ...")
            rows.append(await scenario(kind, compression, args))
    return {"rows": rows}

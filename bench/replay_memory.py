"""Relay memory with members who resume and then never read: is it bounded?

A member who drops misses events; on their return the relay replays them from
its log (up to ``RelayConfig.log_size``, 10,000 frames). This measures the
relay's resident memory (``VmRSS``) when many members resume against a full
log and then read nothing at all, as a stalled phone or a hostile client
would:

1. the relay starts in its own process, with a bench-only ``RelayConfig``
   (rate limits raised so the log fills quickly, a long grace period);
2. ``--resumers`` members join and leave their seats (they keep them);
3. the facilitator shares ``--frames`` times, ``--chars`` characters each,
   so the log holds that many frames of about ``--chars`` times the bytes per
   character of ``--text`` (a 4000-character share of "🌿" is a 16 KiB frame);
4. every member resumes from the seq they left at, then stops reading
   (``pause_reading`` right after the hello): nothing they are sent leaves
   the kernel's buffers;
5. the relay's RSS is sampled until it settles; then a fresh member joins,
   and the facilitator's share round trip to them is timed.

Run ``python bench/replay_memory.py`` (about a minute; Linux, for /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import sys
import tempfile
import time
from multiprocessing.connection import Connection as Pipe
from pathlib import Path

from websockets.asyncio.client import ClientConnection

from circle_room.protocol import PROTOCOL_VERSIONS
from circle_room.protocol.codec import decode, encode
from circle_room.protocol.messages import (
    CommandFrame,
    EventFrame,
    Greeting,
    Hello,
    Resume,
    Share,
    Shared,
    StickGiven,
    TakeStick,
    Welcome,
)
from circle_room.tui.client.trust import dial

HOST = "127.0.0.1"
ROOM = "bench"


def run_relay(data_dir: str, tls: bool, frames: int, pipe: Pipe) -> None:
    """The relay's process: serve until the pipe says stop."""
    from circle_room.server.config import Rate, RelayConfig
    from circle_room.server.relay import Relay
    from circle_room.server.store import Store
    from circle_room.server.tls import own_certificate

    async def main() -> None:
        fast = Rate(burst=100_000, per_second=100_000)
        config = RelayConfig(
            share_rate=fast,
            frame_rate=fast,
            grace_period=3600.0,
            max_members=1000,
            log_size=frames,
        )
        relay = Relay(Store(Path(data_dir)), config)
        own = own_certificate(Path(data_dir)) if tls else None
        await relay.start(HOST, 0, own.context if own else None)
        scheme = "wss" if own else "ws"
        pin = f"#{own.fingerprint}" if own else ""
        pipe.send(f"{scheme}://{HOST}:{relay.port}/{ROOM}{pin}")
        await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
        await relay.close()

    asyncio.run(main())


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def hello(
    url: str, name: str, key: str = "", resume: Resume | None = None
) -> tuple[ClientConnection, Welcome | None]:
    ws = await dial(url, compression=None, max_size=2**24, ping_interval=None, remember=False)
    greeting = decode(await ws.recv())  # type: ignore[arg-type]
    assert isinstance(greeting, Greeting)
    await ws.send(encode(Hello(PROTOCOL_VERSIONS[-1], name, "", key, True, resume)))
    if resume is not None:
        ws.transport.pause_reading()  # From now on, read nothing at all.
        return ws, None
    while True:
        frame = decode(await ws.recv())  # type: ignore[arg-type]
        if isinstance(frame, Welcome):
            return ws, frame


async def drain(ws: ClientConnection, seen: list[int], last: list[int] | None = None) -> None:
    """Read everything; note each share's seq in ``seen``, and the seq of the stick in ``last``."""
    with contextlib.suppress(Exception):
        async for data in ws:
            frame = decode(data)  # type: ignore[arg-type]
            if isinstance(frame, EventFrame):
                if last is not None and isinstance(frame.event, StickGiven):
                    last.append(frame.seq)
                if isinstance(frame.event, Shared):
                    seen.append(frame.seq)


async def settle(pid: int, seconds: float) -> tuple[float, float]:
    """Sample the relay's RSS until it stops growing; (peak, last) in MiB."""
    peak = last = rss_mib(pid)
    still, deadline = 0, time.monotonic() + seconds
    while still < 6 and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        now = rss_mib(pid)
        still = still + 1 if abs(now - last) < 1 else 0
        peak, last = max(peak, now), now
    return peak, last


async def bench(url: str, key: str, pid: int, args: argparse.Namespace) -> None:
    fran, welcome = await hello(url, "Fran", key)
    assert welcome is not None
    shares: list[int] = []
    last: list[int] = []
    draining = asyncio.get_running_loop().create_task(drain(fran, shares, last))
    seats: list[tuple[str, str, int]] = []
    for n in range(args.resumers):
        ws, welcome = await hello(url, f"Member {n}")
        assert welcome is not None
        seats.append((welcome.token, welcome.epoch, welcome.seq))
        await ws.close()
    await fran.send(encode(CommandFrame(1, TakeStick())))
    while not last:  # Every member away (their seat kept), and Fran given the stick.
        await asyncio.sleep(0.05)
    # Fill the log (``log_size`` = --frames) so that it still reaches back to
    # the first member's seat: each resume replays (nearly) all of it.
    count = args.frames - (last[0] - seats[0][2])
    text = args.text * args.chars
    started = time.monotonic()
    for n in range(count):
        await fran.send(encode(CommandFrame(2 + n, Share(text))))
    while len(shares) < count:
        await asyncio.sleep(0.1)
    frame = len(encode(EventFrame(shares[-1], Shared(1, 1, text))))
    took = time.monotonic() - started
    print(f"log: {args.frames} frames, {count} of them shares of {frame} bytes ({took:.0f} s)")
    before = rss_mib(pid)
    print(f"relay RSS with a full log, nobody resuming: {before:.0f} MiB")
    resumers = [
        (await hello(url, f"Member {n}", resume=Resume(token, epoch, seq)))[0]
        for n, (token, epoch, seq) in enumerate(seats)
    ]
    peak, last = await settle(pid, args.wait)
    print(
        f"relay RSS with {len(resumers)} non-reading resumers: peak {peak:.0f} MiB, "
        f"settled {last:.0f} MiB (+{last - before:.0f} MiB, "
        f"{(last - before) * 1024 / max(1, len(resumers)):.0f} KiB each)"
    )
    ana, welcome = await hello(url, "Ana")
    heard: list[int] = []
    listening = asyncio.get_running_loop().create_task(drain(ana, heard))
    trips = []
    for n in range(20):
        sent = time.monotonic()
        await fran.send(encode(CommandFrame(100_000 + n, Share(f"round trip {n}"))))
        while len(heard) <= n:
            await asyncio.sleep(0.001)
        trips.append((time.monotonic() - sent) * 1000)
    trips.sort()
    print(f"an honest member's share round trip meanwhile: median {trips[10]:.1f} ms")
    for ws in [*resumers, fran, ana]:
        ws.transport.abort()
    for task in (draining, listening):
        task.cancel()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--resumers", type=int, default=30)
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--chars", type=int, default=4000)
    parser.add_argument("--text", default="a", help="the character each share repeats")
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--wait", type=float, default=60.0, help="longest wait for RSS to settle")
    args = parser.parse_args()
    from circle_room.server.store import Store

    with tempfile.TemporaryDirectory(prefix="circle-bench-") as data_dir:
        store = Store(Path(data_dir))
        key = store.add_room(ROOM)
        store.close()
        os.environ.setdefault("XDG_STATE_HOME", data_dir)  # Remembered relays: throwaway.
        ours, theirs = mp.Pipe()
        relay = mp.get_context("spawn").Process(
            target=run_relay, args=(data_dir, args.tls, args.frames, theirs), daemon=True
        )
        relay.start()
        try:
            url = ours.recv()
            assert relay.pid is not None
            asyncio.run(bench(url, key, relay.pid, args))
        finally:
            with contextlib.suppress(Exception):
                ours.send("stop")
            relay.join(10)
            if relay.is_alive():
                relay.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())

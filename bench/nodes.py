"""Rooms over several relay nodes (``circle serve --redis``): delivery, appends, failover.

One run, loopback only (127.0.0.1, free ports), everything it starts stopped
by process id at the end:

- a redis-server of its own (no persistence, a temporary dir);
- ``--nodes`` 3 ``NodeRelay`` processes over one store; the first member to
  join opens the room on node A, which then decides for it (holds the lease);
- ``--members`` 100 members on each node. For the latency run only
  ``--probes`` 10 a node are in this process, as bare websockets that decode
  every frame and time every share (no Textual, no ``CircleClient``); the
  others join from listener processes of their own, one a node
  (``listeners.py``: real members that receive every share, read in batches
  and untimed), so the nodes write to as many sockets as before but the
  probes' latency is not spent queueing behind 300 frames in one event loop;
- the speaker, a facilitator on node B, shares ``--shares`` times at
  ``--rate`` a second. Latency is from the speaker's send to each probe's
  receive (one process, one clock), reported per receiving node: B is the
  same node as the sender, C another node; A is the owner's node;
- append round trip: ``RoomLog.append`` of one encoded share event, one at a
  time, on a room of its own (``--appends``);
- Redis memory per room: a room of its own with 10,000 appended share events
  (``MEMORY USAGE`` of its keys, and ``used_memory`` before and after);
- failover (the listener processes have left; their members rejoin in this
  process, so each node again has ``--members``): node A (the owner) is
  SIGKILLed while the speaker goes on sharing; its members reconnect to B
  and C and resume. Reported: seconds from the kill to the first event
  appended after it (as a member on C receives it), and to the last of A's
  members resumed; shares lost and duplicated per member (each share text
  is unique), and how many resumes came back ``resumed=false``.

The nodes run with share and frame limits raised (one speaker sharing
``--rate`` a second is far past a member's real limit); everything else is
the default ``RelayConfig``. ``--smoke`` runs a tiny configuration.

- deliveries a second with 1, 2, ... ``--nodes`` nodes: ``--total`` members in
  all spread evenly, one speaker sending ``--burst`` shares back to back.

    python bench/nodes.py   # writes bench/nodes.json, bench/RESULTS-nodes.md and
                            # its own section of bench/RESULTS.md (the rest untouched)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from multiprocessing.connection import Connection as Pipe
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from listeners import listeners_main
from nodes_report import put_section, report, results_section
from relay_bench import percentile, share_text
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from circle_room.protocol import PROTOCOL_VERSIONS
from circle_room.protocol.codec import decode, encode
from circle_room.protocol.messages import (
    CommandFrame,
    EventFrame,
    Greeting,
    Hello,
    MemberLeft,
    Resume,
    Said,
    Share,
    Shared,
    TakeStick,
    Welcome,
)
from circle_room.server.config import Rate, RelayConfig
from circle_room.server.node_relay import NodeRelay
from circle_room.server.redis_log import Entry, RoomLog
from circle_room.server.store import Store

ROOM = "bench"
HERE = Path(__file__).resolve().parent


# --- redis-server and the nodes ----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
    command += ["--save", "", "--appendonly", "no", "--dir", str(folder)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    for line in process.stdout:
        if b"Ready to accept connections" in line:
            return process, f"redis://127.0.0.1:{port}"
    raise RuntimeError("redis-server did not start")


def node_main(redis_url: str, data: str, node_id: str, ports: Any) -> None:
    """One relay node; its port goes to ``ports``; it runs until killed."""

    async def run() -> None:
        fast = Rate(burst=10_000, per_second=10_000)
        config = replace(RelayConfig(), share_rate=fast, frame_rate=fast, other_rate=fast)
        relay = NodeRelay(Store(Path(data)), redis_url, config, node_id=node_id)
        await relay.start("127.0.0.1", 0)
        ports.put((node_id, relay.port))
        await asyncio.Event().wait()

    asyncio.run(run())


# --- members ------------------------------------------------------------------------------


class Member:
    """A bare websocket member that decodes every frame and times every share."""

    def __init__(self, name: str, node: str, key: str = "") -> None:
        self.name, self.node, self.key = name, node, key
        self.last = 0
        self.texts: list[str] = []
        self.latency: list[float] = []
        self.welcomes: list[tuple[float, Welcome]] = []
        self.events: list[tuple[float, int]] = []
        """(receive time, seq) of each event."""
        self.ws: ClientConnection | None = None
        self.dropped = asyncio.Event()
        self.left = 0
        """``MemberLeft`` events received."""
        self.token = self.epoch = ""

    async def join(self, url: str, resume: bool = False) -> None:
        ws = await connect(url, compression=None, ping_interval=None, max_size=2**22)
        greeting = decode(await ws.recv())  # type: ignore[arg-type]
        assert isinstance(greeting, Greeting), greeting
        back = Resume(self.token, self.epoch, self.last) if resume else None
        hello = Hello(PROTOCOL_VERSIONS[-1], self.name, "", self.key, True, back)
        await ws.send(encode(hello))
        while not isinstance(frame := decode(await ws.recv()), Welcome):  # type: ignore[arg-type]
            pass
        self.welcomes.append((time.time(), frame))
        self.token, self.epoch = frame.token, frame.epoch
        self.last = frame.seq
        self.ws = ws
        self.dropped.clear()
        asyncio.get_running_loop().create_task(self._read(ws))

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed, OSError):
            async for data in ws:
                now = time.time()
                frame = decode(data)  # type: ignore[arg-type]
                if not isinstance(frame, (EventFrame, Said)):
                    continue
                self.events.append((now, frame.seq))
                self.last = max(self.last, frame.seq)
                if isinstance(frame, EventFrame) and isinstance(frame.event, MemberLeft):
                    self.left += 1
                # A share said live comes as a ``Said`` (version 3), in a replay as a ``Shared``.
                text = frame.text if isinstance(frame, Said) else None
                if isinstance(frame, EventFrame) and isinstance(frame.event, Shared):
                    text = frame.event.text
                if text is not None:
                    self.texts.append(text)
                    self.latency.append(now - float(text.split()[0]))
        self.dropped.set()

    async def send(self, ref: int, command: Any) -> None:
        assert self.ws is not None
        await self.ws.send(encode(CommandFrame(ref, command)))


async def join_all(members: list[Member], urls: dict[str, str], at_once: int = 20) -> None:
    for start in range(0, len(members), at_once):
        batch = members[start : start + at_once]
        await asyncio.gather(*(m.join(urls[m.node]) for m in batch))


class Elsewhere:
    """Members that join and read in listener processes of their own, one a node.

    They are real members (``listeners.py``): each joins the room on its node and
    is sent every share, so the nodes' fan-out is what it would be with them in
    this process; they read in batches and time nothing, so this process's
    event loop has only the probes to read. Forked before any member of this
    process connects (no copy of its sockets), they join on ``go``.
    """

    def __init__(self, ctx: Any, urls: dict[str, str], counts: dict[str, int]) -> None:
        self.counts = {node: n for node, n in counts.items() if n > 0}
        self.procs: list[Any] = []
        self.pipes: list[tuple[Pipe, Pipe, Synchronized[int]]] = []
        first = 0
        for node, count in self.counts.items():
            control, control_end = ctx.Pipe()
            answers, answers_end = ctx.Pipe()
            delivered = ctx.Value("q", 0, lock=False)
            timing = ctx.Value("b", 0, lock=False)
            settings = (urls[node], "circle", first, count, False, 20, 0, delivered, timing)
            proc = ctx.Process(
                target=listeners_main, args=(*settings, True, control_end, answers_end, True)
            )
            proc.start()
            self.procs.append(proc)
            self.pipes.append((control, answers, delivered))
            first += count

    async def started(self) -> None:
        for _, answers, _ in self.pipes:
            await recv(answers, 60)

    async def join(self) -> list[str]:
        """Every process's members join; the failures (none, in a good run)."""
        for control, _, _ in self.pipes:
            control.send("go")
        failures: list[str] = []
        for _, answers, _ in self.pipes:
            _, _, failed, _, _ = await recv(answers, 120)
            failures += failed
        return failures

    def delivered(self) -> int:
        return sum(d.value for _, _, d in self.pipes)

    async def wait_delivered(self, total: int, timeout: float) -> int:
        end = time.monotonic() + timeout
        while self.delivered() < total and time.monotonic() < end:
            await asyncio.sleep(0.05)
        return self.delivered()

    async def leave(self) -> None:
        """Every member leaves the room (``Leave``: its seat is free at once); the processes
        end."""
        for control, _, _ in self.pipes:
            control.send("stop")
        for _, answers, _ in self.pipes:
            await recv(answers, 120)
        for proc in self.procs:
            await asyncio.to_thread(proc.join, 10)

    def kill(self) -> None:
        for proc in self.procs:
            if proc.is_alive():
                os.kill(proc.pid, signal.SIGKILL)
            proc.join(5)


async def recv(pipe: Pipe, timeout: float) -> Any:
    if not await asyncio.to_thread(pipe.poll, timeout):
        raise TimeoutError(f"no message within {timeout} s")
    return pipe.recv()


# --- the runs -------------------------------------------------------------------------------


def stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50_ms": round(percentile(ordered, 50) * 1000, 2),
        "p99_ms": round(percentile(ordered, 99) * 1000, 2),
    }


async def shares(speaker: Member, first: int, n: int, rate: float) -> None:
    start = time.monotonic()
    for i in range(n):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await speaker.send(first + i + 2, Share(share_text(first + i, time.time())))


async def append_round_trip(redis_url: str, n: int) -> dict[str, float]:
    redis = aioredis.Redis.from_url(redis_url)
    rlog = RoomLog(redis, "append-bench", 10_000)
    lease = await rlog.take_lease("bench")
    assert lease is not None
    await rlog.reset(lease, "e", 0, b"", "0-0")
    times = []
    for seq in range(1, n + 1):
        data = encode(EventFrame(seq, Shared(1, 1, share_text(seq, time.time()))))
        t0 = time.perf_counter()
        await rlog.append(lease, "e", seq - 1, [Entry(seq, data)])
        times.append(time.perf_counter() - t0)
    await redis.aclose()
    return stats(times)


async def memory_per_room(redis_url: str, entries: int) -> dict[str, int]:
    redis = aioredis.Redis.from_url(redis_url)
    before = int((await redis.info("memory"))["used_memory"])
    rlog = RoomLog(redis, "memory-bench", entries)
    lease = await rlog.take_lease("bench")
    assert lease is not None
    await rlog.reset(lease, "e", 0, b"", "0-0")
    for start in range(1, entries + 1, 100):
        batch = [
            Entry(s, encode(EventFrame(s, Shared(1, 1, share_text(s, 0.0)))))
            for s in range(start, min(entries, start + 99) + 1)
        ]
        await rlog.append(lease, "e", start - 1, batch)
    after = int((await redis.info("memory"))["used_memory"])
    keys = [rlog.stream, rlog.meta_key, rlog.snap_key, rlog.lease]
    usage = [int(await redis.memory_usage(k) or 0) for k in keys]
    length = int(await redis.xlen(rlog.stream))
    await redis.aclose()
    return {"entries": length, "keys_bytes": sum(usage), "used_memory_delta": after - before}


@contextlib.asynccontextmanager
async def cluster(
    folder: Path, n_nodes: int
) -> AsyncIterator[tuple[str, str, dict[str, str], dict[str, Any]]]:
    """A redis-server and ``n_nodes`` node processes (A, B, ...) over one room's store.

    Yields the Redis URL, the room's facilitator key, each node's URL and process;
    every process is stopped by pid on the way out.
    """
    redis, redis_url = start_redis(folder / "redis")
    data = folder / "data"
    key = Store(data).add_room(ROOM)
    ctx = mp.get_context("fork")
    ports = ctx.Queue()
    names = "ABCDE"[:n_nodes]
    procs = {n: ctx.Process(target=node_main, args=(redis_url, str(data), n, ports)) for n in names}
    try:
        for proc in procs.values():
            proc.start()
        urls = {}
        for _ in names:
            node, port = ports.get(timeout=30)
            urls[node] = f"ws://127.0.0.1:{port}/{ROOM}"
        yield redis_url, key, urls, procs
    finally:
        for proc in procs.values():
            if proc.is_alive():
                os.kill(proc.pid, signal.SIGKILL)
            proc.join(5)
        os.kill(redis.pid, signal.SIGTERM)
        redis.wait(10)


async def deliveries_per_second(
    args: argparse.Namespace, tmp: Path, n_nodes: int
) -> dict[str, float]:
    """``--total`` members spread evenly over ``n_nodes`` nodes, one speaker (on B, or on A
    alone) sending ``--burst`` shares back to back: shares delivered a second, from the
    first send to the last member's last share, as every member receives them."""
    folder = tmp / f"throughput-{n_nodes}"
    (folder / "redis").mkdir(parents=True)
    async with cluster(folder, n_nodes) as (_, key, urls, _procs):
        names = "ABCDE"[:n_nodes]
        opener = Member("opener", "A")
        await opener.join(urls["A"])  # A decides.
        speaker = Member("Speaker", names[min(1, n_nodes - 1)], key)
        await speaker.join(urls[speaker.node])
        listeners = [Member(f"m{i:04d}", names[i % n_nodes]) for i in range(args.total - 1)]
        await join_all(listeners, urls)
        members = [opener, *listeners]
        await speaker.send(1, TakeStick())
        await asyncio.sleep(1)  # Quiet before the timed run: joins done, stick given.
        start = time.time()
        for i in range(args.burst):
            await speaker.send(i + 2, Share(share_text(i, time.time())))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and any(len(m.texts) < args.burst for m in members):
            await asyncio.sleep(0.05)
        got = sum(len(m.texts) for m in members)
        last = max(t for m in members for t, _ in m.events[-1:])
        return {
            "members": len(members),
            "shares": args.burst,
            "deliveries": got,
            "seconds": round(last - start, 3),
            "per_second": round(got / (last - start)),
        }


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"load_before": os.getloadavg(), "cpus": os.cpu_count()}
    async with cluster(tmp, args.nodes) as (redis_url, key, urls, procs):
        names = "ABCDE"[: args.nodes]
        # On each node the first ``probes`` members (the opener counts on A; the speaker,
        # who is not timed, comes on top on B) are timed here; the rest read elsewhere
        # for the latency run, then join here for the failover.
        probes = max(1, min(args.probes, args.members - 1))

        def here(n: str, i: int) -> bool:
            return i < probes + (n == "B")

        elsewhere = Elsewhere(
            mp.get_context("fork"),
            urls,
            {n: sum(1 for i in range(args.members) if not here(n, i)) for n in names},
        )
        try:
            await elsewhere.started()
            # The first member opens the room on A: A decides. The speaker is on B.
            opener = Member("A000", "A")
            await opener.join(urls["A"])
            speaker = Member("Speaker", "B", key)
            await speaker.join(urls["B"])
            timed = [
                Member(f"{n}{i:03d}", n)
                for n in names
                for i in range(args.members)
                if (i > 0 or n not in "AB") and here(n, i)
            ]
            await join_all(timed, urls)
            failures = await elsewhere.join()
            await speaker.send(1, TakeStick())
            await asyncio.sleep(1)  # Quiet before the timed run: joins done, stick given.

            away = sum(elsewhere.counts.values())
            print(
                f"{2 + len(timed) + away} members joined: {len(timed) + 1} timed in this "
                f"process ({probes} a node), {away} reading in {len(elsewhere.procs)} "
                f"listener processes; sharing {args.shares} at {args.rate}/s"
            )
            await shares(speaker, 0, args.shares, args.rate)
            await asyncio.sleep(2)
            got = await elsewhere.wait_delivered(args.shares * away, 60)
            left = opener.left
            await elsewhere.leave()
            # Their seats must be free before the rest rejoin here (the room holds 500).
            deadline = time.monotonic() + 60
            while opener.left - left < away and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        finally:
            elsewhere.kill()
        probing = [opener, *timed]
        result["delivery"] = {
            f"{n} ({'sender' if n == 'B' else 'owner' if n == 'A' else 'other'} node)": stats(
                [x for m in probing if m.node == n for x in m.latency]
            )
            for n in names
        }
        result["latency_timing"] = {
            "timed_per_node": probes,
            "read_elsewhere": elsewhere.counts,
            "listener_procs": len(elsewhere.procs),
            "join_failures": failures,
            "shares_expected_elsewhere": args.shares * away,
            "shares_delivered_elsewhere": got,
            "left_before_failover": opener.left - left,
        }
        # For the failover, every node has its ``--members`` in this process again.
        rest = [
            Member(f"{n}{i:03d}", n) for n in names for i in range(args.members) if not here(n, i)
        ]
        await join_all(rest, urls)
        members = [opener, speaker, *timed, *rest]
        result["append_round_trip"] = await append_round_trip(redis_url, args.appends)
        result["memory_per_room"] = await memory_per_room(redis_url, 10_000)

        # Failover: kill the owner while the speaker goes on sharing.
        for m in members:
            m.texts.clear()
        sharing = asyncio.get_running_loop().create_task(
            shares(speaker, args.shares, args.failover_shares, args.rate)
        )
        await asyncio.sleep(args.failover_shares / args.rate / 3)
        watcher = next(m for m in members if m.node == names[-1])
        last_seq = watcher.last
        killed_at = time.time()
        os.kill(procs["A"].pid, signal.SIGKILL)
        victims = [m for m in members if m.node == "A"]
        survivors = [n for n in names if n != "A"]

        async def come_back(m: Member, i: int) -> None:
            await m.dropped.wait()
            for attempt in range(100):
                node = survivors[(i + attempt) % len(survivors)]
                try:
                    await m.join(urls[node], resume=True)
                    m.node = node
                    return
                except (OSError, ConnectionClosed, AssertionError):
                    await asyncio.sleep(0.1)

        await asyncio.gather(*(come_back(m, i) for i, m in enumerate(victims)))
        await sharing
        await asyncio.sleep(3)
        first_after = min((t for t, s in watcher.events if s > last_seq), default=float("nan"))
        resumed_at = max(m.welcomes[-1][0] for m in victims)
        sent = {f"{i:06d}" for i in range(args.shares, args.shares + args.failover_shares)}
        lost = dup = 0
        for m in members:
            if m is speaker:
                continue
            got = [t.split()[1] for t in m.texts]
            dup += len(got) - len(set(got))
            lost += len(sent - set(got))
        result["failover"] = {
            "lease_ms": 3000,
            "killed_node_members": len(victims),
            "to_first_accepted_event_s": round(first_after - killed_at, 2),
            "to_last_member_resumed_s": round(resumed_at - killed_at, 2),
            "shares_sent": len(sent),
            "shares_lost_total": lost,
            "shares_duplicated_total": dup,
            "resumed_false": sum(1 for m in victims for _, w in m.welcomes[1:] if not w.resumed),
            "resumed_true": sum(1 for m in victims for _, w in m.welcomes[1:] if w.resumed),
        }
    result["throughput"] = {}
    for n in range(1, args.nodes + 1):
        print(f"throughput with {n} node(s)")
        result["throughput"][str(n)] = await deliveries_per_second(args, tmp, n)
    result["load_after"] = os.getloadavg()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--members", type=int, default=100, help="members per node")
    parser.add_argument(
        "--probes", type=int, default=10, help="members a node timed in this process"
    )
    parser.add_argument("--shares", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0, help="shares a second")
    parser.add_argument("--failover-shares", type=int, default=60)
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--total", type=int, default=300, help="members, deliveries/s runs")
    parser.add_argument("--burst", type=int, default=200, help="shares, deliveries/s runs")
    parser.add_argument("--smoke", action="store_true", help="a tiny configuration")
    parser.add_argument("--out", default=str(HERE / "nodes.json"))
    parser.add_argument("--page", default=str(HERE / "RESULTS-nodes.md"))
    parser.add_argument("--results", default=str(HERE / "RESULTS.md"), help="its section here")
    args = parser.parse_args()
    if args.smoke:
        args.members, args.shares, args.failover_shares, args.appends = 5, 20, 30, 200
        args.probes = 2
        args.total, args.burst = 15, 20
    if shutil.which("redis-server") is None:
        raise SystemExit("nodes.py needs redis-server (apt-get install redis-server)")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "redis").mkdir()
        result = asyncio.run(run(args, Path(tmp)))
    # Where the files went is this machine's business, not part of the results.
    result["args"] = {k: v for k, v in vars(args).items() if k not in ("out", "page", "results")}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    page = report(result)
    Path(args.page).write_text(page)
    put_section(Path(args.results), results_section(page))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

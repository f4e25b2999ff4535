"""Relay benchmark: delivery latency, idle memory and bytes per share, on loopback.

Three kinds of process, so that no side's CPU distorts another's figures:

- the relay: ``server.relay.Relay`` in its own process, with the production
  code unchanged but a bench-only ``RelayConfig`` (share and frame rate limits
  raised, room for 1000 members);
- the listeners: one or more processes holding raw
  ``websockets.asyncio.client`` connections that do the handshake with
  ``protocol.codec`` and afterwards only peek at each frame's tag, unpacking
  ``Shared`` frames alone;
- this process: the orchestrator, and the speaker (a facilitator who takes the
  stick and shares at a steady rate, with ``time.time()`` inside each text).

Latency is ``time.time()`` when a listener's ``recv`` returns minus
``time.time()`` just before the speaker sent the share: the same clock, since
all processes run on one machine. See bench/README.md.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import timeit
import zlib
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import msgpack
from websockets.asyncio.client import ClientConnection

from circle_room.protocol import PROTOCOL_VERSIONS
from circle_room.protocol.codec import decode, encode
from circle_room.protocol.messages import (
    CommandFrame,
    EventFrame,
    Greeting,
    Hello,
    Said,
    Share,
    Shared,
    StickGiven,
    TakeStick,
    Welcome,
)
from circle_room.tui.client.trust import dial as connect  # ws://, or wss:// pinned (--tls)

HOST = "127.0.0.1"
"""Loopback only, always; the relay listens on port 0 (a free port)."""
ROOM = "bench"
VERSION = PROTOCOL_VERSIONS[-1]

TAG_SHARED = Shared.TAG
TEXT_AT = {Shared.TAG: 4, Said.TAG: 2}
"""Where a share's text is in each frame that carries one: ``Shared``, and ``Said`` (version 3)."""
TAG_STICK_GIVEN = StickGiven.TAG
TAG_WELCOME = Welcome.TAG
TAG_ERROR = 4

# Two text models. The live run sends random common words (no phrase ever
# repeats, so deflate is not flattered); ``sentence_text`` recycles twelve
# sentences and shows how much deflate gains from a repetitive speaker. Real
# speech lies between the two.
_WORD_TEXT = (
    "i you we they it the a and but so because when then really just still feel felt "
    "think thought know want need have had been was is am are not never always often "
    "today week month year morning night work home family mother father sister brother "
    "friend partner kids job sleep tired angry sad happy scared proud grateful alone "
    "together group circle talk listen share help hard easy better worse again first "
    "last time day long short little lot more less good bad new old small big quiet "
    "loud walk call write read eat cry laugh try stop start keep let go come back here "
    "there about with without after before during since until maybe perhaps honestly "
    "thank thanks everyone anyone someone nobody something nothing everything my your "
    "our their me him her them this that these those what why how who where which "
    "doctor therapist meeting anniversary weekend holiday birthday letter message "
    "phone money rent car train bus garden dog cat rain sun cold warm"
)
_WORDS = tuple(_WORD_TEXT.split())
_SENTENCES = (
    "This week was harder than I expected, mostly because of work.",
    "I keep thinking about what my sister said on Sunday and it still stings.",
    "Thank you all for listening last time; it helped more than you know.",
    "I slept badly again, but I went for a walk each morning anyway.",
    "Honestly I am not sure what I want to say, just that I am here.",
    "My therapist suggested writing things down, so I started a small notebook.",
    "The anniversary is coming up and I notice I get quiet around this time.",
    "I finally called my friend back, and we talked for almost two hours.",
    "Some days the group is the only hour where I do not have to pretend.",
    "I said no to an extra shift, which felt scary and also really good.",
    "Grief comes in waves; today the water is calm, and I am grateful.",
    "I want to pass the stick soon, but first: I am proud of this circle.",
)


def share_text(index: int, sent: float) -> str:
    """A 110-200 character share: send time, index, then random common words."""
    rng = random.Random(index)
    words = f"{sent:.6f} {index:06d}"
    target = rng.randint(110, 185)
    while len(words) < target:
        words += " " + rng.choice(_WORDS)
    return words + "."


def sentence_text(index: int, sent: float) -> str:
    """Like ``share_text`` but made of recycled sentences (flatters deflate)."""
    words = f"{sent:.6f} {index:06d} "
    i = index
    while len(words) < 110:
        words += _SENTENCES[i % len(_SENTENCES)] + " "
        i += 7
    return words[:200].rstrip()


def parse_share(text: str) -> tuple[float, int]:
    sent, index, _ = text.split(" ", 2)
    return float(sent), int(index)


# --- /proc readings -------------------------------------------------------------


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB, from /proc/PID/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def machine_busy_seconds() -> float:
    """CPU seconds spent not idle, summed over all cores, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def start_profiler(args: Any, pid: int, label: str) -> subprocess.Popen[bytes] | None:
    """Sample the relay with py-spy during the share phase, if asked to."""
    if not args.profile_relay:
        return None
    beside = Path(sys.executable).parent / "py-spy"
    spy = str(beside) if beside.exists() else shutil.which("py-spy")
    if spy is None:
        print("py-spy not found: pip install py-spy", file=sys.stderr)
        return None
    output = args.profile_relay.replace("LABEL", label)
    fmt = (
        "raw"
        if output.endswith(".txt")
        else "speedscope"
        if output.endswith(".json")
        else "flamegraph"
    )
    command = [
        spy,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(round(args.duration)),
        "--format",
        fmt,
        "--output",
        output,
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cpu_split(pin: bool) -> tuple[set[int], set[int]]:
    """CPUs for the relay and for everything else: one core to the relay alone.

    With two cores, the listeners woken by a broadcast otherwise preempt the
    relay on its own core in the middle of the broadcast, and the figures
    measure the bench's clients rather than the relay.
    """
    cpus = sorted(os.sched_getaffinity(0))
    if not pin or len(cpus) < 2:
        return set(), set()
    return {cpus[0]}, set(cpus[1:])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far, from /proc/PID/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the relay process ---------------------------------------------------------------


def _install_counters(stats: dict[str, int], relay_side: array.array[float]) -> None:
    """Count encodes and broadcasts of shares inside the relay.

    The room core encodes each event (``encode``, imported by name into
    ``server.room_core``), ``server.versions`` encodes the ``Said`` that stands
    for a ``Shared`` on version 3, and ``server.feed`` sends each form to its
    readers (``broadcast``, imported there), so the wrappers replace those
    names: a share counts once per form. The cost is
    per event (plus one cheap look at each recipient's write buffer after the
    broadcast), so it does not change what is measured. ``relay_side`` gets, per share, the time
    from the speaker's send to the end of the broadcast: the relay's share of
    the delivery latency.
    """
    import circle_room.server.feed as feed
    import circle_room.server.room_core as room_core
    import circle_room.server.versions as versions

    real_encode = room_core.encode
    real_broadcast = feed.broadcast
    last_shared: list[bytes] = []
    """The forms of the latest share, as encoded (one per protocol version)."""
    last_sent = [0.0]

    def counting_encode(frame: Any) -> bytes:
        start = time.perf_counter_ns()
        data = real_encode(frame)
        elapsed = time.perf_counter_ns() - start
        text = None
        if isinstance(frame, EventFrame) and isinstance(frame.event, Shared):
            text, last_shared[:] = frame.event.text, []
        elif isinstance(frame, Said):
            text = frame.text
        if text is None:
            stats["other_encodes"] += 1
            return data
        stats["shared_encodes"] += 1
        stats["shared_encode_ns"] += elapsed
        last_shared.append(data)
        last_sent[0] = parse_share(text)[0]
        return data

    def counting_broadcast(connections: Any, message: Any, **kwargs: Any) -> None:
        connections = list(connections)
        if connections and any(message is form for form in last_shared):
            stats["shared_broadcasts"] += 1
            stats["shared_recipients"] += len(connections)
            start = time.perf_counter_ns()
            cpu_start = time.process_time_ns()
            real_broadcast(connections, message, **kwargs)
            stats["shared_broadcast_cpu_ns"] += time.process_time_ns() - cpu_start
            stats["shared_broadcast_ns"] += time.perf_counter_ns() - start
            relay_side.append(time.time() - last_sent[0])
            # Recipients whose kernel buffer was full, so bytes wait in user space.
            backlogged = sum(1 for ws in connections if ws.transport.get_write_buffer_size() > 0)
            stats["backlogged_total"] += backlogged
            stats["backlogged_max"] = max(stats["backlogged_max"], backlogged)
        else:
            real_broadcast(connections, message, **kwargs)

    room_core.encode = counting_encode  # type: ignore[assignment]
    versions.encode = counting_encode  # type: ignore[assignment]
    feed.broadcast = counting_broadcast


def relay_main(data_dir: str, compression: bool, control: Pipe, tls: bool = False) -> None:
    """Run the relay until ``control`` says stop; then send back the counters."""
    asyncio.run(_relay(data_dir, compression, control, tls))


async def _relay(data_dir: str, compression: bool, control: Pipe, tls: bool) -> None:
    from circle_room.server.config import Rate, RelayConfig
    from circle_room.server.relay import Relay
    from circle_room.server.store import Store
    from circle_room.server.tls import own_certificate

    stats = dict.fromkeys(
        (
            "shared_encodes",
            "shared_encode_ns",
            "other_encodes",
            "shared_broadcasts",
            "shared_recipients",
            "shared_broadcast_ns",
            "shared_broadcast_cpu_ns",
            "backlogged_total",
            "backlogged_max",
        ),
        0,
    )
    relay_side: array.array[float] = array.array("d")
    _install_counters(stats, relay_side)
    store = Store(Path(data_dir))
    # Bench-only limits: the production share rate (burst 5, one per 3 s)
    # would refuse 100 shares/s from one member.
    config = RelayConfig(
        compression=compression,
        share_rate=Rate(1000, 1000),
        frame_rate=Rate(1000, 1000),
        max_members=1000,
    )
    relay = Relay(store, config)
    own = own_certificate(Path(data_dir)) if tls else None
    await relay.start(HOST, 0, own.context if own else None)
    control.send(("port", relay.port, own.fingerprint if own else ""))
    with contextlib.suppress(EOFError):
        await asyncio.to_thread(control.recv)  # "stop", or the parent went away
    await relay.close()
    store.close()
    with contextlib.suppress(OSError):
        control.send(("stats", stats, relay_side.tobytes()))


# --- the listener processes -------------------------------------------------------------


def listener_main(
    url: str,
    first: int,
    count: int,
    compression: bool,
    n_shares: int,
    concurrency: int,
    control: Pipe,
    report: Pipe,
) -> None:
    """Hold ``count`` members; report "ready", "done", then the results on "stop"."""
    asyncio.run(_listeners(url, first, count, compression, n_shares, concurrency, control, report))


@dataclass
class _Tally:
    latencies: array.array[float] = field(default_factory=lambda: array.array("d"))
    shared: int = 0
    shared_bytes: int = 0
    out_of_order: int = 0
    errors: int = 0
    other_frames: int = 0


async def _listeners(
    url: str,
    first: int,
    count: int,
    compression: bool,
    n_shares: int,
    concurrency: int,
    control: Pipe,
    report: Pipe,
) -> None:
    tally = _Tally()
    gate = asyncio.Semaphore(concurrency)
    sockets: list[ClientConnection] = []
    failures: list[str] = []
    complete = 0
    all_complete = asyncio.Event()
    if n_shares == 0:
        all_complete.set()

    async def member(number: int) -> None:
        nonlocal complete
        try:
            async with gate:
                ws = await connect(
                    url,
                    compression="deflate" if compression else None,
                    ping_interval=None,
                    open_timeout=60,
                    close_timeout=5,
                    max_size=2**22,
                )
                await ws.recv()  # Greeting: nothing in it we need.
                await ws.send(encode(Hello(VERSION, name=f"listener {number}", agreed=True)))
                data = await ws.recv()
                if not isinstance(data, bytes) or data[1] != TAG_WELCOME:
                    failures.append(f"member {number}: {decode(data)!r}"[:300])  # type: ignore[arg-type]
                    await ws.close()
                    return
        except Exception as exc:
            failures.append(f"member {number}: {type(exc).__name__}: {exc}")
            return
        sockets.append(ws)
        mine = 0
        last = -1
        latencies = tally.latencies
        with contextlib.suppress(Exception):
            async for data in ws:
                tag = data[1]  # [tag, ...] as a fixarray: the tag is the second byte
                if tag in TEXT_AT:
                    now = time.time()
                    sent, index = parse_share(msgpack.unpackb(data)[TEXT_AT[tag]])
                    latencies.append(now - sent)
                    tally.shared += 1
                    tally.shared_bytes += len(data)
                    if index != last + 1:
                        tally.out_of_order += 1
                    last = index
                    mine += 1
                    if mine == n_shares:
                        complete += 1
                        if complete == count:
                            all_complete.set()
                elif tag == TAG_ERROR:
                    tally.errors += 1
                else:
                    tally.other_frames += 1

    tasks = [asyncio.create_task(member(first + i)) for i in range(count)]
    while len(sockets) + len(failures) < count:
        await asyncio.sleep(0.05)
    report.send(("ready", len(sockets), failures[:5]))

    async def tell_done() -> None:
        await all_complete.wait()
        report.send(("done",))

    done_task = asyncio.create_task(tell_done())
    with contextlib.suppress(EOFError):
        await asyncio.to_thread(control.recv)  # "stop"
    done_task.cancel()
    closers = [ws.close() for ws in sockets]
    for start in range(0, len(closers), concurrency):
        await asyncio.gather(*closers[start : start + concurrency], return_exceptions=True)
    await asyncio.gather(*tasks, return_exceptions=True)
    report.send(
        (
            "result",
            {
                "latencies": tally.latencies.tobytes(),
                "shared": tally.shared,
                "shared_bytes": tally.shared_bytes,
                "out_of_order": tally.out_of_order,
                "errors": tally.errors,
                "other_frames": tally.other_frames,
            },
        )
    )


# --- the speaker (in this process) -------------------------------------------------------


class Speaker:
    """A facilitator who takes the stick and then shares at a steady rate."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.holding = asyncio.Event()
        self.errors: list[str] = []
        self.echoes = 0
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def join(cls, url: str, key: str, compression: bool) -> Speaker:
        ws = await connect(url, compression="deflate" if compression else None, ping_interval=None)
        greeting = decode(await ws.recv())  # type: ignore[arg-type]
        assert isinstance(greeting, Greeting), greeting
        await ws.send(encode(Hello(VERSION, name="speaker", key=key, agreed=True)))
        welcome = decode(await ws.recv())  # type: ignore[arg-type]
        assert isinstance(welcome, Welcome), welcome
        speaker = cls(ws)
        await ws.send(encode(CommandFrame(1, TakeStick())))
        await asyncio.wait_for(speaker.holding.wait(), 10)
        return speaker

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for data in self.ws:
                tag = data[1]
                if tag in TEXT_AT:
                    self.echoes += 1
                elif tag == TAG_STICK_GIVEN:
                    self.holding.set()
                elif tag == TAG_ERROR and len(self.errors) < 5:
                    self.errors.append(repr(decode(data)))  # type: ignore[arg-type]

    async def share(self, n: int, rate: float) -> dict[str, float]:
        """Offer ``n`` shares at ``rate``/s on a deadline schedule (no drift)."""
        lateness = array.array("d")
        start = time.monotonic() + 0.05
        for i in range(n):
            deadline = start + i / rate
            delay = deadline - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            lateness.append(time.monotonic() - deadline)
            frame = encode(CommandFrame(i + 2, Share(share_text(i, time.time()))))
            await self.ws.send(frame)
        elapsed = time.monotonic() - start
        ordered = sorted(lateness)
        return {
            "sent": n,
            "elapsed_s": elapsed,
            "achieved_rate": n / elapsed if elapsed > 0 else 0.0,
            "send_lateness_p99_ms": percentile(ordered, 99) * 1e3,
            "send_lateness_max_ms": ordered[-1] * 1e3 if ordered else 0.0,
        }

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.gather(self._reader, return_exceptions=True)


# --- one scenario -------------------------------------------------------------------------


def percentile(ordered: list[float] | array.array[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted sequence."""
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


async def _recv(pipe: Pipe, timeout: float) -> Any:
    if not await asyncio.to_thread(pipe.poll, timeout):
        raise TimeoutError(f"no message within {timeout} s")
    return pipe.recv()


async def run_scenario(
    args: argparse.Namespace, *, compression: bool, shares: bool
) -> dict[str, Any]:
    label = ("deflate" if compression else "uncompressed") + ("+tls" if args.tls else "")
    say = print if not args.quiet else (lambda *a, **k: None)
    ctx = mp.get_context("spawn")
    data_dir = tempfile.mkdtemp(prefix="circle-bench-")
    processes: list[mp.process.BaseProcess] = []
    all_cpus = os.sched_getaffinity(0)
    client_cpus: set[int] = set()
    result: dict[str, Any] = {"compression": label, "members": args.members}
    try:
        from circle_room.server.store import Store

        store = Store(Path(data_dir))
        key = store.add_room(ROOM)
        store.close()

        relay_cpus, client_cpus = cpu_split(args.pin)
        if client_cpus:
            os.sched_setaffinity(0, client_cpus)  # inherited by the listener processes
        relay_control, relay_end = ctx.Pipe()
        relay = ctx.Process(
            target=relay_main,
            args=(data_dir, compression, relay_end, args.tls),
            name="relay",
            daemon=True,
        )
        relay.start()
        processes.append(relay)
        if relay_cpus:
            assert relay.pid is not None
            os.sched_setaffinity(relay.pid, relay_cpus)
        result["pinning"] = {
            "relay": sorted(relay_cpus) or "any",
            "clients": sorted(client_cpus) or "any",
        }
        tag, port, pin = await _recv(relay_control, 30)
        assert tag == "port"
        url = f"wss://{HOST}:{port}/{ROOM}#{pin}" if pin else f"ws://{HOST}:{port}/{ROOM}"
        assert relay.pid is not None
        say(f"[{label}] relay pid {relay.pid} listening on {url}; CPUs {result['pinning']}")

        speaker = await Speaker.join(url, key, compression)
        await asyncio.sleep(1.0)
        rss_before = rss_kib(relay.pid)

        n_shares = round(args.rate * args.duration) if shares else 0
        listeners: list[tuple[mp.process.BaseProcess, Pipe, Pipe]] = []
        per_proc = [
            args.members // args.listener_procs
            + (1 if i < args.members % args.listener_procs else 0)
            for i in range(args.listener_procs)
        ]
        first = 0
        connect_started = time.monotonic()
        for i, count in enumerate(per_proc):
            control_parent, control_child = ctx.Pipe()
            report_parent, report_child = ctx.Pipe()
            proc = ctx.Process(
                target=listener_main,
                args=(
                    url,
                    first,
                    count,
                    compression,
                    n_shares,
                    args.connect_concurrency,
                    control_child,
                    report_child,
                ),
                name=f"listeners-{i}",
                daemon=True,
            )
            proc.start()
            processes.append(proc)
            listeners.append((proc, control_parent, report_parent))
            first += count
        connected = 0
        for _, _, report in listeners:
            tag, ok, failures = await _recv(report, args.connect_timeout)
            assert tag == "ready"
            connected += ok
            if failures:
                say(f"[{label}] connection failures: {failures}")
        connect_s = time.monotonic() - connect_started
        say(f"[{label}] {connected}/{args.members} members connected in {connect_s:.1f} s")
        await asyncio.sleep(args.settle)
        rss_after = rss_kib(relay.pid)
        result.update(
            connected=connected,
            connect_s=round(connect_s, 2),
            relay_rss_before_kib=rss_before,
            relay_rss_idle_kib=rss_after,
            idle_kib_per_connection=round((rss_after - rss_before) / max(1, connected), 2),
        )
        say(
            f"[{label}] relay RSS {rss_before} -> {rss_after} KiB: "
            f"{result['idle_kib_per_connection']} KiB per idle connection"
        )

        if shares:
            pids = {"relay": relay.pid, "this (speaker)": os.getpid()}
            pids.update({p.name: p.pid for p, _, _ in listeners if p.pid is not None})
            cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            machine_before = machine_busy_seconds()
            profiler = start_profiler(args, relay.pid, label)
            wall = time.monotonic()
            say(f"[{label}] speaker offers {n_shares} shares at {args.rate:g}/s ...")
            sending = await speaker.share(n_shares, args.rate)
            drain_deadline = time.monotonic() + args.drain_timeout
            for _, _, report in listeners:
                with contextlib.suppress(TimeoutError):
                    await _recv(report, max(0.1, drain_deadline - time.monotonic()))
            wall = time.monotonic() - wall
            relay_cpu = cpu_seconds(relay.pid) - cpu_before["relay"]
            cpu = {
                name: round(100 * (cpu_seconds(pid) - cpu_before[name]) / wall, 1)
                for name, pid in pids.items()
            }
            machine = round(100 * (machine_busy_seconds() - machine_before) / wall, 1)
            # Anything else busy on the machine competes with the relay for the CPUs.
            ours = sum(cpu.values())
            cpu["machine (all cores)"] = machine
            cpu["other processes"] = round(max(0.0, machine - ours), 1)
            if profiler is not None:
                await asyncio.to_thread(profiler.wait, args.duration + 30)
                result["profile"] = args.profile_relay.replace("LABEL", label)
            result["relay_rss_after_shares_kib"] = rss_kib(relay.pid)
        for _, control, _ in listeners:
            control.send("stop")
        tallies = []
        for _, _, report in listeners:
            while True:
                message = await _recv(report, 60)
                if message[0] == "result":
                    tallies.append(message[1])
                    break
        await speaker.close()
        relay_control.send("stop")
        tag, relay_stats, relay_side_bytes = await _recv(relay_control, 30)
        for proc in processes:
            await asyncio.to_thread(proc.join, 10)

        if shares:
            latencies = array.array("d")
            for t in tallies:
                latencies.frombytes(t["latencies"])
            ordered = sorted(latencies)
            delivered = sum(t["shared"] for t in tallies)
            expected = connected * n_shares
            ms = {f"p{p:g}": round(percentile(ordered, p) * 1e3, 2) for p in (50, 95, 99, 99.9)}
            ms["max"] = round(ordered[-1] * 1e3, 2) if ordered else float("nan")
            ms["mean"] = round(sum(ordered) / len(ordered) * 1e3, 2) if ordered else float("nan")
            encodes = relay_stats["shared_encodes"]
            relay_side = array.array("d")
            relay_side.frombytes(relay_side_bytes)
            relay_ordered = sorted(relay_side)
            relay_ms = {
                f"p{p:g}": round(percentile(relay_ordered, p) * 1e3, 2) for p in (50, 95, 99)
            }
            relay_ms["max"] = round(relay_ordered[-1] * 1e3, 2) if relay_ordered else float("nan")
            # One figure per second of sharing: shows whether a tail is one stall or steady.
            step = max(1, round(args.rate))
            relay_ms_by_second = [
                round(max(relay_side[i : i + step]) * 1e3, 1)
                for i in range(0, len(relay_side), step)
            ]
            result.update(
                rate=args.rate,
                duration_s=args.duration,
                speaker=sending,
                speaker_errors=speaker.errors,
                speaker_echoes=speaker.echoes,
                latency_ms=ms,
                relay_side_latency_ms=relay_ms,
                relay_side_max_ms_by_second=relay_ms_by_second,
                delivered=delivered,
                expected=expected,
                lost=expected - delivered,
                out_of_order=sum(t["out_of_order"] for t in tallies),
                listener_errors=sum(t["errors"] for t in tallies),
                shared_payload_bytes_mean=round(
                    sum(t["shared_bytes"] for t in tallies) / max(1, delivered), 1
                ),
                cpu_percent=cpu,
                relay_cpu_ms_per_share=round(1e3 * relay_cpu / max(1, sending["sent"]), 3),
                relay_counters={
                    "shared_events_encoded": encodes,
                    "shared_broadcast_calls": relay_stats["shared_broadcasts"],
                    "recipients_per_broadcast": round(
                        relay_stats["shared_recipients"] / max(1, relay_stats["shared_broadcasts"]),
                        1,
                    ),
                    "encodes_per_share_sent": round(encodes / max(1, n_shares), 3),
                    "encode_us_mean": round(
                        relay_stats["shared_encode_ns"] / max(1, encodes) / 1e3, 2
                    ),
                    "broadcast_ms_mean": round(
                        relay_stats["shared_broadcast_ns"]
                        / max(1, relay_stats["shared_broadcasts"])
                        / 1e6,
                        3,
                    ),
                    "backlogged_recipients_mean": round(
                        relay_stats["backlogged_total"] / max(1, relay_stats["shared_broadcasts"]),
                        1,
                    ),
                    "backlogged_recipients_max": relay_stats["backlogged_max"],
                    "broadcast_cpu_ms_mean": round(
                        relay_stats["shared_broadcast_cpu_ns"]
                        / max(1, relay_stats["shared_broadcasts"])
                        / 1e6,
                        3,
                    ),
                },
            )
        return result
    finally:
        if client_cpus:
            os.sched_setaffinity(0, all_cpus)
        for proc in processes:
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
        shutil.rmtree(data_dir, ignore_errors=True)


# --- bytes and encode cost, computed here ----------------------------------------------


def _ws_header(length: int) -> int:
    """Bytes of a server-to-client (unmasked) websocket frame header."""
    return 2 if length < 126 else 4 if length < 65536 else 10


def wire_figures(samples: int = 2000) -> dict[str, Any]:
    """Bytes per Shared frame (raw, websocket, deflated) and the encode cost."""
    now = time.time()

    def frames(make: Any) -> list[EventFrame]:
        return [EventFrame(1000 + i, Shared(1, 1, make(i, now + i / 100))) for i in range(samples)]

    def deflate_sizes(payloads: list[bytes]) -> list[int]:
        # websockets' default server deflate: 12 window bits, memLevel 5, context takeover.
        compressor = zlib.compressobj(wbits=-12, memLevel=5)
        sizes = []
        for data in payloads:
            out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
            sizes.append(len(out) - 4 if out.endswith(b"\x00\x00\xff\xff") else len(out))
        return sizes

    def mean(values: list[int]) -> float:
        return round(sum(values) / len(values), 1)

    words = frames(share_text)
    payloads = [encode(f) for f in words]
    sentences = [encode(f) for f in frames(sentence_text)]
    chars = [len(f.event.text) for f in words]  # type: ignore[union-attr]
    frame = words[0]
    loops = 20_000
    seconds = min(timeit.repeat(lambda: encode(frame), number=loops, repeat=5))
    return {
        "share_chars_mean": mean(chars),
        "share_chars_range": [min(chars), max(chars)],
        "payload_bytes_mean": mean([len(p) for p in payloads]),
        "ws_frame_bytes_mean": mean([len(p) + _ws_header(len(p)) for p in payloads]),
        "deflate_ws_frame_bytes_mean": mean([d + _ws_header(d) for d in deflate_sizes(payloads)]),
        "sentences_payload_bytes_mean": mean([len(p) for p in sentences]),
        "sentences_deflate_ws_frame_bytes_mean": mean(
            [d + _ws_header(d) for d in deflate_sizes(sentences)]
        ),
        "encode_us": round(seconds / loops * 1e6, 2),
        "encode_cpu_ms_per_s_at_rate": None,
    }


# --- output -------------------------------------------------------------------------------


def print_table(results: dict[str, Any]) -> None:
    rows: list[tuple[str, str]] = []
    for scenario in results["scenarios"]:
        label = scenario["compression"]
        if "latency_ms" in scenario:
            lat = scenario["latency_ms"]
            sp = scenario["speaker"]
            rows += [
                (
                    f"{label}: delivery latency p50/p95/p99",
                    f"{lat['p50']} / {lat['p95']} / {lat['p99']} ms",
                ),
                (f"{label}: latency p99.9 / max", f"{lat['p99.9']} / {lat['max']} ms"),
                (
                    f"{label}: relay side p50/p99/max",
                    "{p50} / {p99} / {max} ms (speaker send -> end of broadcast)".format(
                        **scenario["relay_side_latency_ms"]
                    ),
                ),
                (
                    f"{label}: relay side max, each second",
                    " ".join(f"{v:g}" for v in scenario["relay_side_max_ms_by_second"]),
                ),
                (
                    f"{label}: delivered / expected",
                    f"{scenario['delivered']} / {scenario['expected']}"
                    f" (lost {scenario['lost']}, out of order {scenario['out_of_order']})",
                ),
                (
                    f"{label}: shares offered",
                    f"{sp['sent']} at {sp['achieved_rate']:.1f}/s "
                    f"(send lateness p99 {sp['send_lateness_p99_ms']:.2f} ms)",
                ),
                (
                    f"{label}: CPU % during shares",
                    ", ".join(f"{k} {v}" for k, v in scenario["cpu_percent"].items()),
                ),
                (
                    f"{label}: relay CPU per share",
                    f"{scenario['relay_cpu_ms_per_share']} ms (relay CPU seconds during the "
                    "shares and the drain, over shares sent)",
                ),
                (
                    f"{label}: relay encodes per share",
                    f"{scenario['relay_counters']['encodes_per_share_sent']} "
                    f"({scenario['relay_counters']['recipients_per_broadcast']} recipients "
                    f"per broadcast, {scenario['relay_counters']['broadcast_ms_mean']} ms wall / "
                    f"{scenario['relay_counters']['broadcast_cpu_ms_mean']} ms CPU each; "
                    f"kernel buffer full for max "
                    f"{scenario['relay_counters']['backlogged_recipients_max']})",
                ),
            ]
        rows.append(
            (
                f"{label}: idle memory per connection",
                f"{scenario['idle_kib_per_connection']} KiB "
                f"(relay RSS {scenario['relay_rss_before_kib']} -> "
                f"{scenario['relay_rss_idle_kib']} KiB, {scenario['connected']} members)",
            )
        )
    wire = results["wire"]
    rows += [
        (
            "share text (chars)",
            f"mean {wire['share_chars_mean']}, {wire['share_chars_range'][0]}-"
            f"{wire['share_chars_range'][1]}",
        ),
        (
            "Shared frame bytes",
            f"msgpack {wire['payload_bytes_mean']}, websocket frame "
            f"{wire['ws_frame_bytes_mean']}, with deflate {wire['deflate_ws_frame_bytes_mean']} "
            "(random words, as sent in the run)",
        ),
        (
            "Shared frame bytes, recycled sentences",
            f"msgpack {wire['sentences_payload_bytes_mean']}, with deflate "
            f"{wire['sentences_deflate_ws_frame_bytes_mean']} (a very repetitive speaker)",
        ),
        (
            "encode cost",
            f"{wire['encode_us']} us per Shared event "
            f"= {wire['encode_cpu_ms_per_s_at_rate']} ms CPU/s at the offered rate",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    print()
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500, help="listeners in the room")
    parser.add_argument("--rate", type=float, default=100.0, help="shares offered per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of sharing")
    parser.add_argument("--listener-procs", type=int, default=2, help="listener processes")
    parser.add_argument("--settle", type=float, default=3.0, help="idle seconds before RSS")
    parser.add_argument(
        "--no-pin",
        dest="pin",
        action="store_false",
        help="let the scheduler place processes (default: relay alone on the first CPU, "
        "listeners and speaker on the others)",
    )
    parser.add_argument("--drain-timeout", type=float, default=10.0)
    parser.add_argument("--connect-timeout", type=float, default=180.0)
    parser.add_argument("--connect-concurrency", type=int, default=50)
    parser.add_argument(
        "--deflate",
        choices=("memory", "full", "skip", "only"),
        default="memory",
        help="the deflate run: idle memory only (default), memory and latency (full), "
        "none (skip), or memory and latency without the uncompressed run (only)",
    )
    parser.add_argument(
        "--profile-relay",
        metavar="PATH",
        help="record the relay with py-spy during the share phase; LABEL in PATH is replaced "
        "by the scenario; .txt gives collapsed stacks, .json speedscope, else an SVG "
        "(profiling perturbs the latency figures)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="the relay speaks TLS with its own certificate, pinned by every member "
        "(the default setup; without it, plain ws:// as behind a TLS-terminating proxy)",
    )
    parser.add_argument("--out", help="also write the results as JSON to this path")
    parser.add_argument("--quiet", action="store_true", help="print the table only")
    return parser


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    scenarios = []
    if args.deflate != "only":
        scenarios.append(await run_scenario(args, compression=False, shares=True))
    if args.deflate != "skip":
        shares = args.deflate in ("full", "only")
        scenarios.append(await run_scenario(args, compression=True, shares=shares))
    wire = wire_figures()
    wire["encode_cpu_ms_per_s_at_rate"] = round(wire["encode_us"] * args.rate / 1e3, 3)
    return {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "args": {k: v for k, v in vars(args).items() if k not in ("out", "quiet")},
        "scenarios": scenarios,
        "wire": wire,
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    results = asyncio.run(main_async(args))
    print_table(results)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nresults written to {args.out}")
    ok = all(s.get("lost", 0) == 0 for s in results["scenarios"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

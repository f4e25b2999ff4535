"""What one SSH member costs: bytes per minute in a busy meeting, child RSS and CPU.

Runs a relay and the SSH gateway in-process on 127.0.0.1 (port 0), a
facilitator and members as ``CircleClient``s keeping the circle busy (hands,
shares, me-toos, the stick moving on), and two SSH members through asyncssh's
client: one with a PTY (the full Textual client, 80x24, xterm-256color) and
one without (plain mode). Bytes are counted where the gateway writes them to
the channel (before SSH's own compression); the "with -C" figure compresses
the same byte stream with zlib and a sync flush per write, as ``ssh -C`` does.

    python bench/ssh_bench.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
import zlib
from pathlib import Path

import asyncssh

from circle_room.server.config import Rate, RelayConfig
from circle_room.server.relay import Relay
from circle_room.server.ssh_gateway import SSHGateway, load_host_key
from circle_room.server.store import Store
from circle_room.server.tls import own_certificate
from circle_room.tui.client.connection import CircleClient
from circle_room.tui.plain.session import serve_ssh

ROOM = "bench"
TEXT = (
    "I noticed this week that I keep waiting for things to feel normal again and maybe "
    "that is the wrong way to think about it. Thank you all for listening to me."
)


class Kbd(asyncssh.SSHClient):
    def __init__(self, name: str) -> None:
        self.name = name

    def kbdint_auth_requested(self) -> str:
        return ""

    def kbdint_challenge_received(
        self, name: str, instructions: str, lang: str, prompts: object
    ) -> list[str]:
        return [self.name] if prompts else []


class Counter:
    """Bytes a member's terminal received, raw and as ``ssh -C`` would send them."""

    def __init__(self) -> None:
        self.raw = 0
        self.compressed = 0
        self._zlib = zlib.compressobj(6)
        self.text = ""

    def add(self, data: str) -> None:
        raw = data.encode()
        self.raw += len(raw)
        self.compressed += len(self._zlib.compress(raw) + self._zlib.flush(zlib.Z_SYNC_FLUSH))
        self.text = (self.text + data)[-20000:]


async def reader(process: asyncssh.SSHClientProcess[str], counter: Counter) -> None:
    while True:
        data = await process.stdout.read(65536)
        if not data:
            return
        counter.add(data)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def busy_meeting(url: str, key: str, seconds: float) -> int:
    """Keep the circle busy for ``seconds``; return how many events that made."""
    sam = CircleClient(url, name="Sam", key=key)
    await sam.connect()
    members = [CircleClient(url, name=f"M{i}") for i in range(6)]
    for m in members:
        await m.connect()
    rng = random.Random(7)
    end = time.monotonic() + seconds
    events_before = sam.seq
    turn = 0
    while time.monotonic() < end:
        speaker = members[turn % len(members)]
        await speaker.raise_hand()
        for other in members[1:3]:
            if other is not speaker:
                await other.raise_hand()
        await asyncio.sleep(0.3)
        if sam.state.holder != speaker.member_id:
            await sam.give_stick(speaker.member_id)
            await asyncio.sleep(0.2)
        for _ in range(3):
            await speaker.share(" ".join(rng.choices(TEXT.split(), k=rng.randint(12, 40))))
            for listener in members:
                if listener is not speaker and rng.random() < 0.5:
                    await listener.me_too(on=True)
            await asyncio.sleep(3.0)
        await speaker.yield_stick()
        await sam.lower_all_hands()
        turn += 1
    events = sam.seq - events_before
    for client in [sam, *members]:
        await client.close()
    return events


async def main(seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp))
        key = store.add_room(ROOM, "")
        config = RelayConfig(share_rate=Rate(10, 1), other_rate=Rate(50, 20))
        relay = Relay(store, config)
        tls = own_certificate(Path(tmp))
        await relay.start("127.0.0.1", 0, tls.context)
        base = f"wss://127.0.0.1:{relay.port}"  # Seats pin the relay's certificate.
        gateway = SSHGateway(
            relay, load_host_key(Path(tmp)), serve_ssh, relay_url=f"{base}#{tls.fingerprint}"
        )
        await gateway.start("127.0.0.1", 0)
        url = f"{base}/{ROOM}#{tls.fingerprint}"

        async def ssh(name: str) -> asyncssh.SSHClientConnection:
            conn, _ = await asyncssh.create_connection(
                lambda: Kbd(name),
                "127.0.0.1",
                gateway.port,
                username=ROOM,
                known_hosts=None,
                client_keys=None,
                preferred_auth="keyboard-interactive",
                config=None,
            )
            return conn

        tui_conn = await ssh("Tui")
        tui = await tui_conn.create_process(term_type="xterm-256color", term_size=(80, 24))
        plain_conn = await ssh("Plain")
        plain = await plain_conn.create_process(term_type=None)
        tui_count, plain_count = Counter(), Counter()
        tasks = [
            asyncio.create_task(reader(tui, tui_count)),
            asyncio.create_task(reader(plain, plain_count)),
        ]
        while "I accept" not in tui_count.text or "Type yes" not in plain_count.text:
            await asyncio.sleep(0.1)
        started = time.monotonic()
        tui.stdin.write("\r")
        plain.stdin.write("yes\n")
        while "Connected" not in tui_count.text or "You are in" not in plain_count.text:
            await asyncio.sleep(0.1)
        print(f"join to first full screen over SSH: {time.monotonic() - started:.2f} s")
        await asyncio.sleep(2.0)  # Let the first paint settle before counting.
        sessions = {s.stats.mode.value: s.stats for s in gateway.sessions}
        pid = sessions["tui"].pid
        assert pid is not None
        rss_idle = rss_mib(pid)
        idle_mark, idle_cpu, idle_t0 = sessions["tui"].bytes_out, cpu_seconds(pid), time.monotonic()
        await asyncio.sleep(min(20.0, seconds / 3))  # Nobody holds the stick: a quiet room.
        idle_s = time.monotonic() - idle_t0
        quiet = (sessions["tui"].bytes_out - idle_mark) * 60 / idle_s / 1024
        quiet_cpu = 100 * (cpu_seconds(pid) - idle_cpu) / idle_s
        print(f"quiet room, full TUI: {quiet:.1f} KiB/min, child CPU {quiet_cpu:.1f}% of one core")
        before = {mode: s.bytes_out for mode, s in sessions.items()}
        marks = (tui_count.raw, tui_count.compressed, plain_count.raw, plain_count.compressed)
        cpu_before, t0 = cpu_seconds(pid), time.monotonic()
        events = await busy_meeting(url, key, seconds)
        elapsed = time.monotonic() - t0
        cpu = cpu_seconds(pid) - cpu_before
        per_min = 60 / elapsed
        tui_bytes = sessions["tui"].bytes_out - before["tui"]
        plain_bytes = sessions["plain"].bytes_out - before["plain"]
        print(f"busy meeting: {elapsed:.0f} s, {events} events ({events * per_min:.0f}/min)")
        print(
            f"full TUI 80x24: {tui_bytes * per_min / 1024:.1f} KiB/min written to the channel, "
            f"{(tui_count.compressed - marks[1]) * per_min / 1024:.1f} KiB/min with -C"
        )
        print(
            f"plain mode:     {plain_bytes * per_min / 1024:.2f} KiB/min written to the channel, "
            f"{(plain_count.compressed - marks[3]) * per_min / 1024:.2f} KiB/min with -C"
        )
        print(f"TUI/plain ratio: {tui_bytes / max(1, plain_bytes):.0f}x")
        print(
            f"child: RSS {rss_idle:.1f} MiB after joining, {rss_mib(pid):.1f} MiB after; "
            f"CPU {cpu:.2f} s in {elapsed:.0f} s ({100 * cpu / elapsed:.1f}% of one core)"
        )
        mark = sessions["tui"].bytes_out
        tui.change_terminal_size(120, 40)
        await asyncio.sleep(1.5)
        print(f"one resize to 120x40: {(sessions['tui'].bytes_out - mark) / 1024:.1f} KiB")
        # Plain sessions live in the gateway's process: measure twenty of them.
        rss_before = rss_mib(os.getpid())
        extra = []
        for i in range(20):
            conn = await ssh(f"P{i}")
            process = await conn.create_process(term_type=None)
            process.stdin.write("yes\n")
            extra.append((conn, process))
        for _, process in extra:
            while "You are in" not in (await process.stdout.readline()):
                pass
        per_plain = (rss_mib(os.getpid()) - rss_before) / 20
        print(f"plain session: about {per_plain * 1024:.0f} KiB of the host process's RSS each")
        for conn, _ in extra:
            conn.close()
        tui_conn.close()
        plain_conn.close()
        for task in tasks:
            task.cancel()
        await gateway.close()
        await relay.close()
        store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    asyncio.run(main(parser.parse_args().seconds))

"""The scripted meeting through Circle and through ngircd: what a pure listener receives.

Circle: a ``Relay`` on a free port (the production code, with rate limits
raised so the script can run at full speed; they change no byte), eleven
``CircleClient``s playing ``script.meeting()``, and Lee, who only listens, on
a raw websocket whose socket is counted with ``ss``. Each step waits until
the facilitator has seen its first event, so the relay handles the steps one
at a time, in order, as people would. Lee speaks the newest protocol version
(as the reference client does) or, for the figure before it, version 1; over
plain ``ws://`` (as the IRC figure) or TLS (``wss://``, pinned: the default
transport), where the socket's count includes every TLS record's overhead.

IRC: the same script through ngircd (``irc.py``), Lee's socket counted the same way.

The same events as JSON: every event frame Lee received, as a JSON object
with field names, in a websocket text frame, with and without deflate (the
relay's deflate settings). The floor: the sixty share texts alone, under zlib
level 9.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import tempfile
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

from irc import Ngircd, join_everyone, play
from script import FACILITATOR, LISTENER, MEMBERS, Step, meeting
from sockets import Counts, counts
from websockets.asyncio.client import ClientConnection

from circle_room.protocol import PROTOCOL_VERSIONS
from circle_room.protocol.codec import decode, encode
from circle_room.protocol.handover import standing_for
from circle_room.protocol.messages import (
    EventFrame,
    Frame,
    Greeting,
    Hello,
    Hidden,
    LowerHand,
    MeToo,
    Welcome,
)
from circle_room.protocol.model import RoomState, SignalKind
from circle_room.protocol.room import apply
from circle_room.server.config import Rate, RelayConfig
from circle_room.server.relay import Relay
from circle_room.server.store import Store
from circle_room.server.tls import own_certificate
from circle_room.tui.client.connection import CircleClient
from circle_room.tui.client.saved_seat import STATE_DIR_ENV
from circle_room.tui.client.trust import dial

ROOM = "meeting"
UNLIMITED = Rate(10_000, 10_000)
DEFLATE = {"wbits": -13, "memLevel": 5, "level": 6}
"""The relay's permessage-deflate settings (``server.relay``), for the offline JSON figure."""
TCP_IP_HEADERS = 52
"""Bytes of IPv4 + TCP headers (with timestamps) on each segment."""


def ws_header(length: int, masked: bool = False) -> int:
    base = 2 if length < 126 else 4 if length < 65536 else 10
    return base + (4 if masked else 0)


def deflated_sizes(payloads: list[bytes], settings: dict[str, int] = DEFLATE) -> list[int]:
    """Per-message deflate with context takeover, as permessage-deflate sends it."""
    compressor = zlib.compressobj(
        settings["level"], zlib.DEFLATED, settings["wbits"], settings["memLevel"]
    )
    sizes = []
    for data in payloads:
        out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
        sizes.append(len(out) - 4 if out.endswith(b"\x00\x00\xff\xff") else len(out))
    return sizes


def as_json(frame: EventFrame) -> bytes:
    """The event as a self-describing JSON object, as a JSON protocol would send it."""
    body = {"type": type(frame.event).__name__, "seq": frame.seq}
    body.update(dataclasses.asdict(frame.event))
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=list).encode()


def event_frames(frame: Frame, room: RoomState) -> list[EventFrame]:
    """The events a frame carries for a listener whose room is ``room``.

    One, two for a ``HandOver``, those of a ``Batch``, none for the rest.
    """
    return [part for part in standing_for(frame, room) if isinstance(part, EventFrame)]


def floor_bytes(texts: list[str]) -> int:
    """The information floor: the share texts alone, zlib level 9."""
    return len(zlib.compress("\n".join(texts).encode(), 9))


# --- Circle -------------------------------------------------------------------------


class Listener:
    """Lee: a raw websocket that only reads, keeping every frame."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[bytes] = []
        self.events: list[EventFrame] = []
        """Every event received, compact frames expanded."""
        self.seq = 0
        self.room = RoomState()
        self._changed = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def join(cls, url: str, compression: bool, version: int, gapless: bool) -> Listener:
        options = {"compression": "deflate" if compression else None, "ping_interval": None}
        ws = await dial(url, remember=False, **options)
        greeting = decode(await ws.recv())  # type: ignore[arg-type]
        assert isinstance(greeting, Greeting), greeting
        hello = Hello(version, name=LISTENER, agreed=True, gapless=gapless)
        await ws.send(encode(hello))
        welcome = decode(await ws.recv())  # type: ignore[arg-type]
        assert isinstance(welcome, Welcome), welcome
        listener = cls(ws)
        listener.seq = welcome.seq
        listener.room = welcome.state or RoomState()
        return listener

    @property
    def socket(self) -> tuple[int, int]:
        return int(self.ws.local_address[1]), int(self.ws.remote_address[1])

    async def _read(self) -> None:
        async for data in self.ws:
            assert isinstance(data, bytes)
            self.frames.append(data)
            frame = decode(data)
            for event in event_frames(frame, self.room):
                self.seq = event.seq
                self.room = apply(self.room, event.event)
                self.events.append(event)
            if isinstance(frame, Hidden):
                self.seq = frame.seq
            self._changed.set()

    async def wait_seq(self, seq: int, timeout: float = 30.0) -> None:
        async def until() -> None:
            while self.seq < seq:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(until(), timeout)

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.gather(self._task, return_exceptions=True)


async def _step(clients: dict[str, CircleClient], step: Step) -> None:
    fran = clients[FACILITATOR]
    client = clients[step.who]
    before = fran.seq
    if step.action == "take":
        await client.take_stick()
    elif step.action == "share":
        await client.share(step.text)
    elif step.action == "yield":
        await client.yield_stick()
    elif step.action == "raise":
        await client.raise_hand()
    elif step.action == "lower":
        await client.send(LowerHand())
    elif step.action == "metoo":
        # The turn as the facilitator sees it: this member's view may lag by an event.
        turn = fran.state.turn
        assert turn is not None
        await client.send(MeToo(turn.id, True))
    elif step.action == "pause":
        await client.pause(step.text)
    elif step.action == "resume":
        await client.resume()
    elif step.action == "signal":
        await client.signal(SignalKind.CHECK_IN)
    elif step.action == "give":
        target = next(m.id for m in fran.state.members.values() if m.name == step.target)
        await client.give_stick(target)
    else:
        raise ValueError(step.action)
    await fran.wait_until(lambda c: c.seq > before, 30)


async def circle_meeting(
    compression: bool,
    steps: list[Step],
    *,
    version: int = PROTOCOL_VERSIONS[-1],
    tls: bool = False,
    gapless: bool = False,
) -> dict[str, Any]:
    """Play ``steps`` through a fresh relay; what Lee (speaking ``version``) received, and how."""
    data_dir = tempfile.mkdtemp(prefix="circle-bench-meeting-")
    # The members remember the relay's certificate here, not in the user's state.
    state_before = os.environ.get(STATE_DIR_ENV)
    os.environ[STATE_DIR_ENV] = str(Path(data_dir) / "state")
    store = Store(Path(data_dir))
    key = store.add_room(ROOM)
    config = RelayConfig(
        compression=compression,
        share_rate=UNLIMITED,
        hand_rate=UNLIMITED,
        metoo_rate=UNLIMITED,
        signal_rate=UNLIMITED,
        other_rate=UNLIMITED,
        frame_rate=UNLIMITED,
    )
    relay = Relay(store, config)
    if tls:
        own = own_certificate(Path(data_dir) / "relay")
        await relay.start("127.0.0.1", 0, own.context)
        url = f"wss://127.0.0.1:{relay.port}/{ROOM}#{own.fingerprint}"
    else:
        await relay.start("127.0.0.1", 0)
        url = f"ws://127.0.0.1:{relay.port}/{ROOM}"
    clients: dict[str, CircleClient] = {}
    lee: Listener | None = None
    try:
        for name in (FACILITATOR, *MEMBERS):
            client = CircleClient(
                url, name=name, key=key if name == FACILITATOR else "", compression=compression
            )
            await client.connect()
            clients[name] = client
        fran = clients[FACILITATOR]
        await fran.wait_until(lambda c: len(c.state.members) == len(clients), 30)
        lee = await Listener.join(url, compression, version, gapless)
        await fran.wait_until(lambda c: len(c.state.members) == len(clients) + 1, 30)
        start = counts(*lee.socket)
        first_frame, first_event = len(lee.frames), len(lee.events)
        for step in steps:
            await _step(clients, step)
        await lee.wait_seq(fran.seq)
        end = counts(*lee.socket)
        frames = lee.frames[first_frame:]
        event_list = lee.events[first_event:]
    finally:
        # The relay first: members who drop while it runs are given a grace
        # period, whose timer would outlive this function and the store.
        await relay.close()
        for client in clients.values():
            await client.close()
        if lee is not None:
            await lee.close()
        store.close()
        shutil.rmtree(data_dir, ignore_errors=True)
        if state_before is None:
            os.environ.pop(STATE_DIR_ENV, None)
        else:
            os.environ[STATE_DIR_ENV] = state_before
    events = [decode(f) for f in frames]
    by_kind: Counter[str] = Counter()
    bytes_by_kind: Counter[str] = Counter()
    for data, frame in zip(frames, events, strict=True):
        kind = type(frame.event).__name__ if isinstance(frame, EventFrame) else type(frame).__name__
        by_kind[kind] += 1
        bytes_by_kind[kind] += len(data)
    meeting_counts = end - start
    return {
        "compression": compression,
        "version": version,
        "tls": tls,
        "gapless": gapless,
        "join": {"bytes_received": start.bytes_received, "segments": start.segments},
        "meeting": _figures(meeting_counts),
        "frames": len(frames),
        "frames_by_kind": dict(by_kind),
        "payload_bytes_by_kind": dict(bytes_by_kind),
        "_event_frames": event_list,
    }


def _figures(c: Counts) -> dict[str, int]:
    return {
        "bytes_received": c.bytes_received,
        "bytes_sent": c.bytes_sent,
        "segs_in": c.segs_in,
        "segs_out": c.segs_out,
        "wire_bytes_in": c.bytes_received + TCP_IP_HEADERS * c.segs_in,
    }


# --- IRC ------------------------------------------------------------------------------


async def irc_meeting(binary: str, steps: list[Step]) -> dict[str, Any]:
    server = await Ngircd(binary).start()
    clients = {}
    try:
        clients = await join_everyone(server.port)
        lee = clients[LISTENER]
        await asyncio.sleep(0.2)  # let the last JOIN echo settle before counting
        start = counts(lee.local_port, lee.server_port)
        first = len(lee.lines)
        played = await play(clients, steps)
        end = counts(lee.local_port, lee.server_port)
        lines = lee.lines[first:]
    finally:
        for client in clients.values():
            await client.close()
        server.stop()
    kinds: Counter[str] = Counter(line.split(" ")[1] for line in lines if " " in line)
    return {
        "join": {"bytes_received": start.bytes_received, "segments": start.segments},
        "meeting": _figures(end - start),
        "lines": len(lines),
        "lines_by_kind": dict(kinds),
        **played,
    }


# --- together ---------------------------------------------------------------------------


def json_figures(frames: list[EventFrame]) -> dict[str, float]:
    payloads = [as_json(f) for f in frames]
    plain = sum(len(p) + ws_header(len(p)) for p in payloads)
    deflated = sum(d + ws_header(d) for d in deflated_sizes(payloads))
    return {"frames": len(payloads), "bytes": plain, "deflate_bytes": deflated}


async def run(irc_binary: str | None, steps: list[Step] | None = None) -> dict[str, Any]:
    """Every figure of the meeting section."""
    steps = steps if steps is not None else meeting()
    texts = [s.text for s in steps if s.action == "share"]
    result: dict[str, Any] = {
        "steps": len(steps),
        "shares": sum(s.action == "share" for s in steps),
        "floor_bytes": floor_bytes(texts),
        "share_text_bytes": len("\n".join(texts).encode()),
    }
    for compression in (True, False):
        circle = await circle_meeting(compression, steps)
        frames = circle.pop("_event_frames")
        result["circle_deflate" if compression else "circle_plain"] = circle
        if not compression:
            result["json"] = json_figures(frames)
    # A listener asking for every seq (as the reference client does), version 1
    # (what a listener got before versions 2 and 3), and both versions over TLS.
    variants = {
        "circle_deflate_gapless": {"gapless": True},
        "circle_v1_deflate": {"version": 1},
        "circle_deflate_tls": {"tls": True},
        "circle_v1_deflate_tls": {"version": 1, "tls": True},
    }
    for key, options in variants.items():
        circle = await circle_meeting(True, steps, **options)  # type: ignore[arg-type]
        circle.pop("_event_frames")
        result[key] = circle
    if irc_binary:
        result["irc"] = await irc_meeting(irc_binary, steps)
    else:
        result["irc"] = None
    return result

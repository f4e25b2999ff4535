"""What someone on the network sees: a member's traffic, recorded between client and relay.

A recording TCP proxy on loopback stands where the café's Wi-Fi would: the
member connects through it, gives the passcode and shares a marker phrase.
In the default setup (TLS, the relay's certificate pinned) neither appears in
the bytes that crossed it, in either direction. The same meeting over plain
``ws://`` shows both, which is what proves the recording would catch them.
The member turns deflate off, so that only TLS can be what hides the phrase,
and what a member sends is unmasked before it is searched (websocket masking
is a fixed XOR with a key sent alongside, no secrecy at all).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from circle_room.server.config import RelayConfig
from tests.server.support import ROOM, JoinFn, MakeRelay, Peer, RunningRelay

PASSCODE = "maple-river-stone"
MARKER = "the blue heron crossed the harbor at dawn"


class Recorder:
    """Forwards 127.0.0.1:``port`` to the relay and keeps every byte that crossed."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.to_relay = bytearray()
        self.to_member = bytearray()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        pipes = [
            asyncio.ensure_future(self._pipe(reader, up_writer, self.to_relay)),
            asyncio.ensure_future(self._pipe(up_reader, writer, self.to_member)),
        ]
        self._pipes.update(pipes)
        await asyncio.gather(*pipes, return_exceptions=True)

    @staticmethod
    async def _pipe(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: bytearray
    ) -> None:
        try:
            while data := await reader.read(65536):
                seen += data
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for pipe in self._pipes:
            pipe.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._pipes, return_exceptions=True)

    def readable(self) -> bytes:
        """What an eavesdropper can read: the bytes both ways, the member's unmasked too."""
        return bytes(self.to_member + self.to_relay) + unmasked(bytes(self.to_relay))


def unmasked(stream: bytes) -> bytes:
    """The payloads of the websocket frames a client sent, after its HTTP request.

    Stops at the first thing that is not a frame (all of it, for a TLS stream).
    """
    _, found, rest = stream.partition(b"\r\n\r\n")
    payloads = bytearray()
    while found and len(rest) >= 6:
        length, at = rest[1] & 0x7F, 2
        if length == 126:
            length, at = int.from_bytes(rest[2:4], "big"), 4
        elif length == 127:
            length, at = int.from_bytes(rest[2:10], "big"), 10
        if not rest[1] & 0x80 or len(rest) < at + 4 + length:
            break
        key, payload = rest[at : at + 4], rest[at + 4 : at + 4 + length]
        payloads += bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        rest = rest[at + 4 + length :]
    return bytes(payloads)


@pytest.fixture
async def recorded(make_relay: MakeRelay) -> AsyncIterator[tuple[RunningRelay, Recorder]]:
    relay = await make_relay(RelayConfig(ping_interval=None), passcode=PASSCODE)
    recorder = Recorder(relay.port)
    await recorder.start()
    yield relay, recorder
    await recorder.close()


async def meet_through(recorder: Recorder, url: str, join: JoinFn, key: str) -> Peer:
    """Sam facilitates directly; Dana joins through the recorder and shares the marker."""
    sam = await join(url, "Sam", key=key)
    dana = await join(
        url.replace(f":{recorder.upstream_port}/", f":{recorder.port}/"),
        "Dana",
        passcode=PASSCODE,
        compression=False,
    )
    await sam.client.give_stick(dana.id)
    await dana.wait(lambda: dana.state.holder == dana.id, "Dana to hold the stick")
    await dana.client.share(MARKER)
    for peer in (sam, dana):
        await peer.wait(lambda p=peer: MARKER in p.shares(), "the share to arrive")  # type: ignore[misc]
    await dana.client.leave()
    return dana


async def test_in_the_default_setup_the_wire_shows_neither_share_nor_passcode(
    recorded: tuple[RunningRelay, Recorder], join: JoinFn
) -> None:
    relay, recorder = recorded
    assert relay.url.startswith("wss://") and "#" in relay.url  # as circle host prints it
    await meet_through(recorder, relay.url, join, relay.key)
    wire = recorder.readable()
    assert len(recorder.to_relay) > 500 and len(recorder.to_member) > 500  # it did cross
    for secret in (MARKER, PASSCODE, "heron", ROOM, "Dana"):
        assert secret.encode() not in wire, f"{secret!r} readable on the wire"


async def test_over_plain_ws_the_same_recording_shows_them(
    make_relay: MakeRelay, join: JoinFn
) -> None:
    """The control: the recorder would catch the phrase and the passcode if they crossed."""
    plain = await make_relay(RelayConfig(ping_interval=None), passcode=PASSCODE, tls=False)
    recorder = Recorder(plain.port)
    await recorder.start()
    try:
        await meet_through(recorder, plain.url, join, plain.key)
    finally:
        await recorder.close()
    assert MARKER.encode() in recorder.to_member
    assert PASSCODE.encode() not in recorder.to_relay  # masked, not hidden:
    assert PASSCODE.encode() in unmasked(bytes(recorder.to_relay))
    assert MARKER.encode() in unmasked(bytes(recorder.to_relay))  # Dana's own share, sent

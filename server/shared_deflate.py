"""permessage-deflate that compresses a broadcast once, however many members read it.

websockets' ``PerMessageDeflate`` keeps one compressor per connection (context
takeover), so a room deflates each event once per member: in a room of 500
that is most of the relay's CPU. Context takeover is a permission, never a
duty (RFC 7692): a message deflated by a fresh compressor refers to nothing
before it, and the client's decompressor, which keeps its window whatever we
do, reads it as it reads any other. So in a large room each event is
deflated **once**, by a fresh compressor, and the same bytes go to every
member; a small room keeps each connection's own context, which is what
makes small events small.

The room says which it is (``Sharing``, one per room, read by each of its
connections' ``SharedDeflate``); ``websockets.broadcast`` hands the same
``bytes`` object to every connection, so a cache of one payload
(``SharedCache``) is all it takes to deflate it once.

A connection that goes back from shared messages to its own context starts
a fresh compressor: the client's window now holds messages its old
compressor never saw, and a reference into that history would read the
wrong bytes. While it shares, a connection holds no compressor at all.
A payload that deflating alone would not shorten (a small event) is sent
as it is, without RSV1, which the client reads without touching its window.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

from websockets.extensions.base import Extension
from websockets.extensions.permessage_deflate import (
    PerMessageDeflate,
    ServerPerMessageDeflateFactory,
)
from websockets.frames import CONT, CTRL_OPCODES, Frame
from websockets.typing import BytesLike, ExtensionParameter

_SYNC_TAIL = b"\x00\x00\xff\xff"
"""What ``Z_SYNC_FLUSH`` ends with and permessage-deflate leaves off."""


def deflate_alone(data: BytesLike, window_bits: int, settings: dict[str, Any]) -> bytes:
    """``data`` as one permessage-deflate message that refers to nothing before it."""
    compressor = zlib.compressobj(wbits=-window_bits, **settings)
    out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(_SYNC_TAIL)
    return out[:-4]


class SharedCache:
    """The last payload deflated for sharing, per window size: one deflate per broadcast.

    Keyed on the payload's identity (``broadcast`` passes the same object to
    every connection); it holds a reference to it, so the identity cannot be
    reused while cached. Only ``bytes`` are cached: they cannot change under it.
    One cache serves the connections of one factory, so the settings are one.
    """

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self._data: bytes | None = None
        self._deflated: dict[int, bytes | None] = {}
        self.deflates = 0
        """Payloads deflated so far, cached or not (for tests and the benchmark)."""

    def deflate(self, data: BytesLike, window_bits: int) -> bytes | None:
        """``data`` deflated alone, or None where that is no shorter: send it as it is.

        A small event deflated without a history grows (a block header and
        codes for every byte); a message without RSV1 is read as it is and
        never enters the client's window, so sending it plain costs nothing.
        """
        if type(data) is not bytes:
            return self._smaller(data, window_bits)
        if data is not self._data:
            self._data = data
            self._deflated = {}
        if window_bits in self._deflated:
            return self._deflated[window_bits]
        out = self._deflated[window_bits] = self._smaller(data, window_bits)
        return out

    def _smaller(self, data: BytesLike, window_bits: int) -> bytes | None:
        self.deflates += 1
        out = deflate_alone(data, window_bits, self.settings)
        return out if len(out) < len(data) else None


class Sharing:
    """Whether one room is large enough to share its compression; its connections read it.

    Large above ``above`` connections; small again at ``above * 3 // 4`` or
    fewer, so a room at the line does not flip at every join and leave (each
    return to small costs every connection a fresh compressor).
    """

    def __init__(self, above: int) -> None:
        self.above = above
        self.large = False

    def fit(self, connections: int) -> None:
        """Follow the room's number of connections."""
        if connections > self.above:
            self.large = True
        elif connections <= self.above * 3 // 4:
            self.large = False


class SharedDeflate(PerMessageDeflate):
    """``PerMessageDeflate`` that shares its messages while its room is large."""

    def __init__(
        self,
        remote_no_context_takeover: bool,
        local_no_context_takeover: bool,
        remote_max_window_bits: int,
        local_max_window_bits: int,
        compress_settings: dict[str, Any] | None,
        cache: SharedCache,
    ) -> None:
        super().__init__(
            remote_no_context_takeover,
            local_no_context_takeover,
            remote_max_window_bits,
            local_max_window_bits,
            compress_settings,
        )
        self.cache = cache
        self.sharing: Sharing | None = None
        """The room's ``Sharing``, once the connection has a seat (``follow_sharing``)."""
        self._own = True
        """The last message came from this connection's own compressor."""

    def encode(self, frame: Frame) -> Frame:
        if frame.opcode in CTRL_OPCODES:
            return frame
        sharing = self.sharing
        # A message of several frames (never one of ours) stays in its own context.
        if sharing is not None and sharing.large and frame.fin and frame.opcode is not CONT:
            if self._own:
                self._own = False
                if not self.local_no_context_takeover:
                    del self.encoder  # Useless from now on: free it while we share.
            data = self.cache.deflate(frame.data, self.local_max_window_bits)
            if data is None:
                return frame
            return Frame(frame.opcode, data, True, True, frame.rsv2, frame.rsv3)
        if not self._own and frame.opcode is not CONT:
            self._own = True
            self.encoder = zlib.compressobj(
                wbits=-self.local_max_window_bits, **self.compress_settings
            )
        return super().encode(frame)


class SharedDeflateFactory(ServerPerMessageDeflateFactory):
    """``ServerPerMessageDeflateFactory`` whose connections share one ``SharedCache``.

    Takes the same parameters; negotiation is websockets' own.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cache = SharedCache(self.compress_settings or {})

    def process_request_params(
        self,
        params: Sequence[ExtensionParameter],
        accepted_extensions: Sequence[Extension],
    ) -> tuple[list[ExtensionParameter], SharedDeflate]:
        response, plain = super().process_request_params(params, accepted_extensions)
        shared = SharedDeflate(
            plain.remote_no_context_takeover,
            plain.local_no_context_takeover,
            plain.remote_max_window_bits,
            plain.local_max_window_bits,
            plain.compress_settings,
            self.cache,
        )
        return response, shared


def follow_sharing(extensions: Sequence[Extension], sharing: Sharing) -> None:
    """Let a connection (its ``protocol.extensions``) follow its room's ``sharing``.

    A connection without ``SharedDeflate`` (compression off, or not offered by
    the client) has nothing to follow.
    """
    for extension in extensions:
        if isinstance(extension, SharedDeflate):
            extension.sharing = sharing

"""What a relay keeps of a live circle so that the next one can restore it.

Structural only, like ``RoomState``: who is here, the stick, the queue, the
pause, plus the hashes of resume tokens and the names removed. No share text
ever reaches this value, so none can reach the disk through it.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgpack

from circle_room.protocol.codec import decode_state, encode_state
from circle_room.protocol.model import RoomState


@dataclass(frozen=True)
class CircleSnapshot:
    """What a relay needs to restore a live circle after a crash: no share text."""

    state: RoomState
    token_hashes: dict[int, str]
    """Member id -> hash of their resume token."""
    removed: frozenset[str]
    """Casefolded names removed from this meeting."""

    def pack(self) -> bytes:
        return msgpack.packb(
            [
                encode_state(self.state),
                [[k, v] for k, v in sorted(self.token_hashes.items())],
                sorted(self.removed),
            ],
            use_bin_type=True,
        )

    @classmethod
    def unpack(cls, data: bytes) -> CircleSnapshot:
        state_bytes, tokens, removed = msgpack.unpackb(data, raw=False)
        return cls(
            decode_state(state_bytes),
            {int(k): str(v) for k, v in tokens},
            frozenset(str(n) for n in removed),
        )

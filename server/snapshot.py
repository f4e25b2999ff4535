"""What a relay keeps of a live circle so that the next one can restore it.

Structural only, like ``RoomState``: who is here, the stick, the queue, the
pause, plus the hashes of resume tokens and the names removed. No share text
ever reaches this value, so none can reach the disk through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import msgpack

from circle_room.protocol.codec import decode_state, encode_state
from circle_room.protocol.model import RoomState
from circle_room.protocol.skeleton import looks


@dataclass(frozen=True)
class CircleSnapshot:
    """What a relay needs to restore a live circle after a crash: no share text."""

    state: RoomState
    """Including ``removed``, which the state's wire form leaves out."""
    token_hashes: Mapping[int, str]
    """Member id -> hash of their resume token."""

    def pack(self) -> bytes:
        # [state's wire form, tokens, removed names]: the removed names sit
        # beside the state, where they were before the state held them.
        return msgpack.packb(
            [
                encode_state(self.state),
                [[k, v] for k, v in sorted(self.token_hashes.items())],
                sorted(self.state.removed),
            ],
            use_bin_type=True,
        )

    @classmethod
    def unpack(cls, data: bytes) -> CircleSnapshot:
        state_bytes, tokens, removed = msgpack.unpackb(data, raw=False)
        # A skeleton's own skeletons are itself; older relays stored casefolded names.
        removed_names = frozenset().union(*(looks(str(n)) for n in removed))
        state = replace(decode_state(state_bytes), removed=removed_names)
        return cls(state, {int(k): str(v) for k, v in tokens})

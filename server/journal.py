"""The circle's journal: what each saved change did, so a save costs O(1) per event.

Saving the whole circle on every structural event made a room of n members
write O(n) bytes per hand, stick or join, O(n^2) for everyone's arrival. The
store instead keeps a base ``CircleSnapshot`` and, after it, one ``Record``
per saved change: the events since the record before it, encoded as they
went out, and the resume-token hashes of those who joined. ``replay`` applies
the records to the base with the same ``protocol.room.apply`` the live room
uses, so it rebuilds the very circle a full snapshot would hold. Now and then
``server.saving`` writes the whole circle again and the journal starts over
(compaction), which keeps restoring short and the cost per event constant.

The threat this module closes is share text reaching the disk through the
events: a record never holds a ``Shared`` with its words (``for_disk``), and
the record type refuses one that does.

A record is one SQLite row written in one transaction, so a relay killed
mid-write leaves the whole record or none of it. A record that cannot be
read all the same (a torn or damaged row) ends the replay there: its change
was never acknowledged, and the records after it do not follow from a base
that lacks it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace

import msgpack

from circle_room.protocol.codec import decode, encode
from circle_room.protocol.errors import DecodeError
from circle_room.protocol.messages import Event, EventFrame, MemberJoined, MemberLeft, Shared
from circle_room.protocol.room import apply
from circle_room.server.snapshot import CircleSnapshot

log = logging.getLogger(__name__)


def for_disk(seq: int, event: Event, data: bytes) -> bytes:
    """The frame a record keeps for ``event`` (sent as ``data``): ``data``, without share text."""
    if isinstance(event, Shared):
        return encode(EventFrame(seq, replace(event, text="")))
    return data


@dataclass(frozen=True)
class Record:
    """One saved change: the events since the previous record, and who got a token."""

    frames: tuple[bytes, ...]
    """Encoded ``EventFrame``s with consecutive seqs, share text left out (``for_disk``)."""
    tokens: tuple[tuple[int, str], ...] = ()
    """Member id -> resume-token hash, for each ``MemberJoined`` among ``frames``."""

    def pack(self) -> bytes:
        return msgpack.packb([list(self.frames), [list(t) for t in self.tokens]], use_bin_type=True)

    @classmethod
    def unpack(cls, data: bytes) -> Record:
        """Read a packed record; raise ``DecodeError`` for anything else (a torn row)."""
        try:
            frames, tokens = msgpack.unpackb(data, raw=False)
            return cls(
                tuple(bytes(f) for f in frames),
                tuple((int(m), str(h)) for m, h in tokens),
            )
        except (ValueError, TypeError, msgpack.UnpackException) as exc:
            raise DecodeError(f"not a journal record: {exc}") from exc


def _replay_one(
    circle: CircleSnapshot, record: Record, seq: int | None
) -> tuple[CircleSnapshot, int | None]:
    """``circle`` after ``record``, and its last seq; raise ``DecodeError`` if it does not fit."""
    state = circle.state
    tokens = dict(circle.token_hashes)
    joined = dict(record.tokens)
    for data in record.frames:
        frame = decode(data)
        if not isinstance(frame, EventFrame):
            raise DecodeError(f"a journal record holds a {type(frame).__name__}")
        if seq is not None and frame.seq != seq + 1:
            raise DecodeError(f"a journal record jumps from seq {seq} to {frame.seq}")
        seq = frame.seq
        event = frame.event
        if isinstance(event, Shared) and event.text:
            raise DecodeError("a journal record holds share text")
        state = apply(state, event)
        if isinstance(event, MemberJoined) and event.member.id in joined:
            tokens[event.member.id] = joined[event.member.id]
        elif isinstance(event, MemberLeft):
            tokens.pop(event.member_id, None)
    return CircleSnapshot(state, tokens), seq


def replay(base: CircleSnapshot, records: Iterable[bytes], room: str = "") -> CircleSnapshot:
    """``base`` with each packed record applied in order, up to the first unreadable one."""
    circle = base
    seq: int | None = None
    for number, data in enumerate(records):
        try:
            circle, seq = _replay_one(circle, Record.unpack(data), seq)
        except DecodeError as exc:
            # Written in one transaction, so this is the last one at worst:
            # its change was never told to anyone.
            log.warning(
                "room %s: journal record %d unreadable (%s); stopped there", room, number, exc
            )
            break
    return circle

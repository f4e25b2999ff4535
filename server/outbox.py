"""A large room's presence events, held for a moment and then sent together.

Each join is told to everyone already there, so ``n`` people joining make
about ``n * n / 2`` deliveries; one frame each costs a socket write, a
websocket frame and a deflate per connection. Held for a tenth of a second
(``RelayConfig.presence_delay``), the joins, aways and backs of that moment
reach each connection as one write: a ``Batch`` frame on protocol version 3
(``protocol.codec.batch``), the frames one after another on version 1.

An ``Outbox`` is pure: it holds frames with the readers fixed when each
happened and, when told to, gives back what each reader is owed, in order.
Readers are whatever the shell uses to write to a connection (the relay's
``Feed``); they need only be hashable. The shell keeps order on the wire by
flushing it before anything else it sends (see ``server.live_room``): that
way every reader gets exactly the frames it would have got without holding,
in the same order, only some of them later.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from circle_room.protocol.events import MemberAway, MemberBack, MemberJoined
from circle_room.protocol.messages import Hidden, HiddenRun
from circle_room.server.versions import tag_of

R = TypeVar("R")

PRESENCE = frozenset({MemberJoined.TAG, MemberAway.TAG, MemberBack.TAG})
"""Events worth holding: many at once when a room fills, and a moment late
changes nothing for anyone. (Not ``MemberLeft``: its own member gets it just
before being closed.)"""
STAND_INS = frozenset({Hidden.TAG, HiddenRun.TAG})
"""Frames held behind a held event: they stand in for it to other readers."""


def may_hold(data: bytes, holding: bool) -> bool:
    """Whether an encoded frame may wait in an outbox that is ``holding`` something.

    A presence event may; so may a ``Hidden`` or ``HiddenRun`` while
    something is held (it stands in for that event to those who may not
    see it). Anything else goes at once, after what is held.
    """
    tag = tag_of(data)
    return tag in PRESENCE or (holding and tag in STAND_INS)


@dataclass(frozen=True)
class Parcel(Generic[R]):
    """What a group of readers is owed: the same frames, in order, for each of them."""

    frames: tuple[bytes, ...]
    readers: tuple[R, ...]


class Outbox(Generic[R]):
    """Frames held for readers, to be taken all at once."""

    def __init__(self) -> None:
        self._held: list[tuple[bytes, tuple[R, ...]]] = []

    def __bool__(self) -> bool:
        return bool(self._held)

    def __len__(self) -> int:
        return len(self._held)

    def hold(self, data: bytes, readers: Iterable[R]) -> None:
        """Hold ``data`` for ``readers``, fixed now (a reader added later gets none of it)."""
        self._held.append((data, tuple(readers)))

    def take(self) -> list[Parcel[R]]:
        """Everything held, as parcels, and hold nothing from now on.

        Each reader is in exactly one parcel, whose frames are those held for
        it, in the order they were held; readers owed the same frames share a
        parcel (so the shell builds its ``Batch`` once for them all).
        """
        held, self._held = self._held, []
        owed: defaultdict[R, list[int]] = defaultdict(list)
        for i, (_, readers) in enumerate(held):
            for reader in readers:
                owed[reader].append(i)
        groups: defaultdict[tuple[int, ...], list[R]] = defaultdict(list)
        for reader, indices in owed.items():
            groups[tuple(indices)].append(reader)
        return [
            Parcel(tuple(held[i][0] for i in indices), tuple(readers))
            for indices, readers in groups.items()
        ]

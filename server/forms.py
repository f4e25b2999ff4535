"""Which seated members take which form of a delivery: by protocol version, and gapless or not.

``server.versions`` gives some deliveries to some versions only (a ``Said``
to version 3, the ``Shared`` it stands for to version 1), and some only to
connections that asked for every seq (``Hidden``). Narrowing a delivery's
readers to those happens once per delivery, in a room of hundreds, for
every share: so it is done with set operations on sets kept as seats come
and go, never with a walk over the members.
"""

from __future__ import annotations

from circle_room.protocol import PROTOCOL_VERSIONS
from circle_room.server.effects import Deliver


class Forms:
    """The version and the gapless wish of each seated member's connection."""

    def __init__(self) -> None:
        self._gapless: set[int] = set()
        self._speaking = {version: set[int]() for version in PROTOCOL_VERSIONS}
        """The members whose connection speaks each version."""

    def seat(self, member_id: int, version: int, gapless: bool) -> None:
        """``member_id``'s connection from now on (a resume may bring another version)."""
        self.vacate(member_id)
        self._speaking[version].add(member_id)
        if gapless:
            self._gapless.add(member_id)

    def vacate(self, member_id: int) -> None:
        self._gapless.discard(member_id)
        for speaking in self._speaking.values():
            speaking.discard(member_id)

    def readers(self, deliver: Deliver) -> frozenset[int]:
        """Those of ``deliver``'s readers whose connection takes its form.

        A member with no connection seated here keeps every form: nothing is
        written to them anyway.
        """
        readers = deliver.readers
        if deliver.gapless_only:
            readers = readers & self._gapless
        if deliver.versions is not None:
            for version, speaking in self._speaking.items():
                if version not in deliver.versions:
                    readers = readers - speaking
        return readers

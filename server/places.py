"""Who holds a place in a room: resume tokens, where replay starts, grace.

A place outlives any one connection: it is taken at ``MemberJoined`` and
given up at ``MemberLeft``, and in between a member may drop and come back
with their resume token. Only the token's hash is kept (``store.hash_secret``),
so neither memory nor the saved snapshot can be used to take a seat.

Pure bookkeeping with no I/O; ``server.room_core`` keeps it in step with the
room's events.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType


@dataclass(frozen=True)
class Place:
    """One member's place in the room."""

    member_id: int
    token_hash: str
    """Hash of the member's resume token."""
    since: int
    """Last seq before this member entered the circle: nothing older is replayed to them."""
    grace_ends: float | None = None
    """While the member is away: relay time at which their place is given up."""


class Places:
    """Every place in one room, by member id and by token hash."""

    def __init__(self) -> None:
        self._by_member: dict[int, Place] = {}
        self._by_token: dict[str, Place] = {}
        self._tokens: dict[int, str] = {}
        """Member id -> token hash: what a snapshot keeps, ready at no cost per save."""

    def copy(self) -> Places:
        """Another registry with the same places, to change without touching this one."""
        other = Places()
        other._by_member = dict(self._by_member)
        other._by_token = dict(self._by_token)
        other._tokens = dict(self._tokens)
        return other

    def __len__(self) -> int:
        return len(self._by_member)

    def __iter__(self) -> Iterator[Place]:
        return iter(list(self._by_member.values()))

    def __contains__(self, member_id: object) -> bool:
        return member_id in self._by_member

    def get(self, member_id: int) -> Place | None:
        return self._by_member.get(member_id)

    def find(self, token_hash: str) -> Place | None:
        """The place whose resume token hashes to ``token_hash``, if any."""
        return self._by_token.get(token_hash)

    def take(self, place: Place) -> None:
        """Add ``place``, or replace the one of the same member."""
        old = self._by_member.get(place.member_id)
        if old is not None:
            self._by_token.pop(old.token_hash, None)
        self._by_member[place.member_id] = place
        self._by_token[place.token_hash] = place
        self._tokens[place.member_id] = place.token_hash

    def give_up(self, member_id: int) -> Place | None:
        """Remove and return ``member_id``'s place (None if they had none)."""
        place = self._by_member.pop(member_id, None)
        if place is not None:
            self._by_token.pop(place.token_hash, None)
            del self._tokens[member_id]
        return place

    def entered(self, member_id: int, seq: int) -> None:
        """``member_id`` entered the circle at ``seq``: replay nothing before it."""
        place = self._by_member.get(member_id)
        if place is not None:
            self.take(replace(place, since=seq))

    def away(self, member_id: int, grace_ends: float | None) -> None:
        """``member_id`` dropped and keeps their place until ``grace_ends`` (None: back)."""
        place = self._by_member.get(member_id)
        if place is not None:
            self.take(replace(place, grace_ends=grace_ends))

    def token_hashes(self) -> Mapping[int, str]:
        """Member id -> token hash, as a snapshot stores them: a read-only view, O(1).

        It follows later changes to these places; a committed change's places
        are not changed again (a draft copies them first), so a ``Save`` may hold it.
        """
        return MappingProxyType(self._tokens)

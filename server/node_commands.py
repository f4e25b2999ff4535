"""What a node asks of a room's owner, as entries of the room's command stream.

Every change to a room, whichever node its member is connected to, reaches
the owner as one entry of ``room:{r}:cmd`` (field ``c``), so the owner takes
them in one order, and a new owner takes up exactly the ones after the cursor
its predecessor appended with its events. What goes back to one node goes
on its channel ``node:{id}`` as a ``Notice``: an owner's ``Refusal`` of what it
asked, or ``Replaced`` when a member it holds resumed on another node.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgpack

from circle_room.protocol.errors import RemoteProtocolError
from circle_room.protocol.model import Role


@dataclass(frozen=True)
class Forwarded:
    """A command frame from a member, as they sent it (the edge node has checked it)."""

    member_id: int
    data: bytes


@dataclass(frozen=True)
class JoinAsked:
    """A newcomer the edge node has let in at the door (passcode or key checked)."""

    name: str
    role: Role
    agreed: bool
    token_hash: str


@dataclass(frozen=True)
class Seen:
    """What the edge node saw of a member's connection: it dropped, or came back."""

    member_id: int
    back: bool


NodeCommand = Forwarded | JoinAsked | Seen


def pack_command(node: str, command: NodeCommand) -> bytes:
    if isinstance(command, Forwarded):
        body: list[object] = ["c", command.member_id, command.data]
    elif isinstance(command, JoinAsked):
        body = ["j", command.name, int(command.role), command.agreed, command.token_hash]
    else:
        body = ["s", command.member_id, command.back]
    return msgpack.packb([node, *body], use_bin_type=True)


def unpack_command(data: bytes) -> tuple[str, NodeCommand]:
    """The asking node and its command; raise ``RemoteProtocolError`` for anything else."""
    try:
        node, kind, *rest = msgpack.unpackb(data, raw=False)
        if kind == "c":
            return str(node), Forwarded(int(rest[0]), bytes(rest[1]))
        if kind == "j":
            return str(node), JoinAsked(str(rest[0]), Role(rest[1]), bool(rest[2]), str(rest[3]))
        if kind == "s":
            return str(node), Seen(int(rest[0]), bool(rest[1]))
    except (ValueError, TypeError, IndexError, msgpack.UnpackException) as exc:
        raise RemoteProtocolError(f"bad command entry: {exc}") from exc
    raise RemoteProtocolError(f"unknown command kind {kind!r}")


@dataclass(frozen=True)
class Refusal:
    """The owner refused a join or a member's command that ``room``'s node forwarded."""

    room: str
    key: str
    """A member id (as text) or, for a join, the newcomer's token hash."""
    error: bytes
    """The encoded ``Error`` for the member."""


@dataclass(frozen=True)
class Replaced:
    """A member of ``room`` resumed on another node: their connection here is stale."""

    room: str
    member_id: int


Notice = Refusal | Replaced


def pack_notice(notice: Notice) -> bytes:
    if isinstance(notice, Refusal):
        body: list[object] = ["r", notice.room, notice.key, notice.error]
    else:
        body = ["x", notice.room, notice.member_id]
    return msgpack.packb(body, use_bin_type=True)


def unpack_notice(data: bytes) -> Notice:
    """What ``pack_notice`` packed; raise ``RemoteProtocolError`` for anything else."""
    try:
        kind, *rest = msgpack.unpackb(data, raw=False)
        if kind == "r":
            return Refusal(str(rest[0]), str(rest[1]), bytes(rest[2]))
        if kind == "x":
            return Replaced(str(rest[0]), int(rest[1]))
    except (ValueError, TypeError, IndexError, msgpack.UnpackException) as exc:
        raise RemoteProtocolError(f"bad notice: {exc}") from exc
    raise RemoteProtocolError(f"unknown notice kind {kind!r}")

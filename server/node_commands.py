"""What a node asks of a room's owner, as entries of the room's command stream.

Every change to a room, whichever node its member is connected to, reaches
the owner as one entry of ``room:{r}:cmd`` (field ``c``), so the owner takes
them in one order, and a new owner takes up exactly the ones after the cursor
its predecessor appended with its events. Refusals go back to the asking
node on its channel ``node:{id}`` (field order: key, encoded ``Error``).
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


def pack_refusal(room: str, key: str, error: bytes) -> bytes:
    """``key`` is a member id (as text) or, for a join, the newcomer's token hash."""
    return msgpack.packb([room, key, error], use_bin_type=True)


def unpack_refusal(data: bytes) -> tuple[str, str, bytes]:
    """The room, the key (see ``pack_refusal``) and the encoded ``Error``."""
    room, key, error = msgpack.unpackb(data, raw=False)
    return str(room), str(key), bytes(error)

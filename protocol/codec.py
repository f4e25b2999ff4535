"""msgpack codec: one frame <-> one positional array with a small integer tag.

``encode`` turns any ``Frame`` into bytes; ``decode`` turns bytes back into a
frame or raises ``DecodeError`` -- never anything else -- however hostile the
input. The converters are built once per dataclass from its type hints, so
adding a field to a message needs no codec change.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, Union

import msgpack

from circle_room.protocol.errors import DecodeError, LocalProtocolError
from circle_room.protocol.messages import (
    COMMAND_TYPES,
    CONTROL_TYPES,
    EVENT_TYPES,
    Batch,
    CommandFrame,
    EventFrame,
    Frame,
    Hidden,
    HiddenRun,
)
from circle_room.protocol.model import RoomState, on_the_wire

_Pack = Callable[[Any], Any]
_Unpack = Callable[[Any], Any]

_MAX_ID = 2**53
"""Refs, seqs and ids stay below this so that any client language can hold them."""


def _fail(expected: str, got: object) -> DecodeError:
    return DecodeError(f"expected {expected}, got {type(got).__name__}")


def _unpack_int(value: Any) -> int:
    if type(value) is not int:
        raise _fail("an integer", value)
    return value


def _unpack_float(value: Any) -> float:
    if type(value) is float or type(value) is int:
        return float(value)
    raise _fail("a number", value)


def _unpack_str(value: Any) -> str:
    if type(value) is not str:
        raise _fail("a string", value)
    return value


def _unpack_bool(value: Any) -> bool:
    if type(value) is not bool:
        raise _fail("a boolean", value)
    return value


def _identity(value: Any) -> Any:
    return value


_SCALARS: dict[Any, tuple[_Pack, _Unpack]] = {
    int: (_identity, _unpack_int),
    float: (_identity, _unpack_float),
    str: (_identity, _unpack_str),
    bool: (_identity, _unpack_bool),
}


def _converters(tp: Any) -> tuple[_Pack, _Unpack]:
    """Return (pack, unpack) functions for a type used in a message field."""
    if tp in _SCALARS:
        return _SCALARS[tp]
    if isinstance(tp, type) and issubclass(tp, enum.IntEnum):
        return _enum_converters(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _dataclass_converters(tp)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, types.UnionType) and len(args) == 2 and type(None) in args:
        inner = args[0] if args[1] is type(None) else args[1]
        pack_inner, unpack_inner = _converters(inner)
        return (
            lambda v: None if v is None else pack_inner(v),
            lambda v: None if v is None else unpack_inner(v),
        )
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        pack_item, unpack_item = _converters(args[0])

        def unpack_tuple(value: Any) -> tuple[Any, ...]:
            if type(value) is not list:
                raise _fail("an array", value)
            return tuple(unpack_item(v) for v in value)

        return (lambda v: [pack_item(x) for x in v], unpack_tuple)
    if origin is frozenset:
        pack_item, unpack_item = _converters(args[0])

        def unpack_set(value: Any) -> frozenset[Any]:
            if type(value) is not list:
                raise _fail("an array", value)
            return frozenset(unpack_item(v) for v in value)

        return (lambda v: [pack_item(x) for x in sorted(v)], unpack_set)
    if origin is Mapping:
        # Only one mapping exists on the wire: members by id, sent as a list of
        # members, because each member already carries its id.
        key_type, value_type = args
        if key_type is not int or not dataclasses.is_dataclass(value_type):
            raise LocalProtocolError(f"no wire form for {tp!r}")
        pack_item, unpack_item = _converters(value_type)

        def unpack_mapping(value: Any) -> dict[int, Any]:
            if type(value) is not list:
                raise _fail("an array", value)
            items = [unpack_item(v) for v in value]
            return {item.id: item for item in items}

        return (lambda v: [pack_item(x) for x in v.values()], unpack_mapping)
    raise LocalProtocolError(f"no wire form for {tp!r}")


def _enum_converters(tp: type[enum.IntEnum]) -> tuple[_Pack, _Unpack]:
    def unpack_enum(value: Any) -> enum.IntEnum:
        if type(value) is not int:
            raise _fail(tp.__name__, value)
        try:
            return tp(value)
        except ValueError:
            raise DecodeError(f"{value} is not a valid {tp.__name__}") from None

    return (int, unpack_enum)


_dataclass_cache: dict[type, tuple[_Pack, _Unpack]] = {}


def _dataclass_converters(cls: type) -> tuple[_Pack, _Unpack]:
    if cls in _dataclass_cache:
        return _dataclass_cache[cls]
    pack, unpack = _build_dataclass_converters(cls)
    _dataclass_cache[cls] = (pack, unpack)
    return pack, unpack


def _build_dataclass_converters(cls: type) -> tuple[_Pack, _Unpack]:
    hints = typing.get_type_hints(cls)
    # A field marked off the wire (``model.OFF_THE_WIRE``) is never sent: it
    # decodes to its default.
    fields = [f for f in dataclasses.fields(cls) if f.init and on_the_wire(f)]
    names = [f.name for f in fields]
    packers = [_converters(hints[f.name])[0] for f in fields]
    unpackers = [_converters(hints[f.name])[1] for f in fields]
    required = sum(
        1
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )

    def pack(obj: Any) -> list[Any]:
        return [p(getattr(obj, n)) for p, n in zip(packers, names, strict=True)]

    def unpack(value: Any) -> Any:
        if type(value) is not list:
            raise _fail(f"an array for {cls.__name__}", value)
        if len(value) < required:
            raise DecodeError(f"{cls.__name__} needs at least {required} fields")
        # Trailing fields we do not know are ignored: that is how a newer peer
        # adds optional fields without breaking this one.
        kwargs = {n: u(v) for n, u, v in zip(names, unpackers, value, strict=False)}
        try:
            return cls(**kwargs)
        except (TypeError, ValueError) as exc:
            raise DecodeError(f"invalid {cls.__name__}: {exc}") from None

    return pack, unpack


class _Kind(enum.Enum):
    CONTROL = 0
    COMMAND = 1
    EVENT = 2


_BY_TAG: dict[int, tuple[type, _Kind]] = {}
for _kind, _types in (
    (_Kind.CONTROL, CONTROL_TYPES),
    (_Kind.COMMAND, COMMAND_TYPES),
    (_Kind.EVENT, EVENT_TYPES),
):
    for _cls in _types:
        _tag = _cls.TAG  # type: ignore[attr-defined]
        assert _tag not in _BY_TAG, f"duplicate tag {_tag}"
        _BY_TAG[_tag] = (_cls, _kind)


def encode(frame: Frame) -> bytes:
    """Serialise one frame; raise ``LocalProtocolError`` for a non-frame."""
    if isinstance(frame, Batch):
        return batch([encode(f) for f in frame.frames])
    if isinstance(frame, EventFrame) and isinstance(frame.event, EVENT_TYPES):
        head: list[Any] = [frame.event.TAG, frame.seq]
        body: Any = frame.event
    elif isinstance(frame, CommandFrame) and isinstance(frame.command, COMMAND_TYPES):
        head = [frame.command.TAG, frame.ref]
        body = frame.command
    elif isinstance(frame, CONTROL_TYPES):
        body = frame
        head = [body.TAG]
    else:
        raise LocalProtocolError(f"cannot encode {type(frame).__name__}")
    pack, _ = _dataclass_converters(type(body))
    return msgpack.packb(head + pack(body), use_bin_type=True)


def batch(frames: Sequence[bytes]) -> bytes:
    """A ``Batch`` of already encoded frames, without decoding or encoding them again.

    Each of ``frames`` is one msgpack array; the batch is the array header
    for one more item, the tag, and the frames as they are.
    """
    n = len(frames) + 1
    if n <= 15:
        head = bytes((0x90 | n,))
    elif n <= 0xFFFF:
        head = b"\xdc" + n.to_bytes(2, "big")
    else:
        head = b"\xdd" + n.to_bytes(4, "big")
    return b"".join((head, _BATCH_TAG, *frames))


_BATCH_TAG = bytes((Batch.TAG,))
"""A positive fixint: the tag is below 128."""
_IN_A_BATCH = (EventFrame, Hidden, HiddenRun)


def _unpack_counter(value: Any, what: str) -> int:
    if type(value) is not int or not 0 <= value < _MAX_ID:
        raise DecodeError(f"{what} must be an integer from 0 to 2**53")
    return value


def decode(data: bytes) -> Frame:
    """Parse one frame; raise ``DecodeError`` for anything that is not one."""
    try:
        value = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises many types; all mean "not msgpack"
        raise DecodeError(f"not a msgpack message: {type(exc).__name__}") from None
    if type(value) is list and value and type(value[0]) is int and value[0] == Batch.TAG:
        frames = [_frame(item) for item in value[1:]]
        for frame in frames:
            if not isinstance(frame, _IN_A_BATCH):
                raise DecodeError(f"a Batch cannot hold a {type(frame).__name__}")
        return Batch(tuple(frames))  # type: ignore[arg-type]
    return _frame(value)


def _frame(value: Any) -> Frame:
    """One frame from its unpacked array; a ``Batch`` is not one here."""
    if type(value) is not list or not value:
        raise DecodeError("a frame must be a non-empty array")
    tag = value[0]
    if type(tag) is not int or tag not in _BY_TAG or tag == Batch.TAG:
        raise DecodeError(f"unknown message tag {tag!r}")
    cls, kind = _BY_TAG[tag]
    _, unpack = _dataclass_converters(cls)
    if kind is _Kind.CONTROL:
        frame: Frame = unpack(value[1:])
        return frame
    if len(value) < 2:
        raise DecodeError(f"{cls.__name__} needs a reference number")
    number = _unpack_counter(value[1], "ref" if kind is _Kind.COMMAND else "seq")
    body = unpack(value[2:])
    if kind is _Kind.COMMAND:
        return CommandFrame(number, body)
    return EventFrame(number, body)


_T = TypeVar("_T")


def encode_value(value: Any) -> bytes:
    """One value type alone (a state, settings), as stored rather than sent."""
    pack, _ = _dataclass_converters(type(value))
    return msgpack.packb(pack(value), use_bin_type=True)


def decode_value(cls: type[_T], data: bytes) -> _T:
    """The inverse of ``encode_value``; raise ``DecodeError`` if it is not a ``cls``."""
    try:
        value = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except Exception as exc:
        raise DecodeError(f"not a msgpack message: {type(exc).__name__}") from None
    _, unpack = _dataclass_converters(cls)
    result: _T = unpack(value)
    return result


def encode_state(state: RoomState) -> bytes:
    """A room state alone, in its wire form: without the relay's ``removed`` names."""
    return encode_value(state)


def decode_state(data: bytes) -> RoomState:
    return decode_value(RoomState, data)

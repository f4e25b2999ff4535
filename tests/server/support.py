"""Helpers for tests that talk to a real relay over real sockets on 127.0.0.1.

Nothing here sleeps to synchronise: ``Peer.wait`` re-checks its predicate each
time the client reports an update, and raw-socket helpers read frames until
the one they want arrives (or a timeout says it never did).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any, NamedTuple, Protocol, TypeVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from circle_room.protocol import PROTOCOL_VERSIONS
from circle_room.protocol.codec import decode, encode
from circle_room.protocol.handover import standing_for
from circle_room.protocol.messages import (
    Error,
    Event,
    EventFrame,
    Frame,
    Greeting,
    Hello,
    Resume,
    Shared,
    Snapshot,
    Welcome,
)
from circle_room.protocol.model import Member, Presence, Role, RoomState
from circle_room.protocol.room import apply
from circle_room.server.audience import Scope, view_for
from circle_room.server.live_room import LiveRoom
from circle_room.server.relay import Relay
from circle_room.server.room_core import LogEntry
from circle_room.tui.client.connection import CircleClient, Received, Update
from circle_room.tui.client.trust import dial

ROOM = "tuesday"
TIMEOUT = 5.0
"""Longest any single condition may take to come true; far above what it needs."""

E = TypeVar("E")


class RunningRelay(NamedTuple):
    """A relay listening on a free port, with one room called ``ROOM``."""

    relay: Relay
    url: str
    key: str
    """The room's facilitator key."""

    @property
    def room(self) -> LiveRoom:
        room = self.relay.room(ROOM)
        assert room is not None
        return room

    @property
    def port(self) -> int:
        return self.relay.port


class MakeRelay(Protocol):
    def __call__(
        self,
        config: Any = None,
        *,
        passcode: str = "",
        clock: Callable[[], float] = ...,
        tls: bool = True,
    ) -> Awaitable[RunningRelay]: ...


async def until(changed: asyncio.Event, predicate: Callable[[], bool], timeout: float) -> None:
    """Return once ``predicate()`` holds, checking it each time ``changed`` is set.

    Whoever sets ``changed`` does so after each thing that may make it hold;
    ``asyncio.TimeoutError`` after ``timeout`` seconds.
    """

    async def check() -> None:
        while not predicate():
            changed.clear()
            await changed.wait()

    await asyncio.wait_for(check(), timeout)


class JoinFn(Protocol):
    def __call__(self, url: str, name: str, **kwargs: Any) -> Awaitable[Peer]: ...


class Peer:
    """A connected ``CircleClient`` and every update it produced, recorded as it came."""

    def __init__(self, client: CircleClient, welcome: Welcome) -> None:
        self.client = client
        self.welcome = welcome
        self.updates: list[Update] = []
        self._changed = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._record())

    async def _record(self) -> None:
        async for update in self.client.updates():
            self.updates.append(update)
            self._changed.set()
        self._changed.set()

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.client.close(), TIMEOUT)
            await asyncio.wait_for(self._task, TIMEOUT)
        finally:
            self._task.cancel()

    def __repr__(self) -> str:
        return f"<Peer {self.client.name} #{self.id}>"

    # --- what it has seen --------------------------------------------------------

    @property
    def id(self) -> int:
        return self.client.member_id

    @property
    def state(self) -> RoomState:
        return self.client.state

    def received(self) -> list[Received]:
        return [u for u in self.updates if isinstance(u, Received)]

    def events(self, kind: type[E]) -> list[E]:
        return [u.event for u in self.received() if isinstance(u.event, kind)]

    def shares(self) -> list[str]:
        return [e.text for e in self.events(Shared)]

    def errors(self) -> list[Error]:
        return [u for u in self.updates if isinstance(u, Error)]

    # --- waiting -----------------------------------------------------------------

    async def drained(self) -> None:
        """Wait until every update the client has made is recorded here.

        The client moves ``seq`` as it reads a frame; the update it makes reaches
        ``updates`` a moment later, when ``_record`` runs. Check what a peer
        received only after this.
        """
        await self.wait(lambda: self.client.pending_updates == 0, "its updates recorded")

    async def wait(
        self, predicate: Callable[[], bool], what: str, timeout: float = TIMEOUT
    ) -> None:
        """Return once ``predicate()`` holds; it is checked after every update."""
        try:
            await until(self._changed, predicate, timeout)
        except asyncio.TimeoutError:
            recent = "\n  ".join(repr(u) for u in self.updates[-8:])
            raise AssertionError(
                f"{self!r} waited {timeout} s for {what}; last updates:\n  {recent}"
            ) from None

    async def error(self, ref: int) -> Error:
        """The ``Error`` that answers the command sent with ``ref``."""
        await self.wait(lambda: any(e.ref == ref for e in self.errors()), f"an error for #{ref}")
        return next(e for e in self.errors() if e.ref == ref)


async def all_see(peers: Iterable[Peer], predicate: Callable[[Peer], bool], what: str) -> None:
    """Wait until ``predicate(peer)`` holds for every peer."""
    await asyncio.gather(*(p.wait(lambda p=p: predicate(p), what) for p in peers))


# --- comparing with the relay --------------------------------------------------------


def addressed_to(entry: LogEntry, member: Member) -> bool:
    """Whether the relay's audience rules deliver ``entry`` to ``member``."""
    if entry.readers is not None:
        return member.id in entry.readers
    audience = entry.audience
    if member.id in audience.subjects:
        return True
    if audience.scope is Scope.ALL:
        return member.presence is not Presence.WAITING
    if audience.scope is Scope.FACILITATORS:
        return member.role is not Role.MEMBER
    return False


def seqs_for(room: LiveRoom, member_id: int, after: int) -> list[int]:
    """Seqs in the relay's log after ``after`` that ``member_id`` should have received."""
    member = room.state.members[member_id]
    return [e.seq for e in room.log if e.seq > after and addressed_to(e, member)]


async def settle(room: LiveRoom, peers: Iterable[Peer]) -> None:
    """Wait until each peer has every event the relay has addressed to it so far."""
    for peer in peers:
        wanted = max(seqs_for(room, peer.id, 0), default=0)
        await peer.wait(lambda p=peer, s=wanted: p.client.seq >= s, f"seq {wanted}")
        await peer.drained()


def without_metoo_names(state: RoomState) -> RoomState:
    """The state minus ``turn.metoo``, which each client sees only a part of."""
    if state.turn is None:
        return state
    return replace(state, turn=replace(state.turn, metoo=frozenset()))


def shows_count(state: RoomState, member_id: int) -> bool:
    """Whether ``member_id`` is kept told of the me-too count (version 3): speaker, facilitators."""
    return state.holder == member_id or state.is_facilitator(member_id)


def without_count(state: RoomState) -> RoomState:
    """The state minus ``turn.metoo_count``, which version 3 sends only to those who show it."""
    if state.turn is None:
        return state
    return replace(state, turn=replace(state.turn, metoo_count=0))


TurnTimes = tuple[float, float, float | None] | None


def without_turn_times(state: RoomState) -> tuple[RoomState, TurnTimes]:
    """The state minus its turn's times, and those times (started, elapsed, running since).

    A hand-over reaches a version-3 client with its time in whole seconds
    (rounded down), so its turn's times may be up to a second from the relay's.
    """
    turn = state.turn
    if turn is None:
        return state, None
    times = (turn.started_at, turn.elapsed, turn.running_since)
    turn = replace(turn, started_at=0.0, elapsed=0.0, running_since=None)
    return replace(state, turn=turn), times


def within_a_second(mine: TurnTimes, relays: TurnTimes) -> bool:
    """Turn times as a version-3 client may hold them: the relay's, give or take the rounding."""
    if mine is None or relays is None:
        return mine == relays
    for a, b in zip(mine, relays, strict=True):
        if (a is None) != (b is None) or (a is not None and b is not None and abs(a - b) >= 1):
            return False
    return True


def assert_same_room(peer: Peer, room: LiveRoom) -> None:
    # Removed names are the relay's own: a client holds only those it saw removed.
    # Who waits for an answer to a signal: a member sees only whether they do.
    mine = replace(without_metoo_names(peer.state), removed=frozenset())
    signals = view_for(room.state, peer.id).signals
    relays = replace(without_metoo_names(room.state), removed=frozenset(), signals=signals)
    if not shows_count(room.state, peer.id):
        mine, relays = without_count(mine), without_count(relays)
    mine, my_times = without_turn_times(mine)
    relays, relays_times = without_turn_times(relays)
    assert mine == relays, peer
    assert within_a_second(my_times, relays_times), (peer, my_times, relays_times)
    assert list(peer.state.members) == list(room.state.members), "circle order differs"


# --- raw websockets, for what a well-behaved client never sends ------------------------


async def raw_connect(url: str) -> ClientConnection:
    """A bare websocket to ``url``; a ``wss://`` relay's certificate is checked as usual."""
    return await dial(url, compression=None, max_size=2**22, open_timeout=TIMEOUT)


async def raw_greeting(ws: ClientConnection) -> Greeting:
    data = await asyncio.wait_for(ws.recv(), TIMEOUT)
    assert isinstance(data, bytes)
    greeting = decode(data)
    assert isinstance(greeting, Greeting)
    return greeting


async def hello(
    url: str,
    name: str = "guesser",
    *,
    passcode: str = "",
    key: str = "",
    source: str = "127.0.0.1",
    forwarded: str | None = None,
) -> str:
    """``"welcome"``, or the code of the error the relay answered a hello with.

    From ``source`` (a loopback address), naming ``forwarded`` as the member's
    address to a proxy-trusting relay, when given.
    """
    options: dict[str, Any] = {"local_addr": (source, 0), "compression": None}
    if forwarded is not None:
        options["additional_headers"] = {"X-Forwarded-For": forwarded}
    async with connect(url, open_timeout=TIMEOUT, **options) as ws:
        greeting = decode(await asyncio.wait_for(ws.recv(), TIMEOUT))  # type: ignore[arg-type]
        assert isinstance(greeting, Greeting)
        await ws.send(encode(Hello(1, name, passcode, key, True)))
        answer = decode(await asyncio.wait_for(ws.recv(), TIMEOUT))  # type: ignore[arg-type]
        if isinstance(answer, Welcome):
            return "welcome"
        assert isinstance(answer, Error), answer
        await read_until_closed(ws)
        return answer.code


async def raw_join(
    url: str, name: str, *, passcode: str = "", resume: Resume | None = None
) -> tuple[ClientConnection, Welcome]:
    """Join over a bare websocket and return it with the relay's ``Welcome``."""
    ws = await raw_connect(url)
    await raw_greeting(ws)
    hello = Hello(PROTOCOL_VERSIONS[-1], name, passcode, "", True, resume)
    await ws.send(encode(hello))
    welcome = await next_control(ws)
    assert isinstance(welcome, Welcome), welcome
    return ws, welcome


_ROOMS: weakref.WeakKeyDictionary[ClientConnection, RoomState] = weakref.WeakKeyDictionary()
"""The room each bare websocket's reader holds, for the compact frames of version 3."""


def frames_in(data: bytes, ws: ClientConnection | None = None) -> list[Frame]:
    """The frames ``data`` holds, compact ones (version 3) as the event frames they stand for.

    A ``Batch`` is its frames, a ``HandOver`` its two event frames, a ``Said``
    its ``Shared`` (``protocol.handover.standing_for``), against the room
    ``ws``'s reader holds (from its ``Welcome`` and the events read through
    here since), or an empty one.
    """
    room = _ROOMS.get(ws, RoomState()) if ws is not None else RoomState()
    frames = standing_for(decode(data), room)
    for part in frames:
        if isinstance(part, EventFrame):
            room = apply(room, part.event)
        elif isinstance(part, (Welcome, Snapshot)) and part.state is not None:
            room = part.state
    if ws is not None:
        _ROOMS[ws] = room
    return frames


async def next_control(ws: ClientConnection, timeout: float = TIMEOUT) -> Frame:
    """The next frame that is not a room event (events are skipped)."""

    async def read() -> Frame:
        while True:
            data = await ws.recv()
            assert isinstance(data, bytes), "the relay sends binary frames only"
            for frame in frames_in(data, ws):
                if not isinstance(frame, EventFrame):
                    return frame

    return await asyncio.wait_for(read(), timeout)


async def next_error(ws: ClientConnection, timeout: float = TIMEOUT) -> Error:
    frame = await next_control(ws, timeout)
    assert isinstance(frame, Error), frame
    return frame


async def read_until_closed(
    ws: ClientConnection, timeout: float = TIMEOUT
) -> tuple[int | None, list[Frame]]:
    """Read every frame until the relay closes; return its close code and the frames."""
    frames: list[Frame] = []

    async def read() -> int | None:
        while True:
            try:
                data = await ws.recv()
            except ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd is not None else None
            assert isinstance(data, bytes)
            frames.extend(frames_in(data, ws))

    code = await asyncio.wait_for(read(), timeout)
    return code, frames


async def read_events_until(
    ws: ClientConnection, last: Callable[[Event], bool], timeout: float = TIMEOUT
) -> list[EventFrame]:
    """Event frames in the order received, up to and including the first ``last(event)``."""

    async def read() -> list[EventFrame]:
        frames: list[EventFrame] = []
        while True:
            data = await ws.recv()
            assert isinstance(data, bytes)
            for frame in frames_in(data, ws):
                if isinstance(frame, EventFrame):
                    frames.append(frame)
                    if last(frame.event):
                        return frames

    return await asyncio.wait_for(read(), timeout)


def events_in(frames: Iterable[Frame], kind: type[E]) -> list[E]:
    return [f.event for f in frames if isinstance(f, EventFrame) and isinstance(f.event, kind)]


def is_event(frame: Frame, kind: type[Event]) -> bool:
    return isinstance(frame, EventFrame) and isinstance(frame.event, kind)

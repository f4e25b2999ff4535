"""The headless client: one connection to one room, kept alive across drops.

``CircleClient`` does the handshake, keeps a local ``RoomState`` by applying
every event it receives (the same ``apply`` the relay runs), reconnects with
capped exponential backoff and resumes where it left off, and offers a method
per command. Everything that happens reaches the caller through ``updates()``.
Nothing here imports Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from circle_room.protocol import PROTOCOL_VERSIONS
from circle_room.protocol.close_codes import FINAL, CloseCode
from circle_room.protocol.codec import decode, encode
from circle_room.protocol.errors import DecodeError
from circle_room.protocol.keepalive import CLIENT, quiet_link
from circle_room.protocol.messages import (
    Admit,
    ChangeSettings,
    Command,
    CommandFrame,
    Deny,
    Error,
    Event,
    EventFrame,
    GiveStick,
    Greeting,
    Hello,
    Leave,
    Lock,
    LowerAllHands,
    LowerHand,
    MeToo,
    MoveHand,
    Pass,
    PauseCircle,
    Promote,
    RaiseHand,
    Remove,
    Resume,
    ResumeCircle,
    SendSignal,
    Share,
    Snapshot,
    StartRound,
    StopRound,
    TakeStick,
    Welcome,
    Yield,
)
from circle_room.protocol.model import Role, RoomState, Settings, SignalKind
from circle_room.protocol.room import apply
from circle_room.tui.client.keepalive import HeardClientConnection, keep_alive

DEFAULT_PORT = 8765
HANDSHAKE_TIMEOUT = 10.0
LEAVE_TIMEOUT = 2.0
"""Longest a departure waits for the relay before giving up on it."""
MAX_PENDING = 200
"""Commands kept while reconnecting; beyond this the oldest are dropped."""


class Status(enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


@dataclass(frozen=True)
class Received:
    """An event from the room, already applied to ``CircleClient.state``."""

    seq: int
    event: Event


@dataclass(frozen=True)
class StatusChanged:
    status: Status
    attempt: int = 0
    """Reconnection attempt number while ``RECONNECTING``."""
    detail: str = ""
    """Why, in words: the close reason or the error that ended an attempt."""


@dataclass(frozen=True)
class Resynced:
    """The state was replaced wholesale; events before it may have been missed."""

    state: RoomState
    gap: bool
    """True when this followed a reconnect that could not replay what was missed."""
    member_id: int = 0
    """Who we are now: a new id when the seat was gone and we joined afresh."""


Update = Received | Error | StatusChanged | Resynced


class JoinRefused(Exception):
    """The relay would not let us in; ``code`` says why (see docs/protocol.md)."""

    def __init__(self, code: str, message: str, greeting: Greeting | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.greeting = greeting


def normalise_url(url: str) -> str:
    """Accept ``ws://h:p/room``, ``wss://...`` or plain ``host[:port]/room``."""
    if "://" not in url:
        url = "ws://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        raise ValueError(f"Use a ws:// or wss:// address, not {parts.scheme}://")
    if not parts.hostname:
        raise ValueError("The address needs a host, like localhost:8765/tuesday")
    room = parts.path.strip("/")
    if not room or "/" in room:
        raise ValueError("The address needs a room name after the host, like host:8765/tuesday")
    # wss:// without a port means a TLS proxy on 443; anything else is a relay on 8765.
    keep = parts.port or parts.scheme == "wss"
    netloc = parts.netloc if keep else f"{parts.netloc}:{DEFAULT_PORT}"
    return f"{parts.scheme}://{netloc}/{room}"


async def _receive(ws: ClientConnection) -> object:
    """The next frame from the relay; a refusal or nonsense raises ``JoinRefused``."""
    try:
        data = await ws.recv()
    except ConnectionClosed as closed:
        code = closed.rcvd.code if closed.rcvd else 1006
        if code == CloseCode.NO_ROOM:
            raise JoinRefused("no_room", "There is no room by that name here.") from None
        raise
    if isinstance(data, str):
        raise JoinRefused("protocol", "The relay sent text; is this a Circle relay?")
    try:
        return decode(data)
    except DecodeError as exc:
        raise JoinRefused("protocol", f"Could not read the relay: {exc}") from None


async def fetch_greeting(url: str) -> Greeting:
    """Read the room's greeting (agreements, whether a passcode is needed) and hang up
    before saying hello, so a join screen can show it first.

    Raises ``JoinRefused`` (no such room, not a relay) or ``OSError``.
    """
    try:
        async with websockets.connect(url, open_timeout=HANDSHAKE_TIMEOUT, max_size=2**20) as ws:
            greeting = await asyncio.wait_for(_receive(ws), HANDSHAKE_TIMEOUT)
    except ConnectionClosed as closed:
        raise OSError(f"The relay closed the connection ({closed}).") from None
    except (InvalidHandshake, InvalidURI, asyncio.TimeoutError) as exc:
        raise OSError(str(exc) or type(exc).__name__) from None
    if not isinstance(greeting, Greeting):
        raise JoinRefused("protocol", "That address did not answer as a Circle relay.")
    return greeting


def backoff(attempt: int, cap: float) -> float:
    """Seconds to wait before reconnection ``attempt`` (1-based): 0.2, 0.4 ... cap."""
    base = min(cap, 0.2 * 2.0 ** (attempt - 1))
    return base * random.uniform(0.5, 1.0)


class CircleClient:
    """A member's connection to a room. ``await connect()``, then read ``updates()``."""

    def __init__(
        self,
        url: str,
        *,
        name: str = "",
        passcode: str = "",
        key: str = "",
        agreed: bool = True,
        compression: bool = True,
        backoff_cap: float = 10.0,
        ping_interval: float | None = CLIENT.idle,
        ping_timeout: float | None = CLIENT.timeout,
        resume: Resume | None = None,
        resume_state: RoomState | None = None,
        on_welcome: Callable[[Welcome], None] | None = None,
    ) -> None:
        """``resume`` makes ``connect`` take back a seat instead of joining afresh.

        Given ``resume_state`` (the room as it was at ``resume.seq``), the relay
        replays only what was missed; without it, the seat comes back with the
        room as it is now. If the seat is gone, the client joins afresh.
        ``on_welcome`` is called with every ``Welcome``, reconnections included.
        ``ping_interval`` is how long the relay may be quiet before a ping, and
        ``ping_timeout`` how much longer before the link is dropped and resumed
        (``tui.client.keepalive``).
        """
        self.url = normalise_url(url)
        self.name = name
        self.passcode = passcode
        self.key = key
        self.agreed = agreed
        self._compression = compression
        self._backoff_cap = backoff_cap
        self._keepalive = quiet_link(ping_interval, ping_timeout)
        self._watcher: asyncio.Task[None] | None = None
        self.status = Status.CONNECTING
        self.greeting: Greeting | None = None
        self.member_id = 0
        self.state = RoomState()
        self.seq = 0
        self.epoch = ""
        self._token = ""
        self._ref = 0
        self._ws: ClientConnection | None = None
        self._pending: list[bytes] = []
        self._updates: asyncio.Queue[Update | None] = asyncio.Queue()
        self._waiters: list[tuple[Callable[[CircleClient], bool], asyncio.Future[None]]] = []
        """``wait_until`` callers, checked after every update."""
        self._reader: asyncio.Task[None] | None = None
        self._closing = False
        self._closed = asyncio.Event()
        """Set by ``close``: cuts a reconnection backoff short."""
        self._first_resume = resume
        self._on_welcome = on_welcome
        if resume is not None and resume_state is not None:
            self.state, self.seq = resume_state, resume.seq

    @property
    def credentials(self) -> Resume | None:
        """How to take this seat back from another client, once welcomed."""
        if not self._token:
            return None
        return Resume(self._token, self.epoch, self.seq)

    # --- connecting ---------------------------------------------------------------

    async def connect(self) -> Welcome:
        """Join the room; raise ``JoinRefused`` or ``OSError`` if that fails."""
        resume, self._first_resume = self._first_resume, None
        welcome = await self._open(resume)
        self._set_status(Status.CONNECTED)
        self._reader = asyncio.get_running_loop().create_task(self._read_forever())
        return welcome

    async def _open(self, resume: Resume | None) -> Welcome:
        ws = await websockets.connect(
            self.url,
            compression="deflate" if self._compression else None,
            open_timeout=HANDSHAKE_TIMEOUT,
            ping_interval=None,  # tui.client.keepalive pings only a quiet link.
            create_connection=HeardClientConnection,
            max_size=2**22,
        )
        try:
            welcome = await asyncio.wait_for(self._handshake(ws, resume), HANDSHAKE_TIMEOUT)
        except BaseException:
            await ws.close()
            raise
        self._ws = ws
        if self._keepalive is not None and isinstance(ws, HeardClientConnection):
            self._watcher = asyncio.get_running_loop().create_task(keep_alive(ws, self._keepalive))
        return welcome

    async def _handshake(self, ws: ClientConnection, resume: Resume | None) -> Welcome:
        greeting = await _receive(ws)
        if not isinstance(greeting, Greeting):
            raise JoinRefused("protocol", "The server did not greet us as a Circle relay.")
        self.greeting = greeting
        common = set(greeting.versions) & set(PROTOCOL_VERSIONS)
        if not common:
            raise JoinRefused("version", "This client and the relay share no protocol version.")
        hello = Hello(max(common), self.name, self.passcode, self.key, self.agreed, resume)
        await ws.send(encode(hello))
        reply = await _receive(ws)
        if isinstance(reply, Error):
            raise JoinRefused(reply.code, reply.message, greeting)
        if not isinstance(reply, Welcome):
            raise JoinRefused("protocol", "The relay answered our hello with something odd.")
        self._token = reply.token
        self.epoch = reply.epoch
        self.member_id = reply.member_id
        if reply.resumed:
            self.seq = reply.seq
        else:
            assert reply.state is not None
            self.state = reply.state
            self.seq = reply.seq
            if resume is not None:
                self._push(Resynced(reply.state, gap=True, member_id=reply.member_id))
        if self._on_welcome is not None:
            self._on_welcome(reply)
        return reply

    # --- reading and reconnecting ---------------------------------------------------

    async def _read_forever(self) -> None:
        while True:
            ws = self._ws
            assert ws is not None
            code, reason = 1006, "connection lost"
            try:
                async for data in ws:
                    if isinstance(data, bytes):
                        self._on_frame(data)
            except ConnectionClosed:
                pass
            if ws.close_code is not None:
                code, reason = ws.close_code, ws.close_reason or reason
            if self._closing or code in FINAL:
                self._set_status(Status.CLOSED, detail=reason if not self._closing else "")
                self._updates.put_nowait(None)
                return
            if not await self._reconnect(reason):
                self._updates.put_nowait(None)
                return

    async def _reconnect(self, reason: str) -> bool:
        attempt = 0
        while not self._closing:
            attempt += 1
            self._set_status(Status.RECONNECTING, attempt, reason)
            # Wait out the backoff, unless close() is called meanwhile.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._closed.wait(), backoff(attempt, self._backoff_cap))
            if self._closing:
                break
            try:
                await self._open(Resume(self._token, self.epoch, self.seq))
            except JoinRefused as refused:
                self._set_status(Status.CLOSED, detail=refused.message)
                return False
            except (OSError, ConnectionClosed, InvalidHandshake, asyncio.TimeoutError) as exc:
                reason = str(exc) or type(exc).__name__
                continue
            self._set_status(Status.CONNECTED)
            if not await self._flush_pending():
                reason = "connection lost while catching up"
                continue
            return True
        self._set_status(Status.CLOSED)
        return False

    def _on_frame(self, data: bytes) -> None:
        try:
            frame = decode(data)
        except DecodeError:
            return  # A newer relay's message we cannot read; nothing to apply.
        if isinstance(frame, EventFrame):
            if frame.seq <= self.seq:
                return  # Already applied (belt and braces: the relay never resends).
            self.seq = frame.seq
            self.state = apply(self.state, frame.event)
            self._push(Received(frame.seq, frame.event))
        elif isinstance(frame, Snapshot):
            self.seq = frame.seq
            self.state = frame.state
            self._push(Resynced(frame.state, gap=False, member_id=self.member_id))
        elif isinstance(frame, Error):
            self._push(frame)

    def _push(self, update: Update) -> None:
        self._updates.put_nowait(update)
        # Checked here, synchronously: no task per update on the receive path.
        for predicate, waiter in self._waiters:
            if not waiter.done() and predicate(self):
                waiter.set_result(None)

    def _set_status(self, status: Status, attempt: int = 0, detail: str = "") -> None:
        self.status = status
        self._push(StatusChanged(status, attempt, detail))

    async def updates(self) -> AsyncIterator[Update]:
        """Everything that happens, in order, until the client closes for good."""
        while True:
            update = await self._updates.get()
            if update is None:
                return
            yield update

    async def wait_until(self, predicate: Callable[[CircleClient], bool], timeout: float) -> None:
        """Wait until ``predicate(self)`` holds (checked after every update)."""
        if predicate(self):
            return
        entry = (predicate, asyncio.get_running_loop().create_future())
        self._waiters.append(entry)
        try:
            await asyncio.wait_for(entry[1], timeout)
        finally:
            self._waiters.remove(entry)

    # --- sending ----------------------------------------------------------------------

    async def send(self, command: Command) -> int:
        """Send a command; return its ``ref`` (an ``Error`` with that ref may follow).

        While reconnecting, commands wait and go out after the resume.
        """
        self._ref += 1
        data = encode(CommandFrame(self._ref, command))
        if self.status is Status.CONNECTED and self._ws is not None:
            try:
                await self._ws.send(data)
                return self._ref
            except ConnectionClosed:
                pass
        if self.status is Status.CLOSED:
            raise ConnectionError("The connection to the room is closed.")
        self._pending.append(data)
        del self._pending[:-MAX_PENDING]
        return self._ref

    async def _flush_pending(self) -> bool:
        """Send what waited during the reconnect; False if the link dropped again."""
        pending, self._pending = self._pending, []
        for index, data in enumerate(pending):
            assert self._ws is not None
            try:
                await self._ws.send(data)
            except ConnectionClosed:
                # Keep what did not go out, in order, for the next attempt.
                self._pending = pending[index:] + self._pending
                return False
        return True

    async def close(self) -> None:
        """Disconnect without leaving: the seat is kept for the grace period."""
        self._closing = True
        self._closed.set()
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await self._reader

    async def leave(self, quiet: bool = False) -> None:
        """Leave the meeting and close, within ``LEAVE_TIMEOUT`` whatever the relay does.

        Someone leaving must never be kept waiting by a slow or silent link.
        """

        async def depart() -> None:
            if self.status is Status.CONNECTED:
                await self.send(Leave(quiet))
            await self.close()

        with contextlib.suppress(Exception):
            await asyncio.wait_for(depart(), LEAVE_TIMEOUT)

    def abort(self) -> None:
        """Drop the TCP connection abruptly, as a dead network would (for tests)."""
        if self._ws is not None:
            self._ws.transport.abort()

    # --- one method per command --------------------------------------------------------

    async def share(self, text: str) -> int:
        return await self.send(Share(text))

    async def yield_stick(self) -> int:
        return await self.send(Yield())

    async def pass_stick(self) -> int:
        return await self.send(Pass())

    async def raise_hand(self) -> int:
        return await self.send(RaiseHand())

    async def lower_hand(self, member_id: int | None = None) -> int:
        return await self.send(LowerHand(member_id))

    async def lower_all_hands(self) -> int:
        return await self.send(LowerAllHands())

    async def move_hand(self, member_id: int, position: int) -> int:
        return await self.send(MoveHand(member_id, position))

    async def me_too(self, on: bool = True) -> int:
        turn = self.state.turn
        return await self.send(MeToo(turn.id if turn else 0, on))

    async def pause(self, message: str = "") -> int:
        return await self.send(PauseCircle(message))

    async def resume(self) -> int:
        return await self.send(ResumeCircle())

    async def give_stick(self, member_id: int) -> int:
        return await self.send(GiveStick(member_id))

    async def take_stick(self) -> int:
        return await self.send(TakeStick())

    async def start_round(self) -> int:
        return await self.send(StartRound())

    async def stop_round(self) -> int:
        return await self.send(StopRound())

    async def signal(self, kind: SignalKind) -> int:
        return await self.send(SendSignal(kind))

    async def remove(self, member_id: int) -> int:
        return await self.send(Remove(member_id))

    async def lock(self, locked: bool = True) -> int:
        return await self.send(Lock(locked))

    async def admit(self, member_id: int) -> int:
        return await self.send(Admit(member_id))

    async def deny(self, member_id: int) -> int:
        return await self.send(Deny(member_id))

    async def promote(self, member_id: int, role: Role = Role.COFACILITATOR) -> int:
        return await self.send(Promote(member_id, role))

    async def change_settings(self, settings: Settings) -> int:
        return await self.send(ChangeSettings(settings))

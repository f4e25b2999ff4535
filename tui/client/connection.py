"""The headless client: one connection to one room, kept alive across drops.

``CircleClient`` does the handshake, folds every event it receives once into
its ``Meeting`` (``tui.client.model``: the room as this member sees it, and
what each event meant in words), reconnects with capped exponential backoff
and resumes where it left off, and offers a method per command. Everything
that happens reaches the caller through ``updates()``. Nothing here imports
Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Callable

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from circle_room.protocol.close_codes import FINAL, CloseCode
from circle_room.protocol.codec import decode, encode
from circle_room.protocol.errors import ClientClosed, DecodeError, JoinRefused, RemoteProtocolError
from circle_room.protocol.handoff import FRESH_EPOCH
from circle_room.protocol.handover import standing_for
from circle_room.protocol.keepalive import CLIENT, quiet_link
from circle_room.protocol.messages import (
    Command,
    CommandFrame,
    Error,
    EventFrame,
    Frame,
    Greeting,
    Hidden,
    HiddenRun,
    Leave,
    Resume,
    Snapshot,
    Welcome,
)
from circle_room.protocol.model import RoomState
from circle_room.protocol.refusals import RefusalCode
from circle_room.tui.client import handshake, trust
from circle_room.tui.client.address import normalise_url
from circle_room.tui.client.commands import Commands
from circle_room.tui.client.dial import HANDSHAKE_TIMEOUT, dial, receive
from circle_room.tui.client.keepalive import HeardClientConnection, keep_alive
from circle_room.tui.client.model import Meeting
from circle_room.tui.client.outbox import Outbox
from circle_room.tui.client.updates import Received as Received
from circle_room.tui.client.updates import Resynced as Resynced
from circle_room.tui.client.updates import Status, StatusChanged, Update

LEAVE_TIMEOUT = 2.0
"""Longest a departure waits for the relay before giving up on it."""


def backoff(attempt: int, cap: float) -> float:
    """Seconds to wait before reconnection ``attempt`` (1-based): 0.2, 0.4 ... cap."""
    base = min(cap, 0.2 * 2.0 ** (attempt - 1))
    return base * random.uniform(0.5, 1.0)


class CircleClient(Commands):
    """A member's connection to a room. ``await connect()``, then read ``updates()``."""

    def __init__(
        self,
        url: str,
        *,
        name: str = "",
        passcode: str = "",
        key: str = "",
        agreed: bool = True,
        ticket: str = "",
        compression: bool = True,
        backoff_cap: float = 10.0,
        ping_interval: float | None = CLIENT.idle,
        ping_timeout: float | None = CLIENT.timeout,
        resume: Resume | None = None,
        resume_state: RoomState | None = None,
        on_welcome: Callable[[Welcome], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``resume`` makes ``connect`` take back a seat instead of joining afresh.

        Given ``resume_state`` (the room as it was at ``resume.seq``), the relay
        replays only what was missed; without it, the seat comes back with the
        room as it is now. If the seat is gone, the client joins afresh.
        ``on_welcome`` is called with every ``Welcome``, reconnections included.
        ``clock`` is the local time each event is received at, from which the
        meeting estimates the relay's clock.
        ``ping_interval`` is how long the relay may be quiet before a ping, and
        ``ping_timeout`` how much longer before the link is dropped and resumed
        (``tui.client.keepalive``).
        """
        self.url = normalise_url(url)
        self.name = name
        self.passcode = passcode
        self.key = key
        self.agreed = agreed
        self.ticket = ticket
        """A one-time join ticket from the SSH gateway (its seats only), else ""."""
        self._compression = compression
        self._backoff_cap = backoff_cap
        self._keepalive = quiet_link(ping_interval, ping_timeout)
        self._watcher: asyncio.Task[None] | None = None
        self.status = Status.CONNECTING
        self.greeting: Greeting | None = None
        self.meeting = Meeting()
        """The room as this member sees it; only this client changes it."""
        self.epoch = ""
        self._token = ""
        self._ref = 0
        self._ws: ClientConnection | None = None
        self._outbox = Outbox()
        self._updates: asyncio.Queue[Update | None] = asyncio.Queue()
        self._waiters: list[tuple[Callable[[CircleClient], bool], asyncio.Future[None]]] = []
        """``wait_until`` callers, checked after every update."""
        self._reader: asyncio.Task[None] | None = None
        self._closing = False
        self._closed = asyncio.Event()
        """Set by ``close``: cuts a reconnection backoff short."""
        self._first_resume = resume
        self._on_welcome = on_welcome
        self._clock = clock
        if resume is not None and resume_state is not None:
            self.meeting = Meeting(state=resume_state, seq=resume.seq)

    @property
    def state(self) -> RoomState:
        """The room now, as this member sees it."""
        return self.meeting.state

    @property
    def seq(self) -> int:
        """The last event folded into ``state``."""
        return self.meeting.seq

    @property
    def member_id(self) -> int:
        """Who we are in the room (0 until welcomed)."""
        return self.meeting.me

    @property
    def credentials(self) -> Resume | None:
        """How to take this seat back from another client, once welcomed."""
        if not self._token:
            return None
        return Resume(self._token, self.epoch, self.seq)

    @property
    def security(self) -> trust.Security | None:
        """How the link to the relay is protected (encrypted, and how it was recognised)."""
        return trust.security_of(self._ws) if self._ws is not None else None

    # --- connecting ---------------------------------------------------------------

    async def connect(self) -> Welcome:
        """Join the room.

        Raises ``JoinRefused``, ``RemoteProtocolError`` (not a relay) or ``OSError``.
        """
        resume, self._first_resume = self._first_resume, None
        welcome = await self._open(resume)
        self._set_status(Status.CONNECTED)
        self._reader = asyncio.get_running_loop().create_task(self._read_forever())
        return welcome

    async def _open(self, resume: Resume | None) -> Welcome:
        ws = await dial(
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
        self.greeting = greeting = handshake.greeting(await receive(ws))
        hello = handshake.hello(
            greeting, self.name, self.passcode, self.key, self.agreed, resume, self.ticket
        )
        await ws.send(encode(hello))
        reply = handshake.welcome(await receive(ws), greeting)
        self._token = reply.token
        self.epoch = reply.epoch
        fresh = self.meeting.welcomed(reply, greeting.room, resuming=resume is not None)
        if fresh is not None:
            self._push(fresh)
        if self._on_welcome is not None:
            self._on_welcome(reply)
        return reply

    # --- reading and reconnecting ---------------------------------------------------

    async def _read_forever(self) -> None:
        while True:
            ws = self._ws
            assert ws is not None
            code, reason, stale = 1006, "connection lost", None
            try:
                async for data in ws:
                    if isinstance(data, bytes):
                        self._on_frame(data)
            except ConnectionClosed:
                pass
            except RemoteProtocolError as gap:
                # ``OutOfOrder``: something for us never came. Resume from our
                # last seq; if that did not help, take the room as it is now.
                stale, reason = ws, f"catching up: {gap}"
                self.epoch = FRESH_EPOCH if self.meeting.misses > 1 else self.epoch
            if ws.close_code is not None:
                code, reason = ws.close_code, ws.close_reason or reason
            if self._closing:
                self._set_status(Status.CLOSED)
            elif code in FINAL:
                self._set_status(Status.CLOSED, detail=reason, close=CloseCode(code))
            elif await self._reconnect(reason):
                if stale is not None:
                    stale.transport.abort()  # The relay has replaced it already.
                continue
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
                self._set_status(Status.CLOSED, detail=refused.message, refusal=refused.refusal)
                return False
            except RemoteProtocolError as exc:
                self._set_status(Status.CLOSED, detail=str(exc))
                return False
            except (OSError, ConnectionClosed, InvalidHandshake, asyncio.TimeoutError) as exc:
                reason = str(exc) or type(exc).__name__
                continue
            self._set_status(Status.CONNECTED)
            assert self._ws is not None
            if not await self._outbox.flush(self._ws):
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
        # A Batch is its frames, a compact frame its events: exactly as if they had come so.
        for one in standing_for(frame, self.meeting.state):
            self._take(one)

    def _take(self, frame: Frame) -> None:
        if isinstance(frame, EventFrame):
            self._fold(frame)
        elif isinstance(frame, Snapshot):
            self._push(self.meeting.resync(frame.state, frame.seq, gap=False))
        elif isinstance(frame, Hidden):
            self.meeting.hidden(frame.seq)
        elif isinstance(frame, HiddenRun):
            self.meeting.hidden(frame.seq, frame.span)
        elif isinstance(frame, Error):
            self._push(frame)

    def _fold(self, frame: EventFrame) -> None:
        received = self.meeting.fold(frame.seq, frame.event, self._clock())
        if received is not None:
            self._push(received)

    def _push(self, update: Update) -> None:
        self._updates.put_nowait(update)
        # Checked here, synchronously: no task per update on the receive path.
        for predicate, waiter in self._waiters:
            if not waiter.done() and predicate(self):
                waiter.set_result(None)

    def _set_status(
        self,
        status: Status,
        attempt: int = 0,
        detail: str = "",
        *,
        close: CloseCode | None = None,
        refusal: RefusalCode | None = None,
    ) -> None:
        self.status = status
        update = StatusChanged(status, attempt, detail, close, refusal)
        self.meeting.link_changed(update)
        self._push(update)

    @property
    def pending_updates(self) -> int:
        """Updates made and not yet taken from ``updates()``: ``seq`` may be ahead of them."""
        return self._updates.qsize()

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

        While reconnecting, commands wait and go out after the resume. Raises
        ``ClientClosed`` once the connection has ended for good.
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
            raise ClientClosed("The connection to the room is closed.")
        self._outbox.keep(data)
        return self._ref

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

"""The websocket relay: handshake, then frames in and events out for each room.

Rooms are addressed by URL path (``ws://host:8765/tuesday``). The relay owns the
sockets; everything about the meeting itself happens in ``LiveRoom`` (and the
``RoomCore`` it performs).

Close codes are ``protocol.close_codes.CloseCode`` (docs/protocol.md has the
table).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.extensions import ServerExtensionFactory

from circle_room.protocol import PROTOCOL_VERSIONS
from circle_room.protocol.close_codes import CloseCode
from circle_room.protocol.codec import decode
from circle_room.protocol.errors import DecodeError, Refused
from circle_room.protocol.messages import Error, Greeting, Hello
from circle_room.protocol.model import Role
from circle_room.server.asyncio_noise import quiet_peer_gone
from circle_room.server.config import RelayConfig
from circle_room.server.data_dir import DataDirError
from circle_room.server.forwarded import HEADER, client_address, trusted_networks
from circle_room.server.guard import MAX_HASHING, Guard
from circle_room.server.keepalive import HeardConnection, Keepalive
from circle_room.server.live_room import LiveRoom
from circle_room.server.passcode_cache import PasscodeCache
from circle_room.server.shared_deflate import SharedDeflateFactory
from circle_room.server.store import Store, check_secret
from circle_room.server.tickets import Tickets

log = logging.getLogger(__name__)


def _deflate() -> list[ServerExtensionFactory]:
    """permessage-deflate for small events to one member, and to a room of hundreds.

    Context takeover stays on (it is what makes small events small). A large
    room deflates each event once for all its members (``server.shared_deflate``),
    so the level costs per member only in rooms of 100 or fewer, where it is
    cheap: zlib's level 6 sends a listener of the scripted meeting about 4%
    fewer bytes than level 1 (4,829 B against 5,047 B), at a few microseconds
    more per event and member. The relay's 13-bit window lets a listener's
    compressor find a phrase said up to 8 KiB back (a few shares): 4,334 B
    rather than 4,395 B for that listener in version 3, which puts it under
    twice the share text's floor. It costs zlib's ``(1 << (wbits + 2)) +
    (1 << (memLevel + 9))``: 48 KiB per member's compressor rather than 32 KiB
    (and an 8 KiB window in each client's decompressor). What members send
    stays at 12 bits: the relay inflates that, and it is only commands.
    """
    return [
        SharedDeflateFactory(
            server_max_window_bits=13,
            client_max_window_bits=12,
            compress_settings={"memLevel": 5, "level": 6},
        )
    ]


class Relay:
    """All rooms of one data directory, served over websockets.

    Call ``start`` to listen, ``close`` to end (members see close code 1001 and
    may resume against the next relay on the same data directory).
    """

    def __init__(
        self,
        store: Store,
        config: RelayConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.config = config or RelayConfig()
        self._clock = clock
        self.rooms: dict[str, LiveRoom] = {}
        self._server: Server | None = None
        self._keepalive: Keepalive | None = None
        self.hashing = asyncio.Semaphore(MAX_HASHING)
        """Slow passcode hashes in flight for the whole process (the SSH gateway shares it)."""
        self.tickets = Tickets()
        """One-time join tickets minted by the SSH gateway for its seats (``server.tickets``)."""
        self.guard = Guard(
            self.config.passcode_rate, self.config.room_guess_rate, clock, self.hashing
        )
        """Guesses per address and per room, at every door (the SSH gateway shares it)."""
        self._proxies = trusted_networks(self.config.trusted_proxies)
        self.passcodes = PasscodeCache()
        """Passcodes found right, so scrypt runs once per passcode (the SSH gateway shares it)."""

    def restore(self) -> None:
        """Bring back every circle a previous relay left in the store."""
        for record in self.store.rooms():
            snapshot = self.store.load_circle(record.name)
            if snapshot is not None:
                self.rooms[record.name] = LiveRoom(
                    record, self.store, self.config, self._clock, snapshot
                )

    async def start(
        self, host: str = "127.0.0.1", port: int = 8765, tls: ssl.SSLContext | None = None
    ) -> None:
        """Listen on ``host:port``; with ``tls`` (``server.tls``) members connect with ``wss://``."""
        quiet_peer_gone()
        self.restore()
        self._server = await serve(
            self._handle,
            host,
            port,
            max_size=self.config.max_frame,
            compression=None,
            extensions=_deflate() if self.config.compression else None,
            # server.keepalive pings only quiet links, instead of all of them every 20 s.
            ping_interval=None,
            create_connection=HeardConnection,
            open_timeout=self.config.handshake_timeout,
            max_queue=16,
            ssl=tls,
            # A peer that stalls its TLS handshake is cut off as soon as one that stalls its hello.
            ssl_handshake_timeout=self.config.handshake_timeout if tls else None,
        )
        if self.config.keepalive is not None:
            self._keepalive = Keepalive(self.config.keepalive)
            self._keepalive.start(self._server)

    @property
    def port(self) -> int:
        assert self._server is not None, "call start() first"
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Close every connection with 1001 and stop listening; state stays stored."""
        for room in self.rooms.values():
            room.closing = True
            room.stop_timers()
        if self._keepalive is not None:
            self._keepalive.stop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def end_meeting(self, reason: str = "The meeting has ended.") -> None:
        """End every meeting for good: close each member with 1000, stop, forget the circles.

        Unlike ``close`` (1001, "come back later"), 1000 tells clients not to
        reconnect: the host has left and nobody is coming back to this meeting.
        """
        closing = []
        for room in self.rooms.values():
            room.closing = True
            closing.extend(room.connections())
        if closing:
            await asyncio.wait(
                [asyncio.ensure_future(ws.close(CloseCode.LEFT, reason)) for ws in closing],
                timeout=self.config.handshake_timeout,
            )
        await self.close()
        for name in self.rooms:
            try:
                self.store.clear_circle(name)
            except DataDirError as exc:
                # The meeting is over for everyone all the same; the next relay
                # on this folder will restore a circle nobody comes back to.
                log.warning("room %s: could not clear the ended circle: %s", name, exc.detail)

    def room(self, name: str) -> LiveRoom | None:
        room = self.rooms.get(name)
        if room is None:
            record = self.store.room(name)
            if record is None:
                return None
            room = self.rooms[name] = LiveRoom(record, self.store, self.config, self._clock)
        return room

    # --- where a relay of several nodes differs (``server.node_relay``) ------------------

    async def _open(self, name: str) -> LiveRoom | None:
        """The room called ``name``, ready to seat members, or None if there is none."""
        return self.room(name)

    async def _join(self, room: LiveRoom, ws: ServerConnection, hello: Hello, role: Role) -> int:
        """Seat a newcomer let in at the door; raise ``Refused`` if the room will not."""
        return room.join(ws, hello, role)

    # --- one connection ---------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        name = unquote(urlsplit(ws.request.path if ws.request else "/").path.strip("/"))
        room = await self._open(name)
        if room is None:
            await ws.close(CloseCode.NO_ROOM, "no such room")
            return
        settings = room.state.settings
        LiveRoom.send(
            ws,
            Greeting(
                versions=PROTOCOL_VERSIONS,
                room=room.name,
                agreements=settings.agreements,
                needs_passcode=room.record.needs_passcode,
                waiting_room=settings.waiting_room,
                locked=room.state.locked,
            ),
        )
        try:
            member_id = await self._handshake(ws, room)
            if member_id is None:
                return
            try:
                async for data in ws:
                    room.handle(member_id, ws, data)
                    # Let the loop run between two frames: a flood cannot hold it,
                    # and a connection that died as we wrote to it is seen closed
                    # before we write again (asyncio logs every write to a dead one).
                    await asyncio.sleep(0)
            finally:
                room.disconnected(member_id, ws)
        except ConnectionClosed:
            pass

    async def _handshake(self, ws: ServerConnection, room: LiveRoom) -> int | None:
        """The member id of the seat ``ws`` was given, or None if it was turned away."""
        try:
            data = await asyncio.wait_for(ws.recv(), self.config.handshake_timeout)
        except asyncio.TimeoutError:
            await ws.close(CloseCode.TIMEOUT, "no hello in time")
            return None
        try:
            hello = decode(data) if isinstance(data, bytes) else None
        except DecodeError:
            hello = None
        if not isinstance(hello, Hello):
            await self._refuse(ws, CloseCode.BAD_HELLO, Refused("bad_hello", "Expected a Hello."))
            return None
        if hello.version not in PROTOCOL_VERSIONS:
            versions = ", ".join(map(str, PROTOCOL_VERSIONS))
            refused = Refused("version", f"This relay speaks protocol versions {versions}.")
            await self._refuse(ws, CloseCode.VERSION, refused)
            return None
        try:
            if hello.resume is not None:
                session = room.resume(ws, hello)
                if session is not None:
                    return session
                # The seat is gone (grace ran out, or a new meeting): join afresh.
            role = await self._authenticate(ws, room, hello)
            # Lock, agreements, removed names, room size, the name: the rule book's.
            session = await self._join(room, ws, hello, role)
            self.tickets.spend(hello.ticket)  # A ticket seats one member, once.
            return session
        except Refused as refused:
            await self._refuse(ws, CloseCode.REFUSED, refused)
            return None

    async def _authenticate(self, ws: ServerConnection, room: LiveRoom, hello: Hello) -> Role:
        """The role ``hello`` may join as; raise ``Refused`` if its secret is wrong.

        A live ticket from the SSH gateway stands in for the passcode (see
        ``server.tickets``); every other secret is a guess, limited per address
        and per room (``server.guard``). ``TooManyAttempts`` is a ``Refused``:
        it goes back to the client as it is.
        """
        record = room.record
        address = self.address_of(ws)
        if hello.key:
            key = hello.key
            if await self.guard.check(
                address, record.name, lambda: check_secret(key, record.key_hash), strong=True
            ):
                return Role.FACILITATOR
            raise Refused("wrong_key", "That facilitator key is not this room's.")
        if not record.needs_passcode:
            return Role.MEMBER
        if self.tickets.valid(hello.ticket, record.name, hello.name, self._clock()):
            return Role.MEMBER
        if await self.check_passcode(address, record.name, record.passcode_hash, hello.passcode):
            return Role.MEMBER
        raise Refused(
            "wrong_passcode", "That passcode is not right; check it with the facilitator."
        )

    async def check_passcode(self, address: str, room: str, stored: str, given: str) -> bool:
        """Whether ``given`` is the passcode hashed as ``stored``, as a guess from ``address``.

        The one passcode check of every door (the SSH gateway asks it too). A
        passcode already found right costs no scrypt run (``PasscodeCache``).
        """
        return await self.guard.check(
            address,
            room,
            lambda: self.passcodes.check(given, stored),
            slow=not self.passcodes.known(given, stored),
            same=self.guard.same("passcode", stored, given),
        )

    def address_of(self, ws: ServerConnection) -> str:
        """The member's address: the peer's, or what a trusted proxy says it forwards."""
        peer = str(ws.remote_address[0]) if ws.remote_address else "?"
        forwarded = ws.request.headers.get_all(HEADER) if ws.request is not None else []
        return client_address(peer, forwarded, self._proxies)

    @staticmethod
    async def _refuse(ws: ServerConnection, code: int, refused: Refused) -> None:
        path = ws.request.path if ws.request else "?"
        peer = ws.remote_address[0] if ws.remote_address else "?"
        log.info("%s: refused %s: %s (close %d)", path, peer, refused.code, code)
        LiveRoom.send(ws, Error(0, refused.code, refused.message, refused.retry_after))
        await ws.close(code, refused.code)

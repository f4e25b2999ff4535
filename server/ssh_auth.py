"""Logging in over SSH: which room, its passcode, a name, and a seat code to reclaim a seat.

Keyboard-interactive authentication asks the questions (any client key is
fine; no system account is ever involved). The SSH user name picks the room.
Passcode and seat-code guesses count against the relay's one guard
(``server.guard``): the same budget per source address as the websocket
door's, and the same per room. Approval belongs to one user name: a client that changes
its user name mid-login (SSH allows it) starts again from nothing. What a
login needs of the gateway is ``LoginHost``; it does not import the gateway.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import asyncssh

from circle_room.protocol.admission import name_refusal
from circle_room.protocol.errors import Refused
from circle_room.protocol.model import Presence
from circle_room.protocol.refusals import RefusalCode
from circle_room.protocol.text import checked_name, clean_line
from circle_room.server.guard import Guard, TooManyAttempts
from circle_room.server.relay import Relay
from circle_room.server.ssh_config import GatewayConfig
from circle_room.server.ssh_seats import Seat, Seats, seat_code_matches
from circle_room.server.ssh_session import Session
from circle_room.server.store import ROOM_NAME

NAME_PROMPT = "Your name in the circle: "
PASSCODE_PROMPT = "Passcode: "
SEAT_CODE_PROMPT = "Seat code: "
WRONG_PASSCODE = "That passcode is not right; check it with the facilitator."
BUSY = "Too many people are logging in right now; please try again in a minute."

Challenge = asyncssh.auth.KbdIntChallenge
KbdIntResponse = asyncssh.auth.KbdIntResponse


class LoginHost(Protocol):
    """What a login needs of the gateway it came through (``server.ssh_gateway``)."""

    relay: Relay
    config: GatewayConfig
    guard: Guard
    seats: Seats
    connections: set[asyncssh.SSHServerConnection]

    def login_began(self, login: LoginServer, address: str) -> None: ...

    def login_asked(self, login: LoginServer) -> None: ...

    def login_ended(self, login: LoginServer) -> None: ...

    def open_session(self, room: str, name: str, seat: Seat | None) -> Session | None: ...


class LoginServer(asyncssh.SSHServer):
    """One SSH connection, from the first byte to its session."""

    def __init__(self, gateway: LoginHost) -> None:
        self._gateway = gateway
        self._address = "?"
        self._conn: asyncssh.SSHServerConnection | None = None
        self._grace: asyncio.TimerHandle | None = None
        """Ends a connection that has not asked to log in within ``login_grace``."""
        self._failures = 0
        self._room = ""
        self._approved = ""
        """The room whose passcode this connection gave."""
        self._name = ""
        self._asking: Seat | None = None
        """The kept seat whose code was just asked for."""
        self._seat: Seat | None = None
        """A kept seat this connection proved its own (given the right code)."""
        self._seated = False
        self._titled = False
        """The challenge's title ("Circle: tuesday") was sent: ssh prints it at every prompt."""

    # --- the connection ------------------------------------------------------------------

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        peer = conn.get_extra_info("peername")
        self._address = str(peer[0]) if peer else "?"
        self._gateway.connections.add(conn)
        loop = asyncio.get_running_loop()
        self._grace = loop.call_later(self._gateway.config.login_grace, self._too_slow)
        # Last: counting this one may drop another, or this one (see ``drop``).
        self._gateway.login_began(self, self._address)

    def drop(self) -> None:
        """Make room for a newcomer (``server.ssh_startups``): end this login now."""
        if self._conn is not None:
            # Soon, not now: this may be called from inside asyncssh's connection_made.
            asyncio.get_running_loop().call_soon(
                self._conn.disconnect, asyncssh.DISC_TOO_MANY_CONNECTIONS, BUSY
            )

    def _too_slow(self) -> None:
        if self._conn is not None:
            self._conn.disconnect(asyncssh.DISC_CONNECTION_LOST, "Too slow to log in.")

    def auth_completed(self) -> None:
        self._stop_counting()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_counting()
        self._let_go_of_seat()
        if self._conn is not None:
            self._gateway.connections.discard(self._conn)

    def _stop_grace(self) -> None:
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None

    def _stop_counting(self) -> None:
        self._stop_grace()
        self._gateway.login_ended(self)

    def _let_go_of_seat(self) -> None:
        if self._seat is not None and not self._seated:
            self._gateway.seats.release(self._seat)
        self._seat = None

    # --- authentication ------------------------------------------------------------------

    def begin_auth(self, username: str) -> bool:
        # Key exchange done, a user name sent: a client, not a socket left open.
        self._stop_grace()
        self._gateway.login_asked(self)
        # A new user name (asyncssh calls this again when it changes): forget everything.
        self._room = self._approved = self._name = ""
        self._asking = None
        self._let_go_of_seat()
        return True  # Always ask: the passcode and the name.

    def password_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return True

    def get_kbdint_challenge(self, username: str, lang: str, submethods: str) -> Challenge:
        gateway = self._gateway
        room = gateway.relay.room(username) if ROOM_NAME.match(username) else None
        # Nothing to try again for: say so once, then the next failure hangs up.
        if room is None:
            self._failures = gateway.config.max_auth_failures - 1
            return _message(f"There is no room called {clean_line(username)!r} here.")
        self._room = room.name
        wait = gateway.guard.wait(self._address, room.name)
        if wait is not None:
            self._failures = gateway.config.max_auth_failures - 1
            return _message(TooManyAttempts(wait).message)
        if room.record.needs_passcode and self._approved != room.name:
            return self._titled_once(_ask(room.name, "", PASSCODE_PROMPT, echo=False))
        return self._titled_once(_ask(room.name, "", NAME_PROMPT, echo=True))

    async def validate_kbdint_response(self, username: str, responses: KbdIntResponse) -> Challenge:
        try:
            answer = await self._validate(responses)
        except TooManyAttempts:
            answer = False
        answer = self._titled_once(answer)
        if answer is False:
            self._failures += 1
            if self._failures >= self._gateway.config.max_auth_failures and self._conn:
                # Like sshd's MaxAuthTries: a client that keeps trying is shown the door.
                asyncio.get_running_loop().call_soon(
                    self._conn.disconnect,
                    asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE,
                    "Too many failed attempts.",
                )
        return answer

    def _titled_once(self, challenge: Challenge) -> Challenge:
        """``challenge`` with its title only the first time: OpenSSH prints a title with
        every prompt, so "Circle: tuesday" would stand above the passcode, the name, and
        every try again."""
        if not isinstance(challenge, tuple):
            return challenge
        if self._titled:
            _, instructions, lang, prompts = challenge
            return ("", instructions, lang, prompts)
        self._titled = True
        return challenge

    async def _validate(self, responses: KbdIntResponse) -> Challenge:
        gateway = self._gateway
        room = gateway.relay.room(self._room) if self._room else None
        if room is None or not responses:
            return False
        if room.record.needs_passcode and self._approved != room.name:
            if not await self._passcode_right(room.name, responses[0]):
                if gateway.guard.wait(self._address, room.name) is not None:
                    return False  # No guesses left: asking again would be a tease.
                return _ask(room.name, WRONG_PASSCODE, PASSCODE_PROMPT, echo=False)
            self._approved = room.name
            return _ask(room.name, "", NAME_PROMPT, echo=True)
        if self._asking is not None:
            return await self._seat_code(room.name, responses[0])
        try:
            name = checked_name(responses[0])
        except Refused as refused:
            return _ask(room.name, refused.message, NAME_PROMPT, echo=True)
        problem = self._name_problem(room.name, name)
        if problem:
            return _ask(room.name, problem, NAME_PROMPT, echo=True)
        if self._asking is not None:
            away = (
                f"{self._asking.name} is away. If this is your seat, give its seat code; "
                "if not, press Enter and choose another name."
            )
            return _ask(room.name, away, SEAT_CODE_PROMPT, echo=False)
        self._name = name
        return True

    async def _passcode_right(self, room: str, passcode: str) -> bool:
        gateway = self._gateway
        record = gateway.relay.store.room(room)
        if record is None:
            return False
        return await gateway.relay.check_passcode(
            self._address, room, record.passcode_hash, passcode
        )

    async def _seat_code(self, room: str, given: str) -> Challenge:
        seat, self._asking = self._asking, None
        assert seat is not None
        taken = f"The name {seat.name} is taken for now; please choose another name."
        if not given.strip():
            return _ask(room, taken, NAME_PROMPT, echo=True)
        right = await self._gateway.guard.check(
            self._address, room, lambda: seat_code_matches(seat.code, given)
        )
        # Still kept, still away: nobody else reclaimed it while we checked.
        if not right or self._gateway.seats.kept(room, seat.name) is not seat:
            return _ask(room, taken, NAME_PROMPT, echo=True)
        self._gateway.seats.take(seat)
        self._seat, self._name = seat, seat.name
        return True

    def _name_problem(self, room_name: str, name: str) -> str:
        """Why ``name`` cannot join ``room_name`` now, or ""; sets ``_asking`` for a kept seat."""
        room = self._gateway.relay.room(room_name)
        if room is None:
            return "That room has closed."
        refused = name_refusal(room.state, name)
        if refused is None:
            return ""
        if refused.code == RefusalCode.REMOVED:
            return "That name was removed from this meeting."
        member = room.state.find_name(name)
        if refused.code != RefusalCode.NAME_TAKEN or member is None:
            return refused.message
        kept = self._gateway.seats.kept(room_name, member.name)
        if member.presence is Presence.AWAY and kept is not None:
            self._asking = kept  # Their own seat, if they know its code.
            return ""
        return f"Someone here is already called {member.name}; pick another name."

    # --- the session ------------------------------------------------------------------------

    def session_requested(self) -> Session | bool:
        # One seat per connection: a second channel would be a second member.
        if not self._room or not self._name or self._seated:
            return False
        self._seated = True
        session = self._gateway.open_session(self._room, self._name, self._seat)
        if session is None:
            self._seated = False  # So the seat it proved is let go, not kept held.
            self._let_go_of_seat()
            self._seated = True
            return False
        return session


def _ask(room: str, message: str, prompt: str, *, echo: bool) -> Challenge:
    return (f"Circle: {room}", message, "", [(prompt, echo)])


def _message(text: str) -> Challenge:
    return ("Circle", text, "", [])

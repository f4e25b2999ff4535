"""The SSH gateway: members join a room with nothing but ``ssh -p 2222 ROOM@HOST``.

An asyncssh server runs inside the relay's process. The pieces:

- ``server.ssh_keys``: the host key, kept in the data directory;
- ``server.ssh_auth``: logging in (room, passcode, name, seat code);
- ``server.ssh_session``: one session, full screen (``server.ssh_pty``) or
  plain (``server.ssh_plain`` and the runner the composer passes in: the
  server package does not import the client);
- ``server.ssh_seats``: seats kept across dropped sessions, behind a seat code;
- ``server.tickets``: how a seat joins the relay without the passcode.

This module holds them together and keeps the counts that bound what one
host will do for strangers: connections still logging in (overall and per
address, with random early drop: ``server.ssh_startups``), sessions,
full-screen seats. ``close`` ends every session (the
host quit). The logins and the sessions see the gateway only as the
``LoginHost`` and ``SessionHost`` they declare, so neither imports this
module.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Callable
from random import random as random_fraction

import asyncssh

from circle_room.protocol.handoff import Credentials, PlainChannel
from circle_room.server.guard import Guard, address_key
from circle_room.server.relay import Relay
from circle_room.server.ssh_auth import LoginServer
from circle_room.server.ssh_config import CHILD_MODULE, GatewayConfig
from circle_room.server.ssh_keys import HOST_KEY_FILE, fingerprint, load_host_key, ssh_command
from circle_room.server.ssh_plain import PlainRunner
from circle_room.server.ssh_seats import Seat, Seats
from circle_room.server.ssh_session import Mode, Session, SessionStats
from circle_room.server.ssh_startups import Startups

__all__ = [
    "CHILD_MODULE",
    "HOST_KEY_FILE",
    "Credentials",
    "GatewayConfig",
    "Mode",
    "PlainChannel",
    "PlainRunner",
    "SSHGateway",
    "SessionStats",
    "fingerprint",
    "load_host_key",
    "ssh_command",
]


class SSHGateway:
    """An SSH server in front of ``relay``. ``await start()``, ``await close()``."""

    def __init__(
        self,
        relay: Relay,
        host_key: asyncssh.SSHKey,
        plain: PlainRunner,
        *,
        relay_url: str = "",
        config: GatewayConfig | None = None,
        clock: Callable[[], float] = time.time,
        random: Callable[[], float] = random_fraction,
    ) -> None:
        self.relay = relay
        self.host_key = host_key
        self.plain = plain
        self.config = config or GatewayConfig()
        self._relay_url = relay_url
        self._clock = clock
        self.seats = Seats(relay.config.grace_period * 2, clock)
        self.guard: Guard = relay.guard
        """The relay's: SSH passcodes and seat codes count against the same budgets."""
        self.sessions: set[Session] = set()
        self.connections: set[asyncssh.SSHServerConnection] = set()
        self.startups: Startups[LoginServer] = Startups(
            self.config.max_startups, self.config.max_startups_per_address, random
        )
        """Connections still logging in, and which to drop when there are too many."""
        self._server: asyncssh.SSHAcceptor | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.host_key)

    async def start(self, host: str = "127.0.0.1", port: int = 2222) -> None:
        self._server = await asyncssh.create_server(
            lambda: LoginServer(self),
            host,
            port,
            server_host_keys=[self.host_key],
            encoding=None,
            line_editor=False,
            keepalive_interval=self.config.keepalive_interval,
            keepalive_count_max=self.config.keepalive_count_max,
            login_timeout=self.config.login_timeout,
            config=None,
            allow_scp=False,
            agent_forwarding=False,
            x11_forwarding=False,
        )

    @property
    def port(self) -> int:
        assert self._server is not None, "call start() first"
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening and end every session (children are killed)."""
        if self._server is not None:
            self._server.close()
        sessions = list(self.sessions)
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
        for conn in list(self.connections):
            conn.close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 3.0)

    # --- counting --------------------------------------------------------------------------

    def login_began(self, login: LoginServer, address: str) -> None:
        """Count a new connection; drop whichever ``server.ssh_startups`` says makes room."""
        for dropped in self.startups.arrive(login, address_key(address)):
            dropped.drop()

    def login_asked(self, login: LoginServer) -> None:
        """``login`` sent a user name: it is dropped last."""
        self.startups.begin(login)

    def login_ended(self, login: LoginServer) -> None:
        self.startups.leave(login)

    def logins(self) -> int:
        """Connections logging in now."""
        return len(self.startups)

    def open_session(self, room: str, name: str, seat: Seat | None) -> Session | None:
        """A session for a logged-in member (a new seat unless given one), or None if full.

        The slot is taken here, when the session is requested, so simultaneous
        requests cannot all pass the check.
        """
        if len(self.sessions) >= self.config.max_sessions:
            return None
        session = Session(self, seat or self.seats.new(room, name))
        self.sessions.add(session)
        return session

    def session_ended(self, session: Session) -> None:
        self.sessions.discard(session)
        self.seats.release(session.seat)

    def full_screen_count(self) -> int:
        return sum(1 for s in self.sessions if s.mode is Mode.TUI)

    # --- what sessions need --------------------------------------------------------------

    def room_url(self, room: str) -> str:
        # ``relay_url`` may end in ``#fingerprint``: seats pin the relay's own certificate.
        base, _, pin = (self._relay_url or f"ws://127.0.0.1:{self.relay.port}").partition("#")
        return f"{base}/{room}" + (f"#{pin}" if pin else "")

    def child_argv(self, url: str, name: str) -> list[str]:
        if self.config.child_argv is not None:
            return self.config.child_argv(url, name)
        # ``--name=`` keeps a name that starts with "-" from reading as an option.
        return [sys.executable, "-m", self.config.child_module, url, f"--name={name}"]

    def host_env(self) -> dict[str, str]:
        """The environment a child's is built from (filtered by ``server.ssh_pty``)."""
        return dict(os.environ)

    def mint_ticket(self, room: str, name: str) -> str:
        return self.relay.tickets.mint(room, name, self._clock(), self.config.ticket_lifetime)

    def revoke_ticket(self, ticket: str) -> None:
        self.relay.tickets.revoke(ticket)

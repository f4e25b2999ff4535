"""Reaching members beyond the LAN: ``circle host --via user@server``.

A laptop behind a home router cannot be reached from outside; a server the
host can ``ssh`` to can. ``Tunnel`` logs in to it with asyncssh (the host's
usual keys, ssh-agent, ``~/.ssh/known_hosts`` and ``~/.ssh/config``) and asks
its sshd to listen on the relay's and the SSH gateway's ports and carry what
arrives back here (remote port forwarding, what ``ssh -R`` does). Members
then join at the server's address. No router to configure, nothing to
install on the server.

Nothing said in the circle can be read on the server: a ``circle join``
member's TLS runs end to end to the relay on this laptop (the fingerprint in
the join line is this relay's own), an SSH member's SSH to the gateway here.
The server passes bytes along.

The server's sshd must allow TCP forwarding and let forwards listen on its
public address (``GatewayPorts clientspecified``; by default it binds them to
its own loopback, where members cannot reach them). ``reachable`` checks from
here that they answer. If the tunnel drops (a closed lid, a new Wi-Fi), it is
opened again on the same ports, and members' clients reconnect by themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncssh

from circle_room.protocol.errors import CircleError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 20.0
KEEPALIVE = 15.0
"""Seconds between keepalives on the tunnel; four missed and it is opened again."""
RETRY_CAP = 30.0


class TunnelError(CircleError):
    """The tunnel could not open; ``message`` says why and what to try."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Via:
    """``[user@]server[:port]``: the machine members reach, and how to log in to it."""

    host: str
    user: str | None = None
    port: int | None = None
    """None: as ``~/.ssh/config`` says, else 22."""

    @classmethod
    def parse(cls, text: str) -> Via:
        """``ValueError`` with a sentence if ``text`` is not ``[user@]server[:port]``."""
        user, _, rest = text.rpartition("@")
        host, port = rest, None
        if rest.startswith("["):  # [2001:db8::1]:22
            host, _, tail = rest[1:].partition("]")
            port = tail.removeprefix(":") or None
        elif rest.count(":") == 1:
            host, port = rest.split(":")
        if not host or any(c.isspace() for c in text):
            raise ValueError(f"--via takes user@server or user@server:port, not {text!r}.")
        if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
            raise ValueError(f"--via: {port!r} is not a port number.")
        return cls(host, user or None, int(port) if port else None)

    def __str__(self) -> str:
        where = f"[{self.host}]" if ":" in self.host else self.host
        user = f"{self.user}@" if self.user else ""
        return user + where + (f":{self.port}" if self.port else "")

    @property
    def ssh(self) -> str:
        """The ``ssh`` command that logs in the same way, for a sentence to suggest."""
        user = f"{self.user}@" if self.user else ""
        return "ssh " + (f"-p {self.port} " if self.port else "") + user + self.host


class Tunnel:
    """Remote forwards from ``via`` to local ports: ``await open()``, ``await close()``.

    ``forwards`` pairs each local port with the port the server should listen
    on (0: any free one; ``public_port`` tells which it got).
    """

    def __init__(
        self,
        via: Via,
        forwards: Sequence[tuple[int, int]],
        *,
        local_host: str = "127.0.0.1",
        listen_host: str = "",
        options: dict[str, Any] | None = None,
    ) -> None:
        """``options`` go to ``asyncssh.connect`` (tests pass keys and known hosts)."""
        self.via = via
        self._wanted = list(forwards)
        self._local_host = local_host
        self._listen_host = listen_host
        self._options = options or {}
        self._granted: dict[int, int] = {}
        self._conn: asyncssh.SSHClientConnection | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._closing = False

    def public_port(self, local_port: int) -> int:
        """The server's port that leads to ``local_port`` here."""
        return self._granted[local_port]

    async def public_host(self) -> str:
        """The server's name as given, or its address if that name is an ssh alias.

        ``~/.ssh/config`` may call the server ``myvps``; members need a name
        that resolves for them, or failing that the address we reached.
        """
        try:
            await asyncio.get_running_loop().getaddrinfo(self.via.host, None)
        except OSError:
            assert self._conn is not None, "call open() first"
            return str(self._conn.get_extra_info("peername")[0])
        return self.via.host

    async def open(self) -> None:
        """Log in and open every forward; raise ``TunnelError`` with a sentence if not."""
        await self._open_once()
        self._keeper = asyncio.get_running_loop().create_task(self._keep())

    async def close(self) -> None:
        self._closing = True
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
        if self._conn is not None:
            self._conn.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._conn.wait_closed(), 5.0)

    async def _open_once(self) -> None:
        try:
            conn = await asyncio.wait_for(self._connect(), CONNECT_TIMEOUT)
        except asyncio.TimeoutError:
            raise TunnelError(
                f"{self.via.host} did not answer SSH within {CONNECT_TIMEOUT:g} s; "
                f"check the address and that `{self.via.ssh}` works from here."
            ) from None
        except asyncssh.HostKeyNotVerifiable:
            raise TunnelError(
                f"The SSH host key of {self.via.host} is not known here. Connect once with "
                f"`{self.via.ssh}`, check and accept its key, then try again."
            ) from None
        except asyncssh.PermissionDenied:
            raise TunnelError(
                f"{self.via.host} did not accept your SSH key. `{self.via.ssh}` must work "
                "without a password: use a key (with ssh-agent if it has a passphrase)."
            ) from None
        except (OSError, asyncssh.Error) as exc:
            raise TunnelError(f"Cannot log in to {self.via}: {_why(exc)}.") from None
        try:
            for local, remote in self._wanted:
                listener = await conn.forward_remote_port(
                    self._listen_host, self._granted.get(local, remote), self._local_host, local
                )
                self._granted[local] = listener.get_port()
        except (OSError, asyncssh.Error, asyncssh.ChannelListenError) as exc:
            conn.close()
            raise TunnelError(
                f"{self.via.host} would not listen on port {self._granted.get(local, remote)} "
                f"for us ({_why(exc)}): the port may be in use there, or its sshd does not "
                "allow forwarding (AllowTcpForwarding). Try other ports with --port and "
                "--ssh-port."
            ) from None
        self._conn = conn

    async def _connect(self) -> asyncssh.SSHClientConnection:
        options: dict[str, Any] = {
            "keepalive_interval": KEEPALIVE,
            "keepalive_count_max": 4,
            **self._options,
        }
        if self.via.user:
            options["username"] = self.via.user
        if self.via.port:
            options["port"] = self.via.port
        return await asyncssh.connect(self.via.host, **options)

    async def _keep(self) -> None:
        """Open the tunnel again, on the same ports, each time it drops."""
        delay = 1.0
        while not self._closing:
            assert self._conn is not None
            await self._conn.wait_closed()
            while not self._closing:
                await asyncio.sleep(delay)  # Backoff between attempts, not synchronisation.
                try:
                    await self._open_once()
                except TunnelError as exc:
                    log.warning("tunnel through %s: %s", self.via.host, exc.message)
                    delay = min(RETRY_CAP, delay * 2)
                    continue
                delay = 1.0
                break


async def reachable(host: str, port: int, timeout: float = 5.0) -> bool:
    """Whether ``host:port`` takes a TCP connection from here (then closed at once)."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def _why(exc: BaseException) -> str:
    reason = getattr(exc, "reason", "") or str(exc) or type(exc).__name__
    return str(reason).rstrip(".")


async def open_via(
    text: str, local_host: str, relay_port: int, ssh_port: int | None
) -> Tunnel | None:
    """``circle host --via``: the tunnel for the relay (and gateway) ports, or None.

    Says on stderr why it could not open, or what to check when it opened but
    the ports do not answer from here.
    """
    try:
        via = Via.parse(text)
    except ValueError as exc:
        print(f"circle: {exc}", file=sys.stderr)
        return None
    ports = [relay_port] + ([ssh_port] if ssh_port else [])
    tunnel = Tunnel(via, [(port, port) for port in ports], local_host=local_host)
    print(f"Opening a tunnel through {via} ...", flush=True)
    try:
        await tunnel.open()
    except TunnelError as exc:
        print(f"circle: {exc.message}", file=sys.stderr)
        return None
    public = [tunnel.public_port(port) for port in ports]
    host = await tunnel.public_host()
    silent = [p for p in public if not await reachable(host, p)]
    if silent:
        listed = " and ".join(map(str, silent))
        print(
            f"circle: warning: {host} does not answer on port {listed} from here. "
            "If members cannot join either: on the server, put `GatewayPorts clientspecified` "
            f"in /etc/ssh/sshd_config and reload sshd, and let port {listed} through its "
            "firewall.",
            file=sys.stderr,
            flush=True,
        )
    return tunnel

"""``circle serve --redis URL``: make this relay one node of several, or say why it cannot.

A facilitator who mistyped the address, or whose Redis is not running, reads
one sentence naming the address (never its password) and what to do, not a
redis-py traceback. Kinds of failure are told apart by exception type and
error number, never by their English. ``redis`` is imported only here, only
with ``--redis``, so a plain ``circle serve`` stays light.
"""

from __future__ import annotations

import errno
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from circle_room.protocol.text import clean_line
from circle_room.server.config import RelayConfig
from circle_room.server.store import Store

if TYPE_CHECKING:
    from circle_room.server.relay import Relay

CONNECT_TIMEOUT = 5.0
"""Seconds to reach Redis at start-up: an address that drops packets must not hang the CLI."""
EXAMPLE = "redis://HOST:6379 (or redis://USER:PASSWORD@HOST:6379)"


async def node_relay(store: Store, url: str, config: RelayConfig) -> Relay | str:
    """A ``NodeRelay`` whose Redis answered, or the sentence that says why there is none."""
    import redis.asyncio as aioredis
    from redis.exceptions import AuthenticationError, NoPermissionError, RedisError

    from circle_room.server.node_relay import NodeRelay

    where = _where(url)
    try:
        probe = aioredis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT)
    except ValueError:
        return f"--redis {where} is not a Redis address; give one like {EXAMPLE}"
    try:
        await probe.ping()
    except AuthenticationError:
        return (
            f"Redis at {where} refused the user name or password in --redis; "
            f"give the relays' user as {EXAMPLE}"
        )
    except NoPermissionError:
        return f"Redis at {where} does not let the user in --redis run PING; check its ACL"
    except RedisError as exc:
        return f"Circle cannot reach Redis at {where} ({_why(exc)}); {_hint()}"
    finally:
        await probe.aclose()
    return NodeRelay(store, url, config)


def _where(url: str) -> str:
    """The address without the user and password, fit to print."""
    scheme, sep, rest = url.partition("://")
    try:
        host, port = urlsplit(url).hostname, urlsplit(url).port
    except ValueError:
        host = port = None
    if scheme in ("redis", "rediss") and host:
        return clean_line(f"{host}:{port}" if port else host)
    return clean_line(f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url.rpartition("@")[2])


def _why(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, socket.gaierror):
        return "no such host"
    if isinstance(cause, OSError) and cause.errno == errno.ECONNREFUSED:
        return "nothing listens there"
    if isinstance(cause, (TimeoutError, OSError)) or "Timeout" in type(exc).__name__:
        detail = getattr(cause, "strerror", None) if cause else None
        return clean_line(detail) if detail else "no answer in time"
    return type(exc).__name__


def _hint() -> str:
    return f"start redis-server there, or give its address as --redis {EXAMPLE}"

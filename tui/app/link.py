"""The app's one piece of network work: join a room and carry messages both ways.

``run`` is the body of the app's single worker. It reads the room's greeting
(to show the agreements before joining), joins, then posts every update from
``CircleClient.updates()`` to the app as a message and sends the commands the
app puts in its outbox. Screens and widgets never touch the network: they post
messages, the app queues commands, and only this module awaits a socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.app import App
from textual.message import Message
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from circle_room.protocol.errors import ClientClosed, JoinRefused, RemoteProtocolError
from circle_room.protocol.messages import Command, Greeting, Welcome
from circle_room.tui.client.address import normalise_url
from circle_room.tui.client.connection import CircleClient
from circle_room.tui.client.dial import fetch_greeting
from circle_room.tui.client.reach import why_unreachable
from circle_room.tui.client.resumable import keeping_seat
from circle_room.tui.client.saved_seat import HeldSeat, SavedSeat
from circle_room.tui.client.updates import Status, StatusChanged, Update


@dataclass(frozen=True)
class Details:
    """What a person gave to join: the address and what they typed or passed."""

    url: str
    name: str = ""
    passcode: str = ""
    key: str = ""
    """A facilitator key joins as facilitator and skips the join screen."""
    locked: bool = False
    """The name and passcode were checked already (an SSH seat): never ask for them."""
    agreed: bool = False
    """The agreements were accepted already (a seat taken back): no join screen."""


@dataclass(frozen=True)
class Depart:
    """Put in the outbox to leave the meeting (quietly or not) and close."""

    quiet: bool = False


Outgoing = Command | Depart


class Dialer:
    """Opens connections to one room. Tests substitute a scripted dialer.

    ``clock`` is the app's: the client times what it receives by it, so the
    relay's clock is estimated against the same local time the screens use.
    ``seat`` keeps this member's seat across runs of ``circle join``: the
    first client takes back the seat it holds, if any, and every client keeps
    its own seat there. ``greeting`` is one read already (the command line
    checks the address before opening the app): it is not asked for again.
    """

    def __init__(
        self,
        url: str,
        clock: Callable[[], float] = time.time,
        *,
        seat: HeldSeat | None = None,
        greeting: Greeting | None = None,
    ) -> None:
        self.url = normalise_url(url)
        self.clock = clock
        self.seat = seat
        self._greeting = greeting

    @property
    def kept(self) -> SavedSeat | None:
        """A seat kept from an earlier run, to take back instead of joining."""
        return self.seat.saved if self.seat is not None else None

    def forget_seat(self) -> None:
        """The meeting is over for this member: keep their seat no longer."""
        if self.seat is not None:
            self.seat.forget()

    async def greeting(self) -> Greeting:
        """Read the room's greeting and hang up before saying hello.

        Raises ``JoinRefused`` (no such room), ``RemoteProtocolError`` (not a
        relay) or ``OSError``.
        """
        known, self._greeting = self._greeting, None
        return known if known is not None else await fetch_greeting(self.url)

    def client(self, details: Details, agreed: bool) -> CircleClient:
        if self.seat is not None:
            return keeping_seat(
                self.seat,
                self.url,
                name=details.name,
                passcode=details.passcode,
                key=details.key,
                agreed=agreed,
                clock=self.clock,
            )
        return CircleClient(
            self.url,
            name=details.name,
            passcode=details.passcode,
            key=details.key,
            agreed=agreed,
            clock=self.clock,
        )


# --- what the worker tells the app -------------------------------------------------


class Greeted(Message):
    """The room said hello; show the join screen."""

    def __init__(self, greeting: Greeting) -> None:
        super().__init__()
        self.greeting = greeting


class Joined(Message):
    """We are in: ``client.meeting`` is the room as of the welcome; updates follow."""

    def __init__(self, client: CircleClient, welcome: Welcome) -> None:
        super().__init__()
        self.client = client
        self.welcome = welcome


class NotJoined(Message):
    """The relay would not let us in (wrong passcode, name taken, locked, ...)."""

    def __init__(self, refused: JoinRefused) -> None:
        super().__init__()
        self.refused = refused


class Unreachable(Message):
    """Nothing answered at the address."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message


class Updated(Message):
    def __init__(self, update: Update) -> None:
        super().__init__()
        self.update = update


class Closed(Message):
    """The connection ended for good; ``status`` says how (close code, refusal, words)."""

    def __init__(self, status: StatusChanged) -> None:
        super().__init__()
        self.status = status


class Departed(Message):
    """We left (after a ``Depart`` in the outbox); the app can exit."""

    def __init__(self, quiet: bool) -> None:
        super().__init__()
        self.quiet = quiet


# --- the worker's body ---------------------------------------------------------------


async def greet(app: App[Any], dialer: Dialer) -> None:
    """Fetch the greeting and post ``Greeted``, ``NotJoined`` or ``Unreachable``."""
    try:
        greeting = await dialer.greeting()
    except JoinRefused as refused:
        app.post_message(NotJoined(refused))
    except (RemoteProtocolError, OSError) as exc:
        app.post_message(Unreachable(_reach_error(dialer.url, exc)))
    else:
        app.post_message(Greeted(greeting))


async def run(
    app: App[Any],
    dialer: Dialer,
    details: Details,
    outbox: asyncio.Queue[Outgoing],
    agreed: bool = True,
) -> None:
    """Join, then relay updates to the app and commands to the room until closed."""
    client = dialer.client(details, agreed)
    try:
        welcome = await client.connect()
    except JoinRefused as refused:
        app.post_message(NotJoined(refused))
        return
    except (
        RemoteProtocolError,
        OSError,
        ConnectionClosed,
        InvalidHandshake,
        asyncio.TimeoutError,
    ) as exc:
        app.post_message(Unreachable(_reach_error(client.url, exc)))
        return
    while not outbox.empty():
        outbox.get_nowait()  # Nothing typed before joining belongs to this meeting.
    app.post_message(Joined(client, welcome))
    sender = asyncio.get_running_loop().create_task(_send(app, client, outbox))
    try:
        ended = StatusChanged(Status.CLOSED)
        async for update in client.updates():
            if isinstance(update, StatusChanged) and update.status is Status.CLOSED:
                ended = update
            app.post_message(Updated(update))
        app.post_message(Closed(ended))
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        with contextlib.suppress(Exception):
            await client.close()


async def _send(app: App[Any], client: CircleClient, outbox: asyncio.Queue[Outgoing]) -> None:
    while True:
        item = await outbox.get()
        if isinstance(item, Depart):
            await client.leave(quiet=item.quiet)
            app.post_message(Departed(item.quiet))
            return
        with contextlib.suppress(ClientClosed):  # Closed for good: the app says why.
            await client.send(item)


def _reach_error(url: str, exc: BaseException) -> str:
    return why_unreachable(url, exc)

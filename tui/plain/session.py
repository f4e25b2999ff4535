"""Plain line mode: one line per event, commands typed as lines.

No cursor movement, no colour, no redraws: what a screen reader, a TERM=dumb
terminal or the slowest link can follow. The same loop serves a local terminal
(``circle join --plain``) and an SSH channel without a PTY: it reads lines from
a ``LineSource`` and writes lines with a ``write`` callable, and knows nothing
else about where they come from. The room is the client's ``Meeting``, which
has already folded each event in and worded it (``tui.client.narrator``);
``tui.plain.text`` says those words as lines and reads typed lines as
commands. This module only waits for lines and updates.

``PlainSession.run`` returns 0 after leaving or when the meeting ended, 1 when the
member could not join. Cancelling it (a dropped SSH session) closes the
connection without leaving, so the member keeps their seat for the grace period.
Given a ``HeldSeat`` (``circle join --plain``), a session takes back the seat
an earlier run kept, keeps its own there, and forgets it once the meeting is
over for the member.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Protocol

from websockets.exceptions import ConnectionClosed, InvalidHandshake

from circle_room.protocol.errors import ClientClosed, JoinRefused, Refused, RemoteProtocolError
from circle_room.protocol.handoff import PlainChannel, seat_code_line
from circle_room.protocol.messages import Error, Greeting, Welcome
from circle_room.protocol.refusals import RefusalCode
from circle_room.protocol.text import checked_name, clean_line
from circle_room.tui.client.connection import LEAVE_TIMEOUT, CircleClient
from circle_room.tui.client.dial import fetch_greeting
from circle_room.tui.client.reach import why_unreachable
from circle_room.tui.client.resumable import ResumableClient, keeping_seat
from circle_room.tui.client.saved_seat import HeldSeat
from circle_room.tui.client.trust import Protection, describe, plain_warning
from circle_room.tui.client.updates import Received, Resynced, Status, StatusChanged, Update
from circle_room.tui.plain import text as text
from circle_room.tui.plain.stdio import StdinLines, write_stdout

TICK = 1.0
"""Seconds between checks of the share timer (for the gentle nudge)."""


class LineSource(Protocol):
    async def readline(self) -> str | None:
        """The next line typed, without its line ending; None when input ends."""
        ...


Write = Callable[[str], None]
"""Writes one line (the callable adds the line ending)."""


class MakeClient(Protocol):
    def __call__(self, *, name: str, passcode: str, key: str) -> CircleClient: ...


# --- joining ------------------------------------------------------------------------------


class PlainSession:
    """One member in plain mode: ask what is missing, join, then follow and listen."""

    def __init__(
        self,
        url: str,
        source: LineSource,
        write: Write,
        *,
        name: str = "",
        passcode: str = "",
        key: str = "",
        agreed: bool = False,
        make_client: MakeClient | None = None,
        on_joined: Callable[[CircleClient], None] | None = None,
        locked: bool = False,
        clock: Callable[[], float] = time.time,
        greeting: Greeting | None = None,
        seat: HeldSeat | None = None,
    ) -> None:
        """``locked``: the name and passcode were checked already; never ask for others.
        ``greeting``: the room's, read already. ``seat``: where the seat is kept."""
        kept = seat.saved if seat is not None else None
        if kept is not None and not name:
            name = kept.name
        self._kept_token = kept.token if kept is not None else ""
        """The relay welcomes a seat taken back with its old token."""
        self.url = url
        self.source = source
        self.write = write
        self.name = name
        self.passcode = passcode
        self.key = key
        self.agreed = agreed or bool(key)
        self._make_client = make_client or self._default_client
        self._on_joined = on_joined
        self._locked = locked
        self._clock = clock
        self._greeting = greeting
        self._seat = seat
        self.client: CircleClient | None = None
        self._nudged = 0
        self._ended = StatusChanged(Status.CLOSED)
        """How the connection ended, once it has."""
        self._dropped = False
        self._leaving = False

    def _default_client(self, *, name: str, passcode: str, key: str) -> CircleClient:
        if self._seat is not None:
            # Taking a seat back, nobody accepted the agreements for a new one: if
            # it is gone, the relay refuses rather than seat someone who never saw them.
            agreed = self._seat.saved is None
            return keeping_seat(
                self._seat, self.url, name=name, passcode=passcode, key=key, agreed=agreed
            )
        return CircleClient(
            self.url, name=name, passcode=passcode, key=key, agreed=True, clock=self._clock
        )

    def say(self, *lines: str) -> None:
        for line in lines:
            self.write(line)

    async def ask(self, question: str, *, secret: bool = False) -> str | None:
        self.say(question)
        # Only a local terminal can hide what is typed; other sources just read.
        read_secret = getattr(self.source, "read_secret", None) if secret else None
        line = await (read_secret() if read_secret else self.source.readline())
        if line is None or line.strip().lower() in ("/quit", "/exit"):
            return None
        return line.strip()

    @property
    def _taking_back(self) -> bool:
        return self._seat is not None and self._seat.saved is not None

    async def run(self) -> int:
        if warning := plain_warning(self.url):  # Before anyone types a passcode.
            self.say(warning)
        try:
            greeting = self._greeting or await fetch_greeting(self.url)
        except (JoinRefused, RemoteProtocolError, OSError) as exc:
            self.say(why_unreachable(self.url, exc))
            return 1
        if greeting.locked and not self.key and not self._taking_back:
            # Say so before asking anyone to read agreements or type a passcode.
            self.say("The room is locked right now; ask the facilitator to open it.")
            return 1
        welcome = await self._join(greeting)
        if welcome is None:
            return 1
        return await self._meet(greeting, welcome)

    async def _join(self, greeting: Greeting) -> Welcome | None:
        taking_back = self._taking_back
        if not taking_back:
            self.say(*text.agreement_lines(greeting.room, greeting.agreements))
        if greeting.agreements and not self.agreed and not taking_back:
            while True:
                answer = await self._answer()
                if answer is None:
                    self.say("You did not join. Take care.")
                    return None
                if answer.lower() in ("yes", "y", "i agree"):
                    break
                self.say("Please type yes to accept the agreements, or /quit to leave.")
        while True:
            if not self.name and not self.key:
                name = await self.ask("What name would you like to use in the circle?")
                if name is None:
                    return None
                try:
                    self.name = checked_name(name)
                except Refused as refused:
                    self.say(refused.message)
                    continue
            asked = self.passcode or self.key or self._locked or taking_back
            if greeting.needs_passcode and not asked:
                passcode = await self.ask("What is the room's passcode?", secret=True)
                if passcode is None:
                    return None
                self.passcode = passcode
            client = self._make_client(name=self.name, passcode=self.passcode, key=self.key)
            try:
                welcome = await client.connect()
            except JoinRefused as refused:
                if taking_back and self._seat is not None:
                    # The kept seat is gone: join as on a first visit, without blame.
                    self._seat.forget()
                    return await self._join(greeting)
                self.say(clean_line(refused.message))
                if self._locked:
                    return None
                if refused.refusal in (RefusalCode.NAME_TAKEN, RefusalCode.BAD_NAME):
                    self.name = ""
                    continue
                if refused.refusal is RefusalCode.WRONG_PASSCODE:
                    self.passcode = ""
                    continue
                return None
            except RemoteProtocolError as exc:
                self.say(clean_line(str(exc)))
                return None
            except (OSError, ConnectionClosed, InvalidHandshake, asyncio.TimeoutError) as exc:
                self.say(why_unreachable(self.url, exc))
                return None
            self.client = client
            security = client.security
            if security is not None and security.protection is Protection.FIRST_USE:
                self.say(describe(security))
            if self._on_joined is not None:
                self._on_joined(client)
            return welcome

    async def _answer(self) -> str | None:
        line = await self.source.readline()
        if line is None or line.strip().lower() in ("/quit", "/exit", "no"):
            return None
        return line.strip()

    # --- in the meeting ------------------------------------------------------------------

    async def _meet(self, greeting: Greeting, welcome: Welcome) -> int:
        client = self.client
        assert client is not None
        if welcome.resumed:
            self.say("Welcome back. Here is what happened while you were away.")
        elif self._kept_token and welcome.token == self._kept_token:
            # Where the room is now follows, with a word on what was missed.
            who = text.name_of(client.state, client.member_id, 0)
            self.say(f"Welcome back, {who}: your seat was kept.")
        else:
            self.say(*text.welcome_lines(client.state, client.member_id, greeting.room))
        tasks = {
            asyncio.ensure_future(self._follow(client)),
            asyncio.ensure_future(self._listen(client)),
            asyncio.ensure_future(self._tick(client)),
        }
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if client.status is not Status.CLOSED:
                # Cancelled (the SSH session dropped): keep the seat, do not leave.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.close(), LEAVE_TIMEOUT)
            elif self._seat is not None:
                self._seat.forget()  # Left, removed, or the meeting ended: nothing to keep.
        return 0

    async def _follow(self, client: CircleClient) -> None:
        async for update in client.updates():
            self._update(update)
        if self._leaving:
            return
        if self._ended.removed:
            self.say("You are no longer in the meeting. Take care.")
        else:
            # A refused resume says why in its own sentence; otherwise the meeting is over.
            refused = self._ended.refusal is not None and self._ended.detail
            self.say(clean_line(self._ended.detail) if refused else "The meeting has ended.")
            self.say("Thank you for being here.")

    def _update(self, update: Update) -> None:
        if isinstance(update, Received):
            self.say(*text.spoken(update.lines, update.after))
        elif isinstance(update, Resynced):
            self.say(*text.spoken(update.lines, update.state))
            self.say(*text.status_lines(update.state, update.member_id))
        elif isinstance(update, Error):
            self.say(clean_line(update.message))
        elif isinstance(update, StatusChanged):
            self._status(update)

    def _status(self, update: StatusChanged) -> None:
        if update.status is Status.RECONNECTING and not self._dropped:
            self._dropped = True
            self.say("The connection dropped; reconnecting. Your place is kept.")
        elif update.status is Status.CONNECTED and self._dropped:
            self._dropped = False
            self.say("Reconnected.")
        elif update.status is Status.CLOSED:
            self._ended = update

    async def _tick(self, client: CircleClient) -> None:
        meeting = client.meeting
        while True:
            await asyncio.sleep(TICK)
            turn, limit = meeting.state.turn, meeting.state.settings.share_limit
            if turn is None or turn.holder != meeting.me or not limit or self._nudged == turn.id:
                continue
            if turn.elapsed_at(meeting.server_time(self._clock())) >= limit:
                self._nudged = turn.id
                self.say(text.nudge_line(limit))

    async def _listen(self, client: CircleClient) -> None:
        while True:
            line = await self.source.readline()
            if line is None:
                await self._leave(client, quiet=False)
                return
            action = text.parse(line, client.state, client.member_id)
            if isinstance(action, text.Say):
                self.say(*action.lines)
            elif isinstance(action, text.Send):
                with contextlib.suppress(ClientClosed):
                    await client.send(action.command)
            elif isinstance(action, text.Quit):
                await self._leave(client, quiet=action.quiet)
                return

    async def _leave(self, client: CircleClient, quiet: bool) -> None:
        self._leaving = True
        await client.leave(quiet=quiet)
        self.say("You left quietly. Take care." if quiet else "You left the circle. Take care.")


async def run_local(
    url: str,
    *,
    name: str = "",
    passcode: str = "",
    key: str = "",
    greeting: Greeting | None = None,
    seat: HeldSeat | None = None,
) -> int:
    """Plain mode on this process's standard input and output (``circle join --plain``)."""
    session = PlainSession(
        url,
        StdinLines(),
        write_stdout,
        name=name,
        passcode=passcode,
        key=key,
        greeting=greeting,
        seat=seat,
    )
    return await session.run()


# --- over SSH ---------------------------------------------------------------------------------


async def serve_ssh(channel: PlainChannel) -> None:
    """Plain mode for one SSH session; the seat's credentials are kept for a resume.

    The gateway has already checked the passcode and the name: the seat joins
    with the channel's one-time ticket, and neither is asked for again. A member
    coming back to a seat kept from a plain session resumes exactly (what
    they missed is replayed); from a full-screen session, with the room as it
    is now.
    """
    resume = channel.resume
    if resume is not None and resume.name.casefold() != channel.name.casefold():
        resume = None
    clients: list[ResumableClient] = []

    def make_client(*, name: str, passcode: str, key: str) -> CircleClient:
        client = ResumableClient(
            channel.url,
            name=name,
            passcode=passcode,
            key=key,
            ticket=channel.ticket,
            agreed=True,
            kept=resume if not clients else None,
            on_seated=channel.keep,
        )
        clients.append(client)
        return client

    def joined(client: CircleClient) -> None:
        if channel.seat_code:
            channel.write(seat_code_line(channel.name, channel.seat_code))

    if channel.notice:
        channel.write(channel.notice)
    session = PlainSession(
        channel.url,
        channel,
        channel.write,
        name=channel.name,
        agreed=resume is not None,
        make_client=make_client,
        on_joined=joined,
        locked=True,
    )
    try:
        await session.run()
    finally:
        snapshot = clients[-1].snapshot() if clients else None
        if snapshot is not None:
            channel.keep(snapshot)

"""One live circle: its state, its event log and the sessions listening to it.

Every change goes the same way: ``decide`` -> for each event: apply it, give it
the next ``seq``, encode it **once**, append the bytes to the log and hand the
same bytes to every connection in its audience. Resume is "send the log after
seq N". Nothing here awaits: all of it runs between two awaits of the event
loop, so no two changes interleave and no connection sees events out of order.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import sqlite3
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from websockets.asyncio.connection import Connection
from websockets.asyncio.server import broadcast

from circle_room.protocol.close_codes import CloseCode
from circle_room.protocol.codec import decode, encode
from circle_room.protocol.errors import DecodeError, Refused
from circle_room.protocol.messages import (
    Command,
    CommandFrame,
    Error,
    Event,
    EventFrame,
    Frame,
    Hello,
    LowerHand,
    MemberAdmitted,
    MemberJoined,
    MemberLeft,
    MeToo,
    MeTooCount,
    MeTooSet,
    RaiseHand,
    SendSignal,
    SettingsChanged,
    Share,
    Shared,
    Snapshot,
    Welcome,
)
from circle_room.protocol.model import LeaveReason, Presence, Role, RoomState
from circle_room.protocol.room import apply
from circle_room.server.audience import Audience, Scope, audience_of, view_for
from circle_room.server.config import RelayConfig
from circle_room.server.decide import Disconnect, Expire, Join, Observed, Reconnect, decide
from circle_room.server.limits import TokenBucket
from circle_room.server.store import CircleSnapshot, RoomRecord, Store, hash_secret, new_secret

log = logging.getLogger(__name__)


# A signal is structural: who waits for an answer must outlive a restart.
_NOT_STRUCTURAL = (Shared, MeTooSet, MeTooCount)


def _bucket_name(command: Command) -> str:
    if isinstance(command, Share):
        return "share"
    if isinstance(command, (RaiseHand, LowerHand)):
        return "hand"
    if isinstance(command, MeToo):
        return "metoo"
    if isinstance(command, SendSignal):
        return "signal"
    return "other"


@dataclass(frozen=True)
class LogEntry:
    seq: int
    audience: Audience
    data: bytes
    """The encoded event frame: the exact bytes every recipient got."""
    readers: frozenset[int] | None = None
    """For private events, exactly who could read it when it happened, so a
    member promoted while away is not replayed signals from before."""


@dataclass(eq=False)
class Session:
    """A member's seat, which outlives any one connection during the grace period."""

    member_id: int
    token_hash: str
    ws: Connection | None = None
    buckets: dict[str, TokenBucket] = field(default_factory=dict)
    strikes: int = 0
    expiry: asyncio.TimerHandle | None = None
    since: int = 0
    """Last seq before this member entered the circle: nothing older is replayed to them."""


class LiveRoom:
    def __init__(
        self,
        record: RoomRecord,
        store: Store,
        config: RelayConfig,
        clock: Callable[[], float],
        snapshot: CircleSnapshot | None = None,
    ) -> None:
        self.name = record.name
        self.record = record
        self._store = store
        self._config = config
        self._clock = clock
        self.epoch = secrets.token_hex(8)
        """A new epoch per process: the log (and share text) dies with it."""
        self.seq = 0
        self.log: deque[LogEntry] = deque(maxlen=config.log_size)
        self.sessions: dict[int, Session] = {}
        self._by_token: dict[str, Session] = {}
        self.closing = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.state = RoomState(settings=record.settings)
        if snapshot is not None:
            self._restore(snapshot)

    # --- restoring after a restart ----------------------------------------------

    def _restore(self, snapshot: CircleSnapshot) -> None:
        self.state = snapshot.state
        for member_id, token_hash in snapshot.token_hashes.items():
            if member_id in self.state.members:
                self._add_session(Session(member_id, token_hash))
        # Nobody is connected to a relay that just started: everyone is away
        # (and keeps their place) until they resume or their grace runs out.
        for member in list(self.state.members.values()):
            if member.presence is not Presence.AWAY:
                self._run(member.id, Disconnect())
            if member.id not in self.state.members:
                continue  # Was in the waiting room: nothing to keep.
            if member.id in self.sessions:
                self.sessions[member.id].since = self.seq
                self._start_expiry(self.sessions[member.id])
            else:
                self._run(member.id, Expire())  # No token, so no way back.

    # --- the one way anything changes -------------------------------------------

    def execute(self, member_id: int | None, command: Command | Observed) -> list[Event]:
        """Decide, apply, log and deliver; raise ``Refused`` and change nothing if refused."""
        events = decide(self.state, member_id, command, self._clock())
        self._publish(events)
        return events

    def _run(self, member_id: int, command: Observed) -> None:
        try:
            self.execute(member_id, command)
        except Refused as refused:
            log.debug("room %s: %s ignored: %s", self.name, type(command).__name__, refused)

    def _publish(self, events: list[Event]) -> None:
        structural = False
        # Save first, send after: a relay killed in between must never have told
        # members of a change that the next relay will not restore.
        outbox: list[tuple[list[Connection], bytes]] = []
        for event in events:
            before = self.state
            self.state = apply(self.state, event)
            self.seq += 1
            data = encode(EventFrame(self.seq, event))
            audience = audience_of(event, self.state)
            recipients = self._recipients(audience)
            readers = None
            if audience.scope is not Scope.ALL:
                readers = frozenset(
                    m.id for m in self.state.members.values() if self._may_read(m.id, audience)
                )
            self.log.append(LogEntry(self.seq, audience, data, readers))
            outbox.append((recipients, data))
            self._after(event, before, outbox)
            structural = structural or self._restart_needs(event)
        if structural:
            try:
                self._persist()
            except (sqlite3.Error, OSError) as exc:
                # The meeting goes on; only a crash before the next save loses this.
                log.error("room %s: could not save the circle: %s", self.name, exc)
        for connections, data in outbox:
            broadcast(connections, data)

    def _after(
        self, event: Event, before: RoomState, outbox: list[tuple[list[Connection], bytes]]
    ) -> None:
        """Connection-level consequences of an event; frames go in ``outbox``, in order.

        Closes are tasks, so they run after the outbox is sent.
        """
        if isinstance(event, MemberLeft):
            session = self.sessions.pop(event.member_id, None)
            if session is None:
                return
            self._by_token.pop(session.token_hash, None)
            if session.expiry is not None:
                session.expiry.cancel()
            if event.reason in (LeaveReason.REMOVED, LeaveReason.DENIED):
                if session.ws is not None:
                    self._close(session.ws, CloseCode.REMOVED, "removed from this meeting")
            elif session.ws is not None:
                self._close(session.ws, CloseCode.LEFT, "left")
        elif isinstance(event, MemberAdmitted):
            # The waiting member heard nothing of the circle: give them all of it.
            session = self.sessions.get(event.member_id)
            if session is not None:
                session.since = self.seq
                if session.ws is not None:
                    view = view_for(self.state, session.member_id)
                    outbox.append(([session.ws], encode(Snapshot(self.seq, view))))
        elif isinstance(event, SettingsChanged):
            self._store.save_settings(self.name, event.settings)

    def _restart_needs(self, event: Event) -> bool:
        """Whether a relay restarted after ``event`` must know of it."""
        if isinstance(event, Shared):
            # Only the first share of a turn matters: after it, the holder may
            # no longer pass.
            return self.state.turn is not None and self.state.turn.shares == 1
        return not isinstance(event, _NOT_STRUCTURAL)

    def _recipients(self, audience: Audience) -> list[Connection]:
        return [
            s.ws
            for s in self.sessions.values()
            if s.ws is not None and self._may_read(s.member_id, audience)
        ]

    def _sees(self, session: Session, entry: LogEntry) -> bool:
        if entry.readers is not None:
            return session.member_id in entry.readers
        return self._may_read(session.member_id, entry.audience)

    def _may_read(self, member_id: int, audience: Audience) -> bool:
        if member_id in audience.subjects:
            return True
        member = self.state.members.get(member_id)
        if member is None:
            return False
        if audience.scope is Scope.ALL:
            return member.presence is not Presence.WAITING
        if audience.scope is Scope.FACILITATORS:
            return member.role is not Role.MEMBER
        return False

    def _persist(self) -> None:
        if not self.state.members:
            # The meeting is over: nothing to restore (``apply`` forgot its removals).
            self._store.clear_circle(self.name)
            return
        tokens = {s.member_id: s.token_hash for s in self.sessions.values()}
        self._store.save_circle(self.name, CircleSnapshot(self.state, tokens))

    def connections(self) -> list[Connection]:
        """Every open member connection of this room."""
        return [s.ws for s in self.sessions.values() if s.ws is not None]

    # --- sending ---------------------------------------------------------------------

    @staticmethod
    def send(ws: Connection, frame: Frame) -> None:
        """Queue one frame now, without awaiting, so ordering with broadcasts holds."""
        broadcast([ws], encode(frame))

    def _close(self, ws: Connection, code: int, reason: str) -> None:
        task = asyncio.get_running_loop().create_task(ws.close(code, reason))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- sessions ---------------------------------------------------------------------

    def _add_session(self, session: Session) -> None:
        self.sessions[session.member_id] = session
        self._by_token[session.token_hash] = session

    def join(self, ws: Connection, hello: Hello, role: Role) -> Session:
        """Seat a new member and welcome them; raise ``Refused`` if they cannot join."""
        join = Join(hello.name, role, hello.agreed, self._config.max_members)
        events = decide(self.state, None, join, self._clock())
        joined = events[0]
        assert isinstance(joined, MemberJoined)
        token = new_secret()
        session = Session(joined.member.id, hash_secret(token))
        self._add_session(session)
        self._publish(events)
        session.since = self.seq
        self.send(ws, self._welcome(session, token, hello.version, resumed=False))
        session.ws = ws
        return session

    def _welcome(
        self, session: Session, token: str, version: int, *, resumed: bool, seq: int = -1
    ) -> Welcome:
        return Welcome(
            version=version,
            member_id=session.member_id,
            token=token,
            epoch=self.epoch,
            seq=self.seq if seq < 0 else seq,
            resumed=resumed,
            state=None if resumed else view_for(self.state, session.member_id),
        )

    def resume(self, ws: Connection, hello: Hello) -> Session | None:
        """Give a returning member their seat back, or None if it is gone."""
        assert hello.resume is not None
        resume = hello.resume
        session = self._by_token.get(hash_secret(resume.token))
        if session is None or session.member_id not in self.state.members:
            return None
        if session.ws is not None:
            # The old connection has not noticed it is dead yet; this one wins.
            self._close(session.ws, CloseCode.REPLACED, "replaced by a newer connection")
        if session.expiry is not None:
            session.expiry.cancel()
            session.expiry = None
        first = self.log[0].seq if self.log else self.seq + 1
        # Never replay from before the member entered: a client claiming an
        # older seq must not see shares from before it joined.
        after = max(resume.seq, session.since)
        can_replay = resume.epoch == self.epoch and first - 1 <= after <= self.seq
        version = hello.version
        if can_replay:
            self.send(ws, self._welcome(session, resume.token, version, resumed=True, seq=after))
            for entry in itertools.islice(self.log, max(0, after + 1 - first), None):
                if self._sees(session, entry):
                    broadcast([ws], entry.data)
        else:
            self.send(ws, self._welcome(session, resume.token, version, resumed=False))
        session.ws = ws
        member = self.state.members[session.member_id]
        if member.presence is Presence.AWAY:
            self._run(session.member_id, Reconnect())
        return session

    def disconnected(self, session: Session, ws: Connection) -> None:
        """The connection ``ws`` of ``session`` closed, for whatever reason."""
        if session.ws is not ws:
            return  # Replaced by a newer connection already.
        session.ws = None
        if session.member_id not in self.state.members or self.closing:
            return
        self._run(session.member_id, Disconnect())
        if session.member_id in self.state.members:
            self._start_expiry(session)

    def _start_expiry(self, session: Session) -> None:
        loop = asyncio.get_running_loop()
        session.expiry = loop.call_later(self._config.grace_period, self._expire, session)

    def _expire(self, session: Session) -> None:
        session.expiry = None
        if session.ws is None and session.member_id in self.state.members:
            self._run(session.member_id, Expire())

    # --- frames from members -----------------------------------------------------------

    def _bucket(self, session: Session, name: str) -> TokenBucket:
        bucket = session.buckets.get(name)
        if bucket is None:
            rate = getattr(self._config, f"{name}_rate")
            bucket = session.buckets[name] = TokenBucket(rate, self._clock())
        return bucket

    def _refuse(self, session: Session, ws: Connection, error: Error, *, strike: bool) -> None:
        self.send(ws, error)
        if strike:
            session.strikes += 1
            if session.strikes > self._config.max_strikes:
                self._close(ws, CloseCode.POLICY, "too many bad or excess frames")

    def handle(self, session: Session, ws: Connection, data: bytes | str) -> None:
        """One frame from a member: a command, or something that earns an error."""
        now = self._clock()
        wait = self._bucket(session, "frame").take(now)
        if wait is not None:
            error = Error(0, "rate_limited", "Too many messages; slow down.", round(wait, 2))
            self._refuse(session, ws, error, strike=True)
            return
        if isinstance(data, str):
            error = Error(0, "bad_frame", "Send binary msgpack frames, not text.")
            self._refuse(session, ws, error, strike=True)
            return
        try:
            frame = decode(data)
        except DecodeError as exc:
            self._refuse(session, ws, Error(0, "bad_frame", f"Not understood: {exc}"), strike=True)
            return
        if not isinstance(frame, CommandFrame):
            error = Error(0, "bad_frame", "Only commands are accepted after the welcome.")
            self._refuse(session, ws, error, strike=True)
            return
        wait = self._bucket(session, _bucket_name(frame.command)).take(now)
        if wait is not None:
            message = f"That is a lot at once; try again in {max(1, round(wait))} s."
            error = Error(frame.ref, "rate_limited", message, round(wait, 2))
            self._refuse(session, ws, error, strike=True)
            return
        try:
            self.execute(session.member_id, frame.command)
        except Refused as refused:
            error = Error(frame.ref, refused.code, refused.message, refused.retry_after)
            self._refuse(session, ws, error, strike=False)
            return
        session.strikes = 0

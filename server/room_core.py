"""The room core: one live circle as a state machine that returns effects.

No sockets, no database, no event loop: in the style of websockets' sans-I/O
protocol object, a call takes a command or an observed fact (with ``now``)
and returns the ``server.effects`` to perform, in order. ``server.live_room``
performs them. Every change goes the same way::

    decide -> for each event: apply, next seq, encode once, log, deliver

A command or a join is decided in two steps (``server.change``): ``plan``
works it all out and changes nothing, the shell saves what a restarted relay
must know, then ``commit`` takes it. A save that fails drops the change, so
members are never told of something the disk does not hold, and never miss
something that was decided. A fact about a connection cannot be refused:
``observe`` takes it at once (its ``Save`` first among the effects), and a
save that fails then is made good by the next one, which holds the whole
circle.

The core is usable by a node that did not decide an event: ``follow`` takes
an event frame from the room's log, applies it and returns the same
deliveries (the same bytes to the same members) the deciding core returned.
Both kinds of node answer a returning member with ``resume``.

Calls, by who may make them:

- the node that decides for the room: ``restore``, ``plan_join`` or
  ``plan`` then ``commit`` (or ``join``, ``execute`` at once), ``observe``
  (``Disconnect``, ``Reconnect``, ``Expire``);
- any node holding the room: ``follow``, ``resume``.
"""

from __future__ import annotations

import itertools
from collections import deque

from circle_room.protocol.close_codes import CloseCode
from circle_room.protocol.codec import decode, encode
from circle_room.protocol.errors import LocalProtocolError, Refused, RemoteProtocolError
from circle_room.protocol.errors import OutOfOrder as OutOfOrder  # Raised by ``follow``.
from circle_room.protocol.messages import (
    Command,
    Event,
    EventFrame,
    Hidden,
    MemberAdmitted,
    MemberJoined,
    MemberLeft,
    MeTooCount,
    MeTooSet,
    SettingsChanged,
    Shared,
    Snapshot,
)
from circle_room.protocol.model import LeaveReason, Presence, Role, RoomState, Settings
from circle_room.protocol.room import apply
from circle_room.server.audience import (
    EVERYONE,
    Audience,
    Everyone,
    Scope,
    audience_of,
    may_read,
    readers_of,
    view_for,
)
from circle_room.server.change import Change, Draft
from circle_room.server.change import LogEntry as LogEntry  # Where it was first defined.
from circle_room.server.config import RelayConfig
from circle_room.server.decide import Disconnect, Expire, Join, Reconnect, decide
from circle_room.server.effects import (
    Attach,
    CancelGrace,
    Close,
    Deliver,
    Effect,
    Save,
    StartGrace,
    Vacate,
)
from circle_room.server.journal import Record, for_disk
from circle_room.server.places import Place, Places
from circle_room.server.snapshot import CircleSnapshot
from circle_room.server.versions import COUNT, tag_of

# A signal waiting for an answer is structural (``RoomState.signals``): a
# restarted relay must still show it.
_NOT_STRUCTURAL = (Shared, MeTooSet, MeTooCount)

Fact = Disconnect | Reconnect | Expire
"""What the shell observes about a member's connection."""

UNSAVED_FRAMES = 256
"""Events kept for the next journal record at most; past it, that save writes the circle whole."""


class RoomCore:
    """One live circle: its state, its seq, its event log and its places.

    ``epoch`` names this history: a core restored from a snapshot (whose log
    is gone) must be given a new one.
    """

    def __init__(self, name: str, settings: Settings, config: RelayConfig, epoch: str) -> None:
        self.name = name
        self.epoch = epoch
        self.state = RoomState(settings=settings)
        self.seq = 0
        self.log: deque[LogEntry] = deque(maxlen=config.log_size)
        self.places = Places()
        self._config = config
        self._everyone = Everyone()
        self._unsaved: list[bytes] | None = []
        """Events taken since the last ``Save`` (``journal.for_disk``), for the next
        one's record; None when there were too many to keep."""

    # --- the deciding node ------------------------------------------------------------

    def restore(self, snapshot: CircleSnapshot, now: float) -> list[Effect]:
        """Take up a circle a previous relay saved; call once, on a new core."""
        self.state = snapshot.state
        for member_id, token_hash in snapshot.token_hashes.items():
            if member_id in self.state.members:
                self.places.take(Place(member_id, token_hash, self.seq))
        effects: list[Effect] = []
        # Nobody is connected to a relay that just started: everyone is away
        # (and keeps their place) until they resume or their grace runs out.
        for member in list(self.state.members.values()):
            if member.presence is not Presence.AWAY:
                effects += self._observed(member.id, Disconnect(), now)
            if member.id not in self.state.members:
                continue  # Was in the waiting room: nothing to keep.
            if member.id in self.places:
                self.places.entered(member.id, self.seq)
                effects.append(self._grace(member.id, now))
            else:
                effects += self._observed(member.id, Expire(), now)  # No token, no way back.
        return effects

    def plan_join(self, name: str, role: Role, agreed: bool, token_hash: str, now: float) -> Change:
        """Plan seating a newcomer whose resume token hashes to ``token_hash``.

        Admission is the rule book's (``protocol.admission``, through
        ``decide``). The change's effects end with the ``Attach`` that
        welcomes them. Raises ``Refused`` if they cannot join. Changes
        nothing until ``commit``.
        """
        join = Join(name, role, agreed, self._config.max_members)
        return self._plan(decide(self.state, None, join, now), token_hash)

    def plan(self, member_id: int, command: Command | Fact, now: float) -> Change:
        """Plan carrying out ``command`` from ``member_id``; raise ``Refused`` if refused.

        Changes nothing until ``commit``: save ``Change.save`` (if any) first,
        and commit only if that worked; else drop the change.
        """
        return self._plan(decide(self.state, member_id, command, now))

    def commit(self, change: Change) -> list[Effect]:
        """Take ``change``, planned on this core since its last change; return its effects.

        Raises ``LocalProtocolError`` (and changes nothing) for a change
        planned before another was taken: it was decided on a room that is gone.
        """
        if change.base != self.seq:
            raise LocalProtocolError(f"a change planned at seq {change.base}, now {self.seq}")
        self.state, self.seq = change.state, change.seq
        self.log.extend(change.entries)
        if change.save is not None:
            self._unsaved = []
        elif self._unsaved is not None and change.frames:
            self._unsaved.extend(change.frames)
            if len(self._unsaved) > UNSAVED_FRAMES:
                self._unsaved = None
        if change.places is not None:
            self.places = change.places
        return list(change.effects)

    def join(
        self, name: str, role: Role, agreed: bool, token_hash: str, now: float
    ) -> list[Effect]:
        """``plan_join`` and ``commit`` at once: the ``Save`` comes first, to perform or not."""
        return self._take(self.plan_join(name, role, agreed, token_hash, now))

    def execute(self, member_id: int, command: Command | Fact, now: float) -> list[Effect]:
        """``plan`` and ``commit`` at once: the ``Save`` comes first, to perform or not."""
        return self._take(self.plan(member_id, command, now))

    def observe(self, member_id: int, fact: Fact, now: float) -> list[Effect]:
        """What follows from ``fact`` about ``member_id``'s connection; never raises.

        A fact that no longer fits (an expiry for someone who came back in
        time) changes nothing. After ``Disconnect``, the member's grace starts.
        """
        if isinstance(fact, Expire):
            place = self.places.get(member_id)
            if place is None or place.grace_ends is None:
                return []  # Back in time, or already gone.
        effects = self._observed(member_id, fact, now)
        if isinstance(fact, Disconnect) and member_id in self.state.members:
            effects.append(self._grace(member_id, now))
        return effects

    # --- any node ---------------------------------------------------------------------

    def follow(self, data: bytes, token_hash: str = "") -> list[Effect]:
        """Apply an event decided elsewhere; ``data`` is its encoded ``EventFrame``.

        It must be the event right after ``seq``: another seq raises
        ``OutOfOrder``, a frame that is no event ``RemoteProtocolError``,
        bytes that are no frame ``DecodeError``; each changes nothing.
        ``token_hash`` comes with a ``MemberJoined`` (see
        ``LogEntry.token_hash``). Returns the deliveries the deciding core
        returned for it; saving and grace timers are the decider's part.
        """
        frame = decode(data)
        if not isinstance(frame, EventFrame):
            raise RemoteProtocolError(f"expected an event frame, got {type(frame).__name__}")
        if frame.seq != self.seq + 1:
            raise OutOfOrder(self.seq + 1, frame.seq)
        draft = Draft(self.state, self.seq, self.places)
        effects: list[Effect] = []
        self._step(draft, frame.event, data, token_hash, effects)
        return self.commit(draft.finish(None, effects))

    def resume(
        self, token_hash: str, epoch: str, seq: int, gapless: bool = False, counts: bool = False
    ) -> list[Effect] | None:
        """Give a returning member their place back, or None if it is gone.

        ``epoch`` and ``seq`` are the last ones the member's client saw. The
        ``Attach`` replays what they missed if this log still holds all of it,
        else welcomes them with the room as it is now; ``gapless`` replays a
        ``Hidden`` for each event they may not see; ``counts`` (a version-1
        connection) replays every ``MeTooCount`` too. The shell then reports
        ``Reconnect`` to the deciding node if the member was away.
        """
        place = self.places.find(token_hash)
        if place is None or place.member_id not in self.state.members:
            return None
        member_id = place.member_id
        self.places.away(member_id, None)
        # The old connection may not have noticed it is dead yet; this one wins.
        effects: list[Effect] = [
            Close(member_id, CloseCode.REPLACED, "replaced by a newer connection"),
            CancelGrace(member_id),
        ]
        first = self.log[0].seq if self.log else self.seq + 1
        # Never replay from before the member entered: a client claiming an
        # older seq must not see shares from before it joined.
        after = max(seq, place.since)
        if epoch == self.epoch and first - 1 <= after <= self.seq:
            entries = itertools.islice(self.log, max(0, after + 1 - first), None)

            def sees(entry: LogEntry) -> bool:
                return self._sees(member_id, entry) or (counts and tag_of(entry.data) == COUNT)

            if gapless:
                replay = tuple(e.data if sees(e) else encode(Hidden(e.seq)) for e in entries)
            else:
                replay = tuple(e.data for e in entries if sees(e))
            effects.append(Attach(member_id, token_hash, self.epoch, after, True, None, replay))
        else:
            view = view_for(self.state, member_id)
            effects.append(Attach(member_id, token_hash, self.epoch, self.seq, False, view))
        return effects

    # --- the one way anything changes ---------------------------------------------------

    def _observed(self, member_id: int, fact: Fact, now: float) -> list[Effect]:
        try:
            return self.execute(member_id, fact, now)
        except Refused:
            return []  # The fact is stale (see ``observe``): nothing to do.

    def _grace(self, member_id: int, now: float) -> StartGrace:
        seconds = self._config.grace_period
        self.places.away(member_id, now + seconds)
        return StartGrace(member_id, seconds)

    def _take(self, change: Change) -> list[Effect]:
        effects = self.commit(change)
        return effects if change.save is None else [change.save, *effects]

    def _plan(self, events: list[Event], token_hash: str = "") -> Change:
        draft = Draft(self.state, self.seq, self.places)
        effects: list[Effect] = []
        structural = False
        settings = None
        for event in events:
            structural = self._step(draft, event, None, token_hash, effects) or structural
            if isinstance(event, SettingsChanged):
                settings = event.settings
        save = None
        if structural or settings is not None:
            # Save first, send after: a relay killed in between must never have
            # told members of a change that the next relay will not restore.
            circle = self._snapshot(draft)
            record = None if circle is None else self._record(draft)
            save = Save(circle, settings, record)
        return draft.finish(save, effects)

    def _record(self, draft: Draft) -> Record | None:
        """The journal record of ``draft``'s change: every event since the last ``Save``."""
        if self._unsaved is None:
            return None
        return Record((*self._unsaved, *draft.frames), tuple(draft.tokens))

    def _step(
        self, draft: Draft, event: Event, data: bytes | None, token_hash: str, out: list[Effect]
    ) -> bool:
        """Apply, number, encode (unless ``data`` is given), log and deliver one event.

        Works on ``draft``; appends its effects to ``out``; returns whether a
        restarted relay must know of it.
        """
        before = draft.state
        state = draft.state = apply(before, event)
        self._everyone.carry(before, event, state)
        draft.seq += 1
        seq = draft.seq
        if data is None:
            data = encode(EventFrame(seq, event))
        audience = audience_of(event, state)
        readers = self._readers(audience, state)
        private = None if audience.scope is Scope.ALL else readers
        joiner = token_hash if isinstance(event, MemberJoined) else ""
        draft.entries.append(LogEntry(seq, audience, data, private, joiner))
        draft.frames.append(for_disk(seq, event, data))
        out.append(Deliver(readers, data, frame=EventFrame(seq, event)))
        if private is not None:
            # Everyone else in the circle who asked is told the seq is taken.
            others = self._readers(EVERYONE, state) - readers
            if others:
                out.append(Deliver(others, encode(Hidden(seq)), gapless_only=True))
        if isinstance(event, MemberJoined):
            if token_hash:
                member_id = event.member.id
                draft.changing_places().take(Place(member_id, token_hash, seq))
                draft.tokens.append((member_id, token_hash))
                view = view_for(state, member_id)
                out.append(Attach(member_id, token_hash, self.epoch, seq, False, view))
        elif isinstance(event, MemberLeft):
            self._left(draft, event, out)
        elif isinstance(event, MemberAdmitted):
            # The waiting member heard nothing of the circle: give them all of it.
            draft.changing_places().entered(event.member_id, seq)
            snapshot = encode(Snapshot(seq, view_for(state, event.member_id)))
            out.append(Deliver(frozenset({event.member_id}), snapshot))
        return self._restart_needs(event, state)

    def _left(self, draft: Draft, event: MemberLeft, out: list[Effect]) -> None:
        member_id = event.member_id
        draft.changing_places().give_up(member_id)
        # ``apply`` keeps the removed names in the state, and forgets them
        # when the last person leaves.
        if event.reason in (LeaveReason.REMOVED, LeaveReason.DENIED):
            out.append(Close(member_id, CloseCode.REMOVED, "removed from this meeting"))
        else:
            out.append(Close(member_id, CloseCode.LEFT, "left"))
        out.append(Vacate(member_id, event.reason))

    @staticmethod
    def _restart_needs(event: Event, state: RoomState) -> bool:
        """Whether a relay restarted after ``event`` (which led to ``state``) must know of it."""
        if isinstance(event, Shared):
            # Only the first share of a turn matters: after it, the holder may
            # no longer pass.
            return state.turn is not None and state.turn.shares == 1
        return not isinstance(event, _NOT_STRUCTURAL)

    @staticmethod
    def _snapshot(draft: Draft) -> CircleSnapshot | None:
        if not draft.state.members:
            return None  # Nothing to restore.
        return CircleSnapshot(draft.state, draft.places.token_hashes())

    # --- audience -------------------------------------------------------------------------

    def _readers(self, audience: Audience, state: RoomState) -> frozenset[int]:
        if audience.scope is not Scope.ALL:
            return readers_of(audience, state)
        everyone = self._everyone.of(state)
        return everyone | audience.subjects if audience.subjects else everyone

    def _sees(self, member_id: int, entry: LogEntry) -> bool:
        if entry.readers is not None:
            return member_id in entry.readers
        return may_read(self.state, member_id, entry.audience)

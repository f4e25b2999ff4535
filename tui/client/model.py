"""The meeting as one member sees it: the client's one model, folded once per event.

``CircleClient`` owns a ``Meeting`` and feeds it what the relay sends: the
welcome, each event (``fold``), a fresh copy of the room (``resync``) and the
state of the link. ``fold`` is the only place on the client where an event is
applied (the same ``apply`` the relay runs) and worded (``narrator``); it
returns the ``Received`` update that carries the room before and after and the
sentences, so every skin reads the same state and says the same words. The
model also keeps what the state alone does not hold: the shares heard since
joining and the notes between them, the facilitators' inbox of private
signals (and quiet exits, and which signals were answered), and an estimate
of the relay's clock. ``view(now)`` returns a frozen
``View`` for a full screen. Nothing here does I/O or reads the clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace

from circle_room.protocol.errors import OutOfOrder
from circle_room.protocol.messages import Event, MemberLeft, SignalSeen, SignalSent, Welcome
from circle_room.protocol.model import Presence, RoomState, SignalKind
from circle_room.protocol.room import apply
from circle_room.protocol.text import clean_line
from circle_room.tui.client.narrator import (
    FIRST_NOTE,
    Kind,
    Line,
    name_of,
    narrate,
    note,
    resynced,
)
from circle_room.tui.client.updates import Received, Resynced, Status, StatusChanged
from circle_room.tui.client.view import Link, LogLine, Signal, View

HISTORY = 500
"""Lines kept in the share log; older ones scroll away for good (they were never stored)."""
INBOX = 50
"""Private signals kept for the facilitators."""
LOGGED = frozenset({Kind.SHARE, Kind.NOTE})
"""What the share log keeps; the rest a full screen shows by other means."""


class Meeting:
    """The room as member ``me`` sees it, changed only by what the relay sends."""

    def __init__(
        self, room: str = "", me: int = 0, state: RoomState | None = None, seq: int = 0
    ) -> None:
        """``state`` at ``seq``: the room as it was when last seen (for a resume), if known."""
        self.room = clean_line(room)
        self.me = me
        self.state = state if state is not None else RoomState()
        self.seq = seq
        """The last event folded in (or the seq of the last copy of the room)."""
        self.gapless = False
        """The relay sends every seq (``Welcome.gapless``): a gap is a loss."""
        self.misses = 0
        """Gaps found since the last event that followed on: more than one in a
        row means catching up from our seq did not help."""
        self.link = Link(Status.CONNECTING)
        self._log: deque[LogLine] = deque(maxlen=HISTORY)
        self._inbox: deque[Signal] = deque(maxlen=INBOX)
        self._read_up_to = 0
        self._last_signal: dict[int, SignalKind] = {}
        self._n = 0
        self._offset: float | None = None
        self._keep(note(FIRST_NOTE))

    # --- what the relay sends ---------------------------------------------------------

    def welcomed(self, welcome: Welcome, room: str, *, resuming: bool) -> Resynced | None:
        """Take the seat and the room from ``welcome``.

        A resumed seat keeps its state (the missed events follow); a seat that
        asked to resume but got a fresh room returns the ``Resynced`` to report.
        """
        self.room = clean_line(room)
        self.me = welcome.member_id
        self.gapless = welcome.gapless
        if welcome.resumed:
            self.seq = welcome.seq
            return None
        assert welcome.state is not None
        if resuming:
            return self.resync(welcome.state, welcome.seq, gap=True)
        self.state, self.seq = welcome.state, welcome.seq
        return None

    def fold(self, seq: int, event: Event, local_now: float) -> Received | None:
        """Apply ``event``, the room's event ``seq``, once; None if it was applied already.

        Raises ``OutOfOrder`` (and changes nothing) if an event before it
        never came: then resume from ``seq`` to get it.
        """
        if seq <= self.seq:
            return None  # Belt and braces: the relay never resends.
        self._follows(seq)
        before = self.state
        after = apply(before, event)
        self.state, self.seq = after, seq
        at = getattr(event, "at", None)
        if isinstance(at, float):
            self._observe_clock(at, local_now)
        lines = tuple(narrate(event, before, after, self.me))
        for line in lines:
            if line.kind in LOGGED:
                self._keep(line)
        if isinstance(event, SignalSent) and event.member_id != self.me:
            self._file(
                event.member_id, name_of(after, event.member_id, self.me), event.kind, local_now
            )
            self._last_signal[event.member_id] = event.kind
        elif isinstance(event, SignalSeen):
            self._answered(event.member_id, name_of(after, event.by, self.me))
        elif isinstance(event, MemberLeft):
            self._last_signal.pop(event.member_id, None)
            if any(line.kind is Kind.SIGNAL for line in lines):
                # A quiet exit, which the narrator tells the facilitators alone.
                self._file(event.member_id, lines[0].who, None, local_now)
        return Received(seq, event, before, after, lines)

    def hidden(self, seq: int, span: int = 1) -> None:
        """Events ``seq - span + 1`` to ``seq`` were not for us.

        Raises ``OutOfOrder`` if one before them never came.
        """
        if seq > self.seq:
            self._follows(max(self.seq + 1, seq - max(span, 1) + 1))
            self.seq = seq

    def _follows(self, seq: int) -> None:
        # Only a member in the circle hears of every seq: the waiting room
        # hears only of its own admission.
        me = self.state.members.get(self.me)
        if self.gapless and seq > self.seq + 1 and me and me.presence is not Presence.WAITING:
            self.misses += 1
            raise OutOfOrder(self.seq + 1, seq)
        self.misses = 0

    def resync(self, state: RoomState, seq: int, *, gap: bool) -> Resynced:
        """Replace the room with ``state`` at ``seq``; ``gap``: events were missed."""
        self.state, self.seq = state, seq
        lines = tuple(resynced(gap))
        for line in lines:
            self._keep(line)
        return Resynced(state, gap, self.me, lines)

    def link_changed(self, update: StatusChanged) -> None:
        self.link = Link(update.status, update.attempt, clean_line(update.detail))

    def _observe_clock(self, server_time: float, local_now: float) -> None:
        # An event's time is never later than the relay's now, so the largest
        # difference seen is the best (lower) estimate of the clock offset.
        estimate = server_time - local_now
        if self._offset is None or estimate > self._offset:
            self._offset = estimate

    def _file(self, member_id: int, name: str, kind: SignalKind | None, local_now: float) -> None:
        self._n += 1
        self._inbox.append(Signal(self._n, member_id, name, kind, local_now))

    def _answered(self, member_id: int, by: str) -> None:
        """A facilitator said "seen" to ``member_id``: their signals so far are answered."""
        self._inbox = deque(
            (
                replace(s, seen_by=by)
                if s.member_id == member_id and s.kind is not None and not s.seen_by
                else s
                for s in self._inbox
            ),
            maxlen=INBOX,
        )

    def _keep(self, line: Line) -> None:
        self._n += 1
        self._log.append(LogLine(self._n, line))

    # --- what the skins read -----------------------------------------------------------

    def server_time(self, local_now: float) -> float:
        """The relay's clock now, estimated from the times its events carried."""
        return local_now + (self._offset or 0.0)

    def mark_read(self) -> None:
        """Every private signal received so far stops being marked new."""
        self._read_up_to = self._inbox[-1].n if self._inbox else self._read_up_to

    def view(self, local_now: float, *, join_hint: str = "", hosting: bool = False) -> View:
        """Everything a full screen shows, at ``local_now``."""
        return View(
            room=self.room,
            me=self.me,
            state=self.state,
            now=self.server_time(local_now),
            local_now=local_now,
            link=self.link,
            log=tuple(self._log),
            inbox=tuple(self._inbox),
            read_up_to=self._read_up_to,
            join_hint=join_hint,
            hosting=hosting,
            last_signal=dict(self._last_signal),
        )

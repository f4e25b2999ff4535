"""What the screens show, as plain values: the meeting as this member sees it.

``Meeting`` follows the room from the updates a ``CircleClient`` delivers and
keeps what the state alone does not hold: the shares heard since joining, the
notes that say what happened, the facilitators' inbox of private signals, the
connection status and an estimate of the relay's clock. ``Meeting.view(now)``
returns a frozen ``View`` that the app hands down to its screens; widgets
render a ``View`` and never look anywhere else. Nothing here imports Textual,
so the whole of it is tested without a terminal.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field

from circle_room.protocol.messages import (
    Event,
    HandLowered,
    HandsCleared,
    LockChanged,
    MemberAdmitted,
    MemberJoined,
    MemberLeft,
    Paused,
    Resumed,
    RoleChanged,
    RoundEnded,
    RoundStarted,
    SettingsChanged,
    Shared,
    SignalSent,
    StickGiven,
    StickReleased,
)
from circle_room.protocol.model import (
    LeaveReason,
    Member,
    Presence,
    Release,
    Role,
    RoomState,
    SignalKind,
    Via,
)
from circle_room.protocol.room import apply
from circle_room.protocol.text import clean_block, clean_line
from circle_room.tui.client.connection import Received, Resynced, Status, StatusChanged, Update

HISTORY = 500
"""Lines kept in the share log; older ones scroll away for good (they were never stored)."""
INBOX = 50
"""Private signals kept for the facilitators."""
UNREAD_FOR = 90.0
"""Seconds a private signal is marked new in the facilitators' inbox (unless marked read)."""

SIGNAL_WORDS: dict[SignalKind, str] = {
    SignalKind.CHECK_IN: "I need a check-in",
    SignalKind.STEPPING_OUT: "I'm stepping out for a moment",
    SignalKind.OK: "I'm OK",
}
SIGNAL_TAGS: dict[SignalKind, str] = {
    SignalKind.CHECK_IN: "check-in",
    SignalKind.STEPPING_OUT: "stepped out",
    SignalKind.OK: "OK",
}


class LineKind(enum.Enum):
    SHARE = "share"
    NOTE = "note"


@dataclass(frozen=True)
class LogLine:
    n: int
    """Serial number, so a widget can append only what it has not written yet."""
    kind: LineKind
    text: str
    """Already cleaned: safe to display."""
    speaker: str = ""
    mine: bool = False


@dataclass(frozen=True)
class Signal:
    n: int
    member_id: int
    name: str
    kind: SignalKind
    received: float
    """Local time it arrived."""


@dataclass(frozen=True)
class Link:
    status: Status = Status.CONNECTING
    attempt: int = 0
    detail: str = ""


@dataclass(frozen=True)
class View:
    """Everything a screen needs, at one instant."""

    room: str
    me: int
    state: RoomState
    now: float
    """The relay's time now (estimated), for ``Turn.elapsed_at`` and pause length."""
    local_now: float
    link: Link = Link()
    log: tuple[LogLine, ...] = ()
    inbox: tuple[Signal, ...] = ()
    read_up_to: int = 0
    """Signals up to this serial number were marked read by this facilitator."""
    join_hint: str = ""
    """How members join (shown to the host)."""
    hosting: bool = False
    """This client runs the relay: leaving ends the meeting."""
    last_signal: dict[int, SignalKind] = field(default_factory=dict)

    @property
    def myself(self) -> Member | None:
        return self.state.members.get(self.me)

    @property
    def my_name(self) -> str:
        me = self.myself
        return me.name if me else ""

    @property
    def is_facilitator(self) -> bool:
        return self.state.is_facilitator(self.me)

    @property
    def is_host(self) -> bool:
        me = self.myself
        return me is not None and me.role is Role.FACILITATOR

    @property
    def waiting(self) -> bool:
        me = self.myself
        return me is not None and me.presence is Presence.WAITING

    @property
    def holding(self) -> bool:
        return self.state.holder == self.me and self.me != 0

    @property
    def paused(self) -> bool:
        return self.state.pause is not None

    @property
    def connected(self) -> bool:
        return self.link.status is Status.CONNECTED

    @property
    def can_pass(self) -> bool:
        """Holding the stick without having shared yet: passing needs no reason."""
        turn = self.state.turn
        return self.holding and turn is not None and turn.shares == 0

    @property
    def my_metoo(self) -> bool:
        turn = self.state.turn
        return turn is not None and self.me in turn.metoo

    @property
    def my_hand(self) -> int | None:
        return self.hand_position(self.me)

    def hand_position(self, member_id: int) -> int | None:
        """1-based place in the queue, or None when the hand is down."""
        try:
            return self.state.queue.index(member_id) + 1
        except ValueError:
            return None

    def name(self, member_id: int | None) -> str:
        member = self.state.members.get(member_id) if member_id is not None else None
        return member.name if member else "someone"

    def elapsed(self) -> float:
        turn = self.state.turn
        return turn.elapsed_at(self.now) if turn else 0.0

    def pause_length(self) -> float:
        pause = self.state.pause
        return max(0.0, self.now - pause.since) if pause else 0.0

    def is_new(self, signal: Signal) -> bool:
        """Not marked read, and arrived less than ``UNREAD_FOR`` seconds ago."""
        return signal.n > self.read_up_to and self.local_now - signal.received < UNREAD_FOR

    def unread(self) -> int:
        return sum(1 for s in self.inbox if self.is_new(s))

    def waiting_members(self) -> list[Member]:
        return [m for m in self.state.members.values() if m.presence is Presence.WAITING]


def clock_text(seconds: float) -> str:
    """``75`` -> ``"1:15"``; hours when needed."""
    whole = int(max(0.0, seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def ago(seconds: float) -> str:
    """``"just now"``, ``"4 min ago"``: short, for the facilitators' inbox."""
    minutes = int(max(0.0, seconds) // 60)
    return "just now" if minutes == 0 else f"{minutes} min ago"


def calm_duration(seconds: float) -> str:
    """Pause lengths in words that do not tick loudly: "less than a minute", "3 minutes"."""
    minutes = int(max(0.0, seconds) // 60)
    if minutes == 0:
        return "less than a minute"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


class Meeting:
    """The meeting as seen by member ``me``, updated one ``Update`` at a time."""

    def __init__(
        self,
        room: str,
        me: int,
        state: RoomState,
        *,
        join_hint: str = "",
        hosting: bool = False,
    ) -> None:
        self.room = clean_line(room)
        self.me = me
        self.state = state
        self.link = Link(Status.CONNECTED)
        self.join_hint = join_hint
        self.hosting = hosting
        self._log: deque[LogLine] = deque(maxlen=HISTORY)
        self._inbox: deque[Signal] = deque(maxlen=INBOX)
        self._read_up_to = 0
        self._last_signal: dict[int, SignalKind] = {}
        self._n = 0
        self._offset: float | None = None
        self._note(
            "Shares from now on appear here. Nothing is kept after the meeting: "
            "what is shared here stays here."
        )

    # --- following the room --------------------------------------------------------

    def receive(self, update: Update, local_now: float) -> None:
        if isinstance(update, Received):
            self._event(update.event, local_now)
        elif isinstance(update, Resynced):
            was_waiting = self._waiting()
            self.state = update.state
            if update.member_id:
                self.me = update.member_id
            if update.gap:
                self._note("Reconnected. What was shared while you were away was not kept.")
            elif was_waiting and not self._waiting():
                self._note("You are in the circle. Welcome.")
        elif isinstance(update, StatusChanged):
            self.link = Link(update.status, update.attempt, clean_line(update.detail))
        # An Error is shown as a passing notice by the app, not kept.

    def _waiting(self) -> bool:
        me = self.state.members.get(self.me)
        return me is not None and me.presence is Presence.WAITING

    def _event(self, event: Event, local_now: float) -> None:
        before = self.state
        self.state = apply(before, event)
        at = getattr(event, "at", None)
        if isinstance(at, float):
            self._observe_clock(at, local_now)
        self._describe(event, before, local_now)

    def _observe_clock(self, server_time: float, local_now: float) -> None:
        # An event's time is never later than the relay's now, so the largest
        # difference seen is the best (lower) estimate of the clock offset.
        estimate = server_time - local_now
        if self._offset is None or estimate > self._offset:
            self._offset = estimate

    def server_time(self, local_now: float) -> float:
        return local_now + (self._offset or 0.0)

    def _name(self, state: RoomState, member_id: int | None) -> str:
        if member_id == self.me:
            return "You"
        member = state.members.get(member_id) if member_id is not None else None
        return member.name if member else "Someone"

    def _describe(self, event: Event, before: RoomState, local_now: float) -> None:
        after = self.state
        if isinstance(event, Shared):
            speaker = self._name(before, event.member_id)
            self._add(LineKind.SHARE, clean_block(event.text), speaker, event.member_id == self.me)
        elif isinstance(event, StickGiven):
            who = self._name(after, event.member_id)
            how = {Via.ROUND: " (round)", Via.FACILITATOR: "", Via.QUEUE: ""}[event.via]
            verb = "have" if event.member_id == self.me else "has"
            self._note(f"{who} {verb} the stick{how}.")
        elif isinstance(event, StickReleased):
            if event.reason is Release.PASSED:
                self._note(f"{self._name(before, event.member_id)} passed.")
        elif isinstance(event, MemberJoined):
            member = event.member
            if member.id == self.me:
                return
            if member.presence is Presence.WAITING:
                self._note(f"{member.name} is in the waiting room.")
            else:
                self._note(f"{member.name} joined.")
        elif isinstance(event, MemberAdmitted):
            if event.member_id != self.me:
                self._note(f"{self._name(after, event.member_id)} joined from the waiting room.")
        elif isinstance(event, MemberLeft):
            self._left(event, before)
        elif isinstance(event, Paused):
            message = clean_line(event.message)
            self._note(f"{self._name(before, event.by)} paused the circle: {message}")
        elif isinstance(event, Resumed):
            self._note("The circle resumed.")
        elif isinstance(event, RoundStarted):
            self._note(
                f"{self._name(before, event.by)} started a round: "
                "each person in turn shares or passes."
            )
        elif isinstance(event, RoundEnded):
            if event.by is None:
                self._note("The round is complete.")
            else:
                self._note(f"{self._name(before, event.by)} ended the round.")
        elif isinstance(event, LockChanged):
            self._note(
                "The room is locked: nobody new can join."
                if event.locked
                else "The room is open again."
            )
        elif isinstance(event, RoleChanged):
            who = self._name(after, event.member_id)
            role = "a co-facilitator" if event.role is Role.COFACILITATOR else "a member"
            self._note(f"{who} {'are' if event.member_id == self.me else 'is'} now {role}.")
        elif isinstance(event, HandsCleared):
            self._note(f"{self._name(before, event.by)} lowered all hands.")
        elif isinstance(event, HandLowered):
            if event.member_id == self.me and event.by != self.me:
                self._note(f"{self._name(before, event.by)} lowered your hand.")
        elif isinstance(event, SettingsChanged):
            if event.settings.share_limit != before.settings.share_limit:
                limit = event.settings.share_limit
                self._note(
                    f"Suggested time per share: {clock_text(limit)}."
                    if limit
                    else "There is no suggested time per share now."
                )
            if event.settings.agreements != before.settings.agreements:
                self._note("The group agreements were updated: press ? to read them.")
        elif isinstance(event, SignalSent):
            self._signal(event, local_now)

    def _left(self, event: MemberLeft, before: RoomState) -> None:
        name = self._name(before, event.member_id)
        if event.reason is LeaveReason.LEFT:
            self._note(f"{name} left.")
        elif event.reason is LeaveReason.TIMED_OUT:
            self._note(f"{name} could not reconnect in time and has left.")
        elif event.reason is LeaveReason.REMOVED:
            self._note(f"{name} was removed from the meeting.")
        elif event.reason is LeaveReason.DENIED:
            self._note(f"{name} was not admitted.")
        # A quiet exit is not announced.
        self._last_signal.pop(event.member_id, None)

    def _signal(self, event: SignalSent, local_now: float) -> None:
        if event.member_id == self.me:
            self._note(f"Sent to the facilitators only: {SIGNAL_WORDS[event.kind]}.")
            return
        self._n += 1
        name = self._name(self.state, event.member_id)
        self._inbox.append(Signal(self._n, event.member_id, name, event.kind, local_now))
        self._last_signal[event.member_id] = event.kind

    def _add(self, kind: LineKind, text: str, speaker: str = "", mine: bool = False) -> None:
        self._n += 1
        self._log.append(LogLine(self._n, kind, text, speaker, mine))

    def _note(self, text: str) -> None:
        self._add(LineKind.NOTE, clean_line(text))

    def mark_read(self) -> None:
        """Every private signal received so far stops being marked new."""
        self._read_up_to = self._inbox[-1].n if self._inbox else self._read_up_to

    # --- what the screens see --------------------------------------------------------

    def view(self, local_now: float) -> View:
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
            join_hint=self.join_hint,
            hosting=self.hosting,
            last_signal=dict(self._last_signal),
        )

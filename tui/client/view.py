"""What a full screen shows, as plain values: the meeting as this member sees it.

``Meeting.view(now)`` (``tui.client.model``) returns a frozen ``View`` that
the app hands down to its screens; widgets render a ``View`` and never look
anywhere else. Nothing here imports Textual, so the whole of it is tested
without a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from circle_room.protocol.model import Member, Presence, Role, RoomState, SignalKind
from circle_room.tui.client.narrator import Line
from circle_room.tui.client.updates import Status
from circle_room.tui.client.words import QUIET_EXIT_TAG, SIGNAL_TAGS

UNREAD_FOR = 90.0
"""Seconds a private signal is marked new in the facilitators' inbox (unless marked read)."""


@dataclass(frozen=True)
class LogLine:
    """A line of the share log: a share, or a note of what happened in between."""

    n: int
    """Serial number, so a widget can append only what it has not written yet."""
    line: Line
    """Already cleaned: safe to display."""


@dataclass(frozen=True)
class Signal:
    """An entry in the facilitators' inbox: a private signal, or a quiet exit."""

    n: int
    member_id: int
    name: str
    kind: SignalKind | None
    """The signal; ``None`` for a quiet exit, which is told to the facilitators alone."""
    received: float
    """Local time it arrived."""
    seen_by: str = ""
    """Who answered "seen" ("You" for oneself, cleaned); "" while nobody has."""

    @property
    def tag(self) -> str:
        """What it was, in a word or two, for a narrow inbox."""
        return QUIET_EXIT_TAG if self.kind is None else SIGNAL_TAGS[self.kind]


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
        """Not answered, not marked read, and arrived less than ``UNREAD_FOR`` seconds ago."""
        if signal.seen_by:
            return False
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

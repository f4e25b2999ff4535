"""What each event means to one member, in words: the one narrator of every skin.

``narrate(event, before, after, me)`` says what an event means to member
``me`` as a few ``Line``s. The full-screen app's share log and plain line
mode print the same sentences; a skin only chooses which ``Kind`` of line it
shows (a full screen shows hands and "me too" elsewhere, so it skips
``DETAIL``) and how it words a ``Hint`` (a key, or a slash command).

Nothing here does I/O or reads the clock. Every sentence is one line, reads
like speech ("Dana has the stick.") and is built only from cleaned text
(``protocol.text``, and the small words of ``tui.client.words``), so nobody's
name or share can move a cursor, recolour a screen or confuse a screen reader.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from circle_room.protocol.messages import (
    Event,
    HandLowered,
    HandMoved,
    HandRaised,
    HandsCleared,
    LockChanged,
    MemberAdmitted,
    MemberAway,
    MemberBack,
    MemberJoined,
    MemberLeft,
    MeTooCount,
    MeTooSet,
    Paused,
    Resumed,
    RoleChanged,
    RoundEnded,
    RoundStarted,
    SettingsChanged,
    Shared,
    SignalSeen,
    SignalSent,
    StickGiven,
    StickReleased,
)
from circle_room.protocol.model import (
    LeaveReason,
    Presence,
    Release,
    Role,
    RoomState,
    Via,
)
from circle_room.protocol.text import clean_block, clean_line
from circle_room.tui.client.words import SIGNAL_TAGS as SIGNAL_TAGS
from circle_room.tui.client.words import SIGNAL_WORDS as SIGNAL_WORDS
from circle_room.tui.client.words import join_names as join_names
from circle_room.tui.client.words import minutes_text as minutes_text
from circle_room.tui.client.words import name_of as name_of
from circle_room.tui.client.words import ordinal as ordinal
from circle_room.tui.client.words import people as people

FIRST_NOTE = (
    "Shares from now on appear here. Nothing is kept after the meeting: "
    "what is shared here stays here."
)
MISSED = "You missed part of the meeting while you were away; what was shared then was not kept."
"""Said after a reconnection that could not replay what was missed."""


class Kind(enum.Enum):
    SHARE = "share"
    """Words shared in the circle: ``who`` said ``text`` (a cleaned block, line breaks kept)."""
    NOTE = "note"
    """What happened, worth a line on every screen."""
    DETAIL = "detail"
    """What a full screen shows by other means (hands, me too, who is away)."""
    SIGNAL = "signal"
    """Told to the facilitators alone (a private signal, its answer, a quiet exit);
    a full screen files these in its inbox."""


class Hint(enum.Enum):
    """Something the member can do about a line; each skin words it for its own keys."""

    SHARE = "share"
    """You hold the stick: share, then yield it, or pass."""
    ADMIT = "admit"
    """``who`` waits to be let in (told to facilitators only)."""
    AGREEMENTS = "agreements"
    """The group agreements changed: read them again."""
    ANSWER = "answer"
    """``who`` sent a private signal: tell them it was seen (facilitators only)."""


@dataclass(frozen=True)
class Line:
    """One sentence about the room, safe to show as it is."""

    kind: Kind
    text: str
    who: str = ""
    """For a share, the speaker ("You" for oneself); for ``Kind.SIGNAL`` and
    ``Hint.ADMIT``, the member it is about."""
    hint: Hint | None = None


def note(text: str, hint: Hint | None = None, who: str = "") -> Line:
    return Line(Kind.NOTE, text, who, hint)


def detail(text: str) -> Line:
    return Line(Kind.DETAIL, text)


# --- small words (the rest are ``tui.client.words``') -----------------------------------


def _verb(subject: str, you: str, them: str) -> str:
    return you if subject == "You" else them


# --- events -> lines ----------------------------------------------------------------------


def narrate(event: Event, before: RoomState, after: RoomState, me: int) -> list[Line]:
    """What ``event`` means to member ``me``, as zero or more lines.

    ``before`` and ``after`` are the room around the event as this member sees it.
    """
    tell = _NARRATORS.get(type(event))
    return tell(event, before, after, me) if tell is not None else []


def resynced(gap: bool) -> list[Line]:
    """What a fresh copy of the room means: words only when something was missed."""
    return [note(MISSED)] if gap else []


def _shared(event: Shared, before: RoomState, after: RoomState, me: int) -> list[Line]:
    return [Line(Kind.SHARE, clean_block(event.text), name_of(before, event.member_id, me))]


def _stick_given(event: StickGiven, before: RoomState, after: RoomState, me: int) -> list[Line]:
    who = name_of(after, event.member_id, me)
    how = " in the round" if event.via is Via.ROUND else ""
    if event.via is Via.FACILITATOR and event.by is not None and event.by != event.member_id:
        text = f"{name_of(after, event.by, me)} gave the stick to {who if who != 'You' else 'you'}."
    else:
        text = f"{who} {_verb(who, 'have', 'has')} the stick{how}."
    if event.member_id != me:
        return [note(text)]
    if after.pause is not None:
        return [note(text), detail("The circle is paused; you can share once it resumes.")]
    return [note(text, Hint.SHARE)]


def _stick_released(
    event: StickReleased, before: RoomState, after: RoomState, me: int
) -> list[Line]:
    who = name_of(before, event.member_id, me)
    if event.reason is Release.PASSED:
        return [note(f"{who} passed.")]
    if event.reason is Release.YIELDED:
        return [note(f"{who} yielded the stick.")]
    if event.reason is Release.TAKEN and event.member_id == me and not before.is_facilitator(me):
        return [note("A facilitator took the stick back from you.")]
    return []


def _metoo_set(event: MeTooSet, before: RoomState, after: RoomState, me: int) -> list[Line]:
    if event.member_id == me:
        return [detail("You said me too." if event.on else "You took back your me too.")]
    if after.holder == me and event.on:
        return [detail(f"{name_of(after, event.member_id, me)} said me too.")]
    return []


def _metoo_count(event: MeTooCount, before: RoomState, after: RoomState, me: int) -> list[Line]:
    return [detail(f"{people(event.count)} said me too.")] if after.holder == me else []


def _hand_raised(event: HandRaised, before: RoomState, after: RoomState, me: int) -> list[Line]:
    queue = after.queue
    place = ordinal(queue.index(event.member_id) + 1) if event.member_id in queue else ""
    if event.member_id == me:
        return [detail(f"Your hand is raised; you are {place} in the queue.")]
    return [detail(f"{name_of(after, event.member_id, me)} raised a hand ({place} in the queue).")]


def _hand_lowered(event: HandLowered, before: RoomState, after: RoomState, me: int) -> list[Line]:
    who = name_of(before, event.member_id, me)
    if event.by == event.member_id:
        return [detail("You lowered your hand." if who == "You" else f"{who} lowered their hand.")]
    by = name_of(before, event.by, me)
    whose = "your" if who == "You" else f"{who}'s"
    # Someone else lowering your hand is news; the rest shows in the queue.
    line = note if who == "You" else detail
    return [line(f"{by} lowered {whose} hand.")]


def _hands_cleared(event: HandsCleared, before: RoomState, after: RoomState, me: int) -> list[Line]:
    return [note(f"{name_of(before, event.by, me)} lowered all hands.")]


def _hand_moved(event: HandMoved, before: RoomState, after: RoomState, me: int) -> list[Line]:
    who = name_of(after, event.member_id, me, you="your")
    whose = "your" if who == "your" else f"{who}'s"
    place = ordinal(event.position + 1)
    line = note if event.member_id == me else detail
    return [line(f"{name_of(after, event.by, me)} moved {whose} hand to {place} in the queue.")]


def _paused(event: Paused, before: RoomState, after: RoomState, me: int) -> list[Line]:
    # The role, not the person: a pause is the circle's, not someone's mood.
    by = "You" if event.by == me else "The facilitator"
    message = clean_line(event.message)
    return [note(f"{by} paused the circle: {message}" if message else f"{by} paused the circle.")]


def _resumed(event: Resumed, before: RoomState, after: RoomState, me: int) -> list[Line]:
    return [note("You resumed the circle." if event.by == me else "The circle resumed.")]


def _joined(event: MemberJoined, before: RoomState, after: RoomState, me: int) -> list[Line]:
    if event.member.id == me:
        return []
    name = clean_line(event.member.name) or "Someone"
    if event.member.presence is not Presence.WAITING:
        return [note(f"{name} joined.")]
    if after.is_facilitator(me):
        return [note(f"{name} is in the waiting room.", Hint.ADMIT, name)]
    return []


def _admitted(event: MemberAdmitted, before: RoomState, after: RoomState, me: int) -> list[Line]:
    if event.member_id == me:
        return [note("You are in the circle. Welcome.")]
    return [note(f"{name_of(after, event.member_id, me)} joined from the waiting room.")]


def _away(event: MemberAway, before: RoomState, after: RoomState, me: int) -> list[Line]:
    if event.member_id == me:
        return []
    who = name_of(after, event.member_id, me)
    return [detail(f"{who} lost their connection; their place is kept.")]


def _back(event: MemberBack, before: RoomState, after: RoomState, me: int) -> list[Line]:
    if event.member_id == me:
        return []
    return [detail(f"{name_of(after, event.member_id, me)} is back.")]


def _left(event: MemberLeft, before: RoomState, after: RoomState, me: int) -> list[Line]:
    if event.member_id == me:
        if event.reason is LeaveReason.REMOVED:
            return [note("A facilitator removed you from this meeting.")]
        if event.reason is LeaveReason.DENIED:
            return [note("A facilitator did not admit you to this meeting.")]
        return []
    who = name_of(before, event.member_id, me)
    leaving = before.members.get(event.member_id)
    if event.reason is LeaveReason.QUIET:
        # Never announced to the circle; the facilitators are told, privately,
        # that someone left their seat (not someone who only waited).
        seated = leaving is not None and leaving.presence is not Presence.WAITING
        told = seated and before.is_facilitator(me)
        return [Line(Kind.SIGNAL, f"{who} left quietly.", who)] if told else []
    if event.reason is LeaveReason.TIMED_OUT and event.by is not None:
        if event.by == me:
            return [note(f"You released {who}'s seat; the name is free again.")]
        by = name_of(before, event.by, me)
        return [note(f"{by} released {who}'s seat while they were away.")]
    said = {
        LeaveReason.LEFT: f"{who} left.",
        LeaveReason.TIMED_OUT: f"{who} could not reconnect in time and has left.",
        LeaveReason.REMOVED: f"{who} was removed from the meeting.",
        LeaveReason.DENIED: f"{who} was not admitted.",
    }
    return [note(said[event.reason])]


def _round_started(event: RoundStarted, before: RoomState, after: RoomState, me: int) -> list[Line]:
    order = join_names([name_of(after, m, me, you="you") for m in event.order])
    by = name_of(before, event.by, me)
    return [note(f"{by} started a round: each person in turn shares or passes. Order: {order}.")]


def _round_ended(event: RoundEnded, before: RoomState, after: RoomState, me: int) -> list[Line]:
    if event.by is None:
        return [note("The round is complete.")]
    return [note(f"{name_of(before, event.by, me)} ended the round.")]


def _lock(event: LockChanged, before: RoomState, after: RoomState, me: int) -> list[Line]:
    if event.locked:
        return [note("The room is locked: nobody new can join.")]
    return [note("The room is open again.")]


_ROLES = {
    Role.MEMBER: "a member",
    Role.COFACILITATOR: "a co-facilitator",
    Role.FACILITATOR: "the facilitator",
}


def _role(event: RoleChanged, before: RoomState, after: RoomState, me: int) -> list[Line]:
    who = name_of(after, event.member_id, me)
    return [note(f"{who} {_verb(who, 'are', 'is')} now {_ROLES[event.role]}.")]


def _settings(event: SettingsChanged, before: RoomState, after: RoomState, me: int) -> list[Line]:
    old, new = before.settings, event.settings
    lines = []
    if new.share_limit != old.share_limit:
        if new.share_limit:
            lines.append(note(f"Suggested time per share: {minutes_text(new.share_limit)}."))
        else:
            lines.append(note("There is no suggested time per share now."))
    if new.waiting_room != old.waiting_room:
        lines.append(
            note(
                "Since someone was removed, newcomers now wait until a facilitator admits "
                "them. You can turn the waiting room off in the settings."
                if event.after_removal and after.is_facilitator(me)
                else "Newcomers now wait until a facilitator admits them."
                if new.waiting_room
                else "Newcomers now join directly."
            )
        )
    if new.auto_pass != old.auto_pass:
        lines.append(
            note(
                "The stick now goes to the next raised hand by itself."
                if new.auto_pass
                else "The facilitator now passes the stick to the next person."
            )
        )
    if new.agreements != old.agreements:
        lines.append(note("The group agreements were updated.", Hint.AGREEMENTS))
    return lines


def _signal(event: SignalSent, before: RoomState, after: RoomState, me: int) -> list[Line]:
    words = SIGNAL_WORDS[event.kind]
    if event.member_id == me:
        return [note(f"Sent to the facilitators only: {words}.")]
    who = name_of(after, event.member_id, me)
    return [Line(Kind.SIGNAL, f"Private signal from {who}: {words}.", who, Hint.ANSWER)]


def _signal_seen(event: SignalSeen, before: RoomState, after: RoomState, me: int) -> list[Line]:
    if event.member_id == me:
        return [note("A facilitator has seen your signal.")]
    who = name_of(after, event.member_id, me)
    if event.by == me:
        return [Line(Kind.SIGNAL, f"You let {who} know you saw their signal.", who)]
    by = name_of(after, event.by, me)
    return [Line(Kind.SIGNAL, f"{by} let {who} know their signal was seen.", who)]


_NARRATORS: dict[type, Callable[[Any, RoomState, RoomState, int], list[Line]]] = {
    Shared: _shared,
    StickGiven: _stick_given,
    StickReleased: _stick_released,
    MeTooSet: _metoo_set,
    MeTooCount: _metoo_count,
    HandRaised: _hand_raised,
    HandLowered: _hand_lowered,
    HandsCleared: _hands_cleared,
    HandMoved: _hand_moved,
    Paused: _paused,
    Resumed: _resumed,
    MemberJoined: _joined,
    MemberAdmitted: _admitted,
    MemberAway: _away,
    MemberBack: _back,
    MemberLeft: _left,
    RoundStarted: _round_started,
    RoundEnded: _round_ended,
    LockChanged: _lock,
    RoleChanged: _role,
    SettingsChanged: _settings,
    SignalSent: _signal,
    SignalSeen: _signal_seen,
}

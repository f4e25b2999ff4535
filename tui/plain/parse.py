"""Plain line mode, typed lines to actions: ``parse(line, state, me)``.

Nothing here does I/O. A line becomes an ``Action``: ``Send`` a command,
``Say`` something back locally (built with the narrator), or ``Quit``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from circle_room.protocol.errors import Refused
from circle_room.protocol.messages import (
    Admit,
    ChangeSettings,
    Command,
    GiveStick,
    Lock,
    LowerAllHands,
    LowerHand,
    MeToo,
    Pass,
    PauseCircle,
    RaiseHand,
    Remove,
    ResumeCircle,
    SendSignal,
    Share,
    StartRound,
    StopRound,
    TakeStick,
    Yield,
)
from circle_room.protocol.model import (
    Member,
    RoomState,
)
from circle_room.protocol.text import checked_share, clean_line
from circle_room.tui.plain.describe import SIGNALS, name_of, ordinal, status_lines, who_line

MEMBER_HELP: tuple[str, ...] = (
    "Commands: /hand raise your hand, /lower lower it, /metoo say me too to the share,",
    "/yield when you are done sharing, /pass to pass the stick on,",
    "/signal checkin, /signal out or /signal ok to tell the facilitators alone,",
    "/who who is here, /queue who is waiting to share, /help this list,",
    "/quit leave (/quit quiet leaves without an announcement).",
    "When you hold the stick, any other line you type is shared with the circle.",
)
FACILITATOR_HELP: tuple[str, ...] = (
    "Facilitator: /pause MESSAGE, /resume, /give NAME, /take, /lower NAME or /lower all,",
    "/remove NAME, /round start, /round stop, /lock, /unlock, /admit NAME,",
    "/limit MINUTES (0 for no suggested time per share).",
)


# --- what the loop is asked to do ---------------------------------------------------


@dataclass(frozen=True)
class Send:
    """Send ``command`` to the room."""

    command: Command


@dataclass(frozen=True)
class Say:
    """Answer locally with these lines; nothing goes to the room."""

    lines: tuple[str, ...]


@dataclass(frozen=True)
class Quit:
    """Leave the meeting (quietly: without an announcement)."""

    quiet: bool = False


Action = Send | Say | Quit


def say(*lines: str) -> Say:
    return Say(tuple(lines))


# --- typed lines -> actions -------------------------------------------------------------------


def parse(line: str, state: RoomState, me: int) -> Action | None:
    """What the member meant by ``line``; None for a blank line."""
    text = line.rstrip("\r\n")
    if not text.strip():
        return None
    if text.startswith("//"):
        return _share(text[1:], state, me)
    if not text.startswith("/"):
        return _share(text, state, me)
    word, _, rest = text[1:].strip().partition(" ")
    word, rest = word.lower(), rest.strip()
    if word in _MEMBER_COMMANDS:
        return _MEMBER_COMMANDS[word](rest, state, me)
    if word in _FACILITATOR_COMMANDS:
        if not state.is_facilitator(me):
            return say("Only a facilitator can do that.")
        return _FACILITATOR_COMMANDS[word](rest, state, me)
    return say(f"There is no command /{clean_line(word)}. Type /help for the commands.")


def _share(text: str, state: RoomState, me: int) -> Action:
    if state.holder != me:
        if state.holder is None:
            return say(
                "Only the person holding the stick shares, and nobody holds it now. "
                "Type /hand to raise your hand."
            )
        holder = name_of(state, state.holder, me)
        return say(
            f"{holder} has the stick, so your words were not sent. "
            "Type /hand to raise your hand, or /metoo if you feel the same."
        )
    if state.pause is not None:
        return say("The circle is paused; your words were not sent. Share again once it resumes.")
    try:
        checked_share(text)
    except Refused as refused:
        return say(refused.message)
    return Send(Share(text))


def _hand(rest: str, state: RoomState, me: int) -> Action:
    if state.holder == me:
        return say("You hold the stick; there is no need to raise a hand.")
    if me in state.queue:
        place = ordinal(state.queue.index(me) + 1)
        return say(f"Your hand is already raised; you are {place}. /lower lowers it.")
    return Send(RaiseHand())


def _lower(rest: str, state: RoomState, me: int) -> Action:
    if not rest:
        if me not in state.queue:
            return say("Your hand is not raised.")
        return Send(LowerHand())
    if not state.is_facilitator(me):
        return say("Only a facilitator can lower someone else's hand.")
    if rest.lower() == "all":
        return Send(LowerAllHands())
    target = _find(state, rest)
    if isinstance(target, Say):
        return target
    return Send(LowerHand(target.id))


def _metoo(rest: str, state: RoomState, me: int) -> Action:
    turn = state.turn
    if turn is None:
        return say("Nobody is sharing right now.")
    if turn.holder == me:
        return say("This is your own share.")
    return Send(MeToo(turn.id, me not in turn.metoo))


def _yield(rest: str, state: RoomState, me: int) -> Action:
    if state.holder != me:
        return say("You do not hold the stick.")
    return Send(Yield())


def _pass(rest: str, state: RoomState, me: int) -> Action:
    if state.holder != me:
        return say("You do not hold the stick, so there is nothing to pass.")
    if state.turn is not None and state.turn.shares:
        return Send(Yield())  # Already shared: passing on is yielding.
    return Send(Pass())


def _signal(rest: str, state: RoomState, me: int) -> Action:
    kind = SIGNALS.get(rest.lower())
    if kind is None:
        return say("Say /signal checkin, /signal out or /signal ok.")
    return Send(SendSignal(kind))


def _who(rest: str, state: RoomState, me: int) -> Action:
    return say(who_line(state, me))


def _queue(rest: str, state: RoomState, me: int) -> Action:
    return Say(tuple(status_lines(state, me)))


def _help(rest: str, state: RoomState, me: int) -> Action:
    if state.is_facilitator(me):
        return Say(MEMBER_HELP + FACILITATOR_HELP)
    return Say(MEMBER_HELP)


def _quit(rest: str, state: RoomState, me: int) -> Action:
    return Quit(quiet=rest.lower() == "quiet")


def _pause_cmd(rest: str, state: RoomState, me: int) -> Action:
    if state.pause is not None:
        return say("The circle is already paused. /resume resumes it.")
    return Send(PauseCircle(rest))


def _resume_cmd(rest: str, state: RoomState, me: int) -> Action:
    if state.pause is None:
        return say("The circle is not paused.")
    return Send(ResumeCircle())


def _give(rest: str, state: RoomState, me: int) -> Action:
    if not rest:
        return say("Say who: /give NAME.")
    target = _find(state, rest)
    return target if isinstance(target, Say) else Send(GiveStick(target.id))


def _take(rest: str, state: RoomState, me: int) -> Action:
    return Send(TakeStick())


def _remove(rest: str, state: RoomState, me: int) -> Action:
    if not rest:
        return say("Say who: /remove NAME.")
    target = _find(state, rest)
    return target if isinstance(target, Say) else Send(Remove(target.id))


def _round(rest: str, state: RoomState, me: int) -> Action:
    if rest.lower() == "start":
        return Send(StartRound())
    if rest.lower() == "stop":
        return Send(StopRound())
    return say("Say /round start or /round stop.")


def _lock(rest: str, state: RoomState, me: int) -> Action:
    return Send(Lock(True))


def _unlock(rest: str, state: RoomState, me: int) -> Action:
    return Send(Lock(False))


def _admit(rest: str, state: RoomState, me: int) -> Action:
    if not rest:
        return say("Say who: /admit NAME.")
    target = _find(state, rest)
    return target if isinstance(target, Say) else Send(Admit(target.id))


def _limit(rest: str, state: RoomState, me: int) -> Action:
    try:
        minutes = float(rest)
    except ValueError:
        return say("Say how many minutes: /limit 5, or /limit 0 for none.")
    if not 0 <= minutes <= 180:
        return say("The suggested time per share must be between 0 and 180 minutes.")
    settings = replace(state.settings, share_limit=round(minutes * 60))
    return Send(ChangeSettings(settings))


def _find(state: RoomState, name: str) -> Member | Say:
    member = state.find_name(clean_line(name))
    if member is None:
        return say(f"Nobody here is called {clean_line(name)}. /who lists who is here.")
    return member


_MEMBER_COMMANDS = {
    "hand": _hand,
    "raise": _hand,
    "lower": _lower,
    "metoo": _metoo,
    "yield": _yield,
    "done": _yield,
    "pass": _pass,
    "signal": _signal,
    "who": _who,
    "queue": _queue,
    "help": _help,
    "quit": _quit,
    "exit": _quit,
}
_FACILITATOR_COMMANDS = {
    "pause": _pause_cmd,
    "resume": _resume_cmd,
    "give": _give,
    "take": _take,
    "remove": _remove,
    "round": _round,
    "lock": _lock,
    "unlock": _unlock,
    "admit": _admit,
    "limit": _limit,
}

"""Plain line mode, typed lines to actions: ``parse(line, state, me)``.

Nothing here does I/O. A line becomes an ``Action``: ``Send`` a command,
``Say`` something back locally (built with the narrator), or ``Quit``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from circle_room.protocol.errors import Refused
from circle_room.protocol.messages import (
    AckSignal,
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
    ReleaseSeat,
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
from circle_room.protocol.refusals import RefusalCode
from circle_room.protocol.rules import why_not, why_not_kind
from circle_room.protocol.text import clean_line
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
    "/seen NAME tells someone you saw their signal (/seen alone: who waited longest),",
    "/release NAME frees the seat of someone away at once,",
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
    """What the member meant by ``line``; None for a blank line.

    Whether a command is sent is the rule book's call (``protocol.rules``): a
    line becomes ``Send`` exactly when the room would carry its command out;
    otherwise the refusal is said at once, in plain mode's own words where it
    has them (``_plain_words``).
    """
    text = line.rstrip("\r\n")
    if not text.strip():
        return None
    if text.startswith("//"):
        return _ask(Share(text[1:]), state, me)
    if not text.startswith("/"):
        return _ask(Share(text), state, me)
    word, _, rest = text[1:].strip().partition(" ")
    word, rest = word.lower(), rest.strip()
    if word in _MEMBER_COMMANDS:
        return _MEMBER_COMMANDS[word](rest, state, me)
    if word in _FACILITATOR_COMMANDS:
        kind, handler = _FACILITATOR_COMMANDS[word]
        # Whether this person may use the word at all, before reading the rest.
        refused = why_not_kind(state, me, kind)
        if refused is not None and refused.code in _NOT_FOR_YOU:
            return say(refused.message)
        return handler(rest, state, me)
    return say(f"There is no command /{clean_line(word)}. Type /help for the commands.")


_NOT_FOR_YOU = (RefusalCode.NOT_IN_ROOM, RefusalCode.WAITING, RefusalCode.NOT_FACILITATOR)


def _ask(command: Command, state: RoomState, me: int) -> Action:
    """``Send(command)`` if the rule book allows it now, else why not."""
    refused = why_not(state, me, command)
    if refused is None:
        return Send(command)
    return say(_plain_words(refused, command, state, me))


def _plain_words(refused: Refused, command: Command, state: RoomState, me: int) -> str:
    """The rule book's refusal as plain mode says it: gentler words where it has them."""
    code = RefusalCode.of(refused.code)
    if isinstance(command, Share) and code is RefusalCode.NOT_HOLDER:
        if state.holder is None:
            return (
                "Only the person holding the stick shares, and nobody holds it now. "
                "Type /hand to raise your hand."
            )
        holder = name_of(state, state.holder, me)
        return (
            f"{holder} has the stick, so your words were not sent. "
            "Type /hand to raise your hand, or /metoo if you feel the same."
        )
    if isinstance(command, Share) and code is RefusalCode.PAUSED:
        return "The circle is paused; your words were not sent. Share again once it resumes."
    if isinstance(command, RaiseHand) and code is RefusalCode.HAND_RAISED:
        place = ordinal(state.queue.index(me) + 1)
        return f"Your hand is already raised; you are {place}. /lower lowers it."
    if isinstance(command, (LowerHand, LowerAllHands)) and code is RefusalCode.NOT_FACILITATOR:
        return "Only a facilitator can lower someone else's hand."
    own_hand = isinstance(command, LowerHand) and command.member_id in (None, me)
    if own_hand and code is RefusalCode.HAND_NOT_RAISED:
        return "Your hand is not raised."
    if isinstance(command, Yield) and code is RefusalCode.NOT_HOLDER:
        return "You do not hold the stick."
    if isinstance(command, Pass) and code is RefusalCode.NOT_HOLDER:
        return "You do not hold the stick, so there is nothing to pass."
    if isinstance(command, PauseCircle) and code is RefusalCode.PAUSED:
        return "The circle is already paused. /resume resumes it."
    if isinstance(command, ChangeSettings) and code is RefusalCode.BAD_SETTING:
        return _LIMIT_RANGE  # Only /limit changes settings here.
    return refused.message


def _hand(rest: str, state: RoomState, me: int) -> Action:
    return _ask(RaiseHand(), state, me)


def _lower(rest: str, state: RoomState, me: int) -> Action:
    if not rest:
        return _ask(LowerHand(), state, me)
    if rest.lower() == "all":
        return _ask(LowerAllHands(), state, me)
    target = _find(state, rest)
    if isinstance(target, Say):
        return target
    return _ask(LowerHand(target.id), state, me)


def _metoo(rest: str, state: RoomState, me: int) -> Action:
    turn = state.turn
    if turn is None:
        return say("Nobody is sharing right now.")
    return _ask(MeToo(turn.id, me not in turn.metoo), state, me)


def _yield(rest: str, state: RoomState, me: int) -> Action:
    return _ask(Yield(), state, me)


def _pass(rest: str, state: RoomState, me: int) -> Action:
    refused = why_not(state, me, Pass())
    if refused is not None and refused.code == RefusalCode.ALREADY_SHARED:
        return _ask(Yield(), state, me)  # Already shared: passing on is yielding.
    return _ask(Pass(), state, me)


def _signal(rest: str, state: RoomState, me: int) -> Action:
    kind = SIGNALS.get(rest.lower())
    if kind is None:
        return say("Say /signal checkin, /signal out or /signal ok.")
    return _ask(SendSignal(kind), state, me)


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
    return _ask(PauseCircle(rest), state, me)


def _resume_cmd(rest: str, state: RoomState, me: int) -> Action:
    return _ask(ResumeCircle(), state, me)


def _give(rest: str, state: RoomState, me: int) -> Action:
    if not rest:
        return say("Say who: /give NAME.")
    target = _find(state, rest)
    return target if isinstance(target, Say) else _ask(GiveStick(target.id), state, me)


def _take(rest: str, state: RoomState, me: int) -> Action:
    return _ask(TakeStick(), state, me)


def _remove(rest: str, state: RoomState, me: int) -> Action:
    if not rest:
        return say("Say who: /remove NAME.")
    target = _find(state, rest)
    return target if isinstance(target, Say) else _ask(Remove(target.id), state, me)


def _round(rest: str, state: RoomState, me: int) -> Action:
    if rest.lower() == "start":
        return _ask(StartRound(), state, me)
    if rest.lower() == "stop":
        return _ask(StopRound(), state, me)
    return say("Say /round start or /round stop.")


def _lock(rest: str, state: RoomState, me: int) -> Action:
    return _ask(Lock(True), state, me)


def _unlock(rest: str, state: RoomState, me: int) -> Action:
    return _ask(Lock(False), state, me)


def _admit(rest: str, state: RoomState, me: int) -> Action:
    if not rest:
        return say("Say who: /admit NAME.")
    target = _find(state, rest)
    return target if isinstance(target, Say) else _ask(Admit(target.id), state, me)


def _seen(rest: str, state: RoomState, me: int) -> Action:
    if not rest:
        waiting = [m for m in state.signals if m != me]
        if not waiting:
            return say("No signal is waiting for an answer.")
        return _ask(AckSignal(waiting[0]), state, me)
    target = _find(state, rest)
    return target if isinstance(target, Say) else _ask(AckSignal(target.id), state, me)


def _release(rest: str, state: RoomState, me: int) -> Action:
    if not rest:
        return say("Say whose seat: /release NAME.")
    target = _find(state, rest)
    return target if isinstance(target, Say) else _ask(ReleaseSeat(target.id), state, me)


_LIMIT_RANGE = "The suggested time per share must be between 0 and 180 minutes."


def _limit(rest: str, state: RoomState, me: int) -> Action:
    try:
        minutes = float(rest)
    except ValueError:
        return say("Say how many minutes: /limit 5, or /limit 0 for none.")
    if not math.isfinite(minutes):
        return say(_LIMIT_RANGE)
    settings = replace(state.settings, share_limit=round(minutes * 60))
    return _ask(ChangeSettings(settings), state, me)


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
_FACILITATOR_COMMANDS: dict[str, tuple[type, Callable[[str, RoomState, int], Action]]] = {
    # word: (a command it sends, for asking who may use it; how to read the line)
    "pause": (PauseCircle, _pause_cmd),
    "resume": (ResumeCircle, _resume_cmd),
    "give": (GiveStick, _give),
    "take": (TakeStick, _take),
    "remove": (Remove, _remove),
    "round": (StartRound, _round),
    "lock": (Lock, _lock),
    "unlock": (Lock, _unlock),
    "admit": (Admit, _admit),
    "limit": (ChangeSettings, _limit),
    "seen": (AckSignal, _seen),
    "release": (ReleaseSeat, _release),
}

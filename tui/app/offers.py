"""Which keys the circle screen offers now: each key's command, asked of the rule book.

A key is offered exactly when the room would carry out the command it sends
(``protocol.rules``), so the footer never shows what the relay would refuse.
Pure: a ``View`` and the selected member in, a yes or no out, so
``tests/server/test_rules_offers.py`` checks it against ``decide`` directly.
"""

from __future__ import annotations

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
    MoveHand,
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
from circle_room.protocol.model import Member, Presence
from circle_room.protocol.rules import allows, allows_kind
from circle_room.tui.client.view import View

_FIXED: dict[str, Command] = {
    "raise_hand": RaiseHand(),
    "lower_hand": LowerHand(),
    "pass_stick": Pass(),
    "yield_stick": Yield(),
    "pause": PauseCircle(""),
    "resume": ResumeCircle(),
    "take": TakeStick(),
    "start_round": StartRound(),
    "stop_round": StopRound(),
    "lock": Lock(True),
    "unlock": Lock(False),
    "lower_all": LowerAllHands(),
}


def may_share(view: View) -> bool:
    """Whether the share box is open: this member may post a share now."""
    return allows_kind(view.state, view.me, Share)


def key_offered(
    action: str, view: View, selected: Member | None, parameters: tuple[object, ...] = ()
) -> bool:
    """Whether the key for ``action`` is offered now.

    Some keys stand for two commands (``h``, ``m``, ``y``, ``p``, ``r``, ``l``, ``s``):
    which one shows follows the state, and ``y`` passes while passing is still
    possible. A facilitator's ``g`` on themself is ``t``, and facilitators have
    nobody to signal privately: their ``s`` answers a member's signal instead.
    ``settings`` opens a dialog, so it asks only whether some change of settings
    may be made.
    """
    state, me = view.state, view.me
    if action == "mark_read":
        return view.is_facilitator and view.unread() > 0
    if action == "settings":
        return allows_kind(state, me, ChangeSettings)
    if action == "signal":
        return allows_kind(state, me, SendSignal) and not view.is_facilitator
    if action == "yield_stick" and allows(state, me, Pass()):
        return False
    if action in ("metoo", "undo_metoo") and view.my_metoo != (action == "undo_metoo"):
        return False
    if action == "give" and selected is not None and selected.id == me:
        return False
    command = key_command(action, view, selected, parameters)
    return command is not None and allows(state, me, command)


def key_command(
    action: str, view: View, selected: Member | None, parameters: tuple[object, ...] = ()
) -> Command | None:
    """The command the key for ``action`` would send now, if it sends one by itself."""
    state = view.state
    if action in _FIXED:
        return _FIXED[action]
    if action in ("metoo", "undo_metoo"):
        turn = state.turn
        return MeToo(turn.id, action == "metoo") if turn is not None else None
    if action == "admit":
        waiting = admit_target(view, selected)
        return Admit(waiting.id) if waiting is not None else None
    if action == "ack_signal":
        signalled = ack_target(view, selected)
        return AckSignal(signalled) if signalled is not None else None
    if selected is None:
        return None
    if action == "give":
        return GiveStick(selected.id)
    if action == "remove":
        return Remove(selected.id)
    if action == "move" and selected.id in state.queue:
        delta = parameters[0] if parameters and isinstance(parameters[0], int) else 0
        return MoveHand(selected.id, state.queue.index(selected.id) + delta)
    return None


def admit_target(view: View, selected: Member | None) -> Member | None:
    """Who ``a`` admits: the selected member if they wait, else the first who waits."""
    if selected is not None and selected.presence is Presence.WAITING:
        return selected
    waiting = view.waiting_members()
    return waiting[0] if waiting else None


def ack_target(view: View, selected: Member | None) -> int | None:
    """Whose signal the ``seen`` key answers: the selected member's if theirs waits,
    else whoever has waited longest."""
    waiting = [m for m in view.state.signals if m != view.me]
    if selected is not None and selected.id in waiting:
        return selected.id
    return waiting[0] if waiting else None

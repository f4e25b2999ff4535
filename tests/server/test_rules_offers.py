"""What any client offers is exactly what ``decide`` accepts, in random meetings.

Random rooms are reached the way the relay reaches them, through ``decide``.
Then, for every member looking at that room, each surface is asked what it
offers -- the app's keys, the facilitator's member menu, the command palette,
plain mode's slash commands, the SSH login's name check -- and each answer is checked against
``decide`` itself: offered exactly when the command would be carried out.
The few places where a key deliberately offers less (one key standing for two
commands) are listed in ``KEY_CHOICES``, and even there nothing refused is
offered.
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any, cast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circle_room.protocol.admission import name_refusal
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
    Promote,
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
from circle_room.protocol.model import Member, Presence, Role, RoomState, Settings, SignalKind
from circle_room.protocol.observed import Join
from circle_room.protocol.refusals import RefusalCode
from circle_room.protocol.room import apply_all
from circle_room.protocol.rules import why_not, why_not_kind
from circle_room.protocol.text import checked_name
from circle_room.server.decide import Disconnect, Expire, Reconnect, decide
from circle_room.server.ssh_auth import LoginServer
from circle_room.tui.app.actions import ROOM, offers
from circle_room.tui.app.offers import key_command, key_offered, may_share
from circle_room.tui.app.screens.facilitator import member_actions, member_command
from circle_room.tui.client.view import View
from circle_room.tui.plain.parse import Say, Send, parse
from tests.server.test_decide_properties import COMMANDS, NAMES

NOW = 5_000.0
SEATS = (
    ("Fran", Role.FACILITATOR),
    ("Gil", Role.COFACILITATOR),
    ("Ana", Role.MEMBER),
    ("Ben", Role.MEMBER),
    ("Cy", Role.MEMBER),
)
LATE = ("Dee", "Eve")
"""Join after the settings are chosen: they wait when the waiting room is on."""


def run(state: RoomState, who: int | None, command: Any) -> RoomState:
    """The room after ``command``, or as it was if the room refuses it."""
    try:
        return apply_all(state, decide(state, who, command, NOW))
    except Refused:
        return state


def accepted(state: RoomState, who: int, command: Command) -> bool:
    try:
        decide(state, who, command, NOW)
    except Refused:
        return False
    return True


HOLDER = -1
"""In a step: whoever holds the stick then."""
steps = st.tuples(
    st.integers(min_value=0, max_value=8) | st.just(HOLDER),
    st.one_of(
        *COMMANDS.values(),
        st.sampled_from([RaiseHand(), Yield(), Pass(), StartRound(), TakeStick()]),
        st.just(Share("It has been a long week.")),
        st.sampled_from([Disconnect(), Reconnect(), Expire()]),
        st.builds(Remove, st.integers(min_value=1, max_value=8)),
    ),
)


@st.composite
def meetings(draw: st.DrawFn) -> RoomState:
    """A room some way into a meeting, reached only through ``decide``."""
    state = RoomState()
    for name, role in SEATS:
        state = run(state, None, Join(name, role))
    wanted = Settings(waiting_room=draw(st.booleans()), auto_pass=draw(st.booleans()))
    state = run(state, 1, ChangeSettings(wanted))
    for name in LATE:
        state = run(state, None, Join(name))
    if draw(st.booleans()):
        # A second co-facilitator: who may remove whom depends on it.
        promoted = draw(st.sampled_from([3, 4, 5]))
        state = run(state, 1, Promote(promoted, Role.COFACILITATOR))
    members = st.sampled_from(range(1, 8))
    # Moments the rules care about, each likely rather than left to chance.
    moments: list[tuple[int, Any]] = [
        (1, StartRound()),
        (draw(members), Disconnect()),
        (draw(members), SendSignal(SignalKind.CHECK_IN)),
        (draw(members), SendSignal(SignalKind.OK)),
        (HOLDER, Share("It has been a long week.")),
        (1, Remove(draw(members))),
        (1, Lock(True)),
    ]
    plan = [m for m in moments if draw(st.booleans())] + draw(st.lists(steps, max_size=40))
    for who, command in draw(st.permutations(plan)):
        state = run(state, state.holder if who == HOLDER else who, command)
    if draw(st.booleans()):
        for member_id in list(state.members):
            state = run(state, member_id, RaiseHand())
    if draw(st.booleans()):
        state = run(state, 1, PauseCircle("breathe"))
    return state


def view_of(state: RoomState, me: int) -> View:
    return View(room="tuesday", me=me, state=state, now=NOW, local_now=NOW)


def viewers(state: RoomState) -> list[int]:
    """Everyone in the room, and an id nobody has (a client that was just removed)."""
    return [*state.members, 99]


PROPERTIES = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- the rule book and decide -------------------------------------------------------------


@PROPERTIES
@given(meetings(), st.lists(st.one_of(*COMMANDS.values()), min_size=1, max_size=8))
def test_the_rule_book_is_decide_s_verdict(state: RoomState, commands: list[Command]) -> None:
    for me in viewers(state):
        for command in commands:
            verdict = why_not(state, me, command)
            assert (verdict is None) == accepted(state, me, command)
            kind_refused = why_not_kind(state, me, type(command))
            if kind_refused is not None:
                # A kind refused is every command of it refused, the same way.
                assert verdict is not None
                assert (verdict.code, verdict.message) == (kind_refused.code, kind_refused.message)


# --- the app's keys ----------------------------------------------------------------------

KEYS = (
    "raise_hand",
    "lower_hand",
    "metoo",
    "undo_metoo",
    "pass_stick",
    "yield_stick",
    "pause",
    "resume",
    "give",
    "take",
    "start_round",
    "stop_round",
    "lock",
    "unlock",
    "remove",
    "admit",
    "lower_all",
    "move",
    "ack_signal",
)


def key_choice(action: str, view: View, selected: Member | None) -> bool:
    """Where a key offers less than the room allows, and why; True elsewhere."""
    if action in ("metoo", "undo_metoo"):
        # One key: "me too" while you have not said it, "undo" once you have.
        return view.my_metoo == (action == "undo_metoo")
    if action == "yield_stick":
        # One key: y passes while passing is still possible.
        return not accepted(view.state, view.me, Pass())
    if action == "give":
        # On yourself, the key is t (take).
        return selected is None or selected.id != view.me
    return True


@PROPERTIES
@given(meetings())
def test_a_key_is_offered_exactly_when_the_room_accepts_its_command(state: RoomState) -> None:
    for me in viewers(state):
        view = view_of(state, me)
        for selected in [None, *state.members.values()]:
            for action in KEYS:
                for parameters in ((-1,), (1,)) if action == "move" else ((),):
                    command = key_command(action, view, selected, parameters)
                    allowed = command is not None and accepted(state, me, command)
                    wanted = allowed and key_choice(action, view, selected)
                    offered = key_offered(action, view, selected, parameters)
                    assert offered == wanted, (action, me, selected, command, state)


@PROPERTIES
@given(meetings())
def test_dialogs_open_exactly_when_something_in_them_can_be_sent(state: RoomState) -> None:
    for me in viewers(state):
        view = view_of(state, me)
        assert may_share(view) == accepted(state, me, Share("I hear you."))
        # Some change of settings is possible, or none is.
        other = replace(state.settings, auto_pass=not state.settings.auto_pass)
        offered = key_offered("settings", view, None)
        assert offered == accepted(state, me, ChangeSettings(other))
        facilitator = state.is_facilitator(me)
        signal = key_offered("signal", view, None)
        assert signal == (accepted(state, me, SendSignal(SignalKind.OK)) and not facilitator)


# --- the facilitator's member menu --------------------------------------------------------

MENU = ("admit", "deny", "take", "give", "lower", "up", "down", "lower_all")
MENU += ("promote", "demote", "remove", "seen", "release")


@PROPERTIES
@given(meetings())
def test_the_member_menu_offers_exactly_what_the_room_accepts(state: RoomState) -> None:
    for me in viewers(state):
        view = view_of(state, me)
        for member in state.members.values():
            offered = {key for key, _ in member_actions(view, member)}
            for key in MENU:
                command = member_command(view, member, key)
                if command is None:
                    assert key not in offered  # Not an entry for this member at all.
                    continue
                assert (key in offered) == accepted(state, me, command), (key, me, member)


# --- the command palette ---------------------------------------------------------------------


@PROPERTIES
@given(meetings())
def test_the_palette_lists_exactly_what_the_room_accepts(state: RoomState) -> None:
    for me in viewers(state):
        view = view_of(state, me)
        listed = offers(view, bell_on=True)
        for offer in listed:
            if offer.member_id is not None:
                command = member_command(view, state.members[offer.member_id], offer.action)
            elif offer.action in KEYS:
                command = key_command(offer.action, view, None)
            else:
                continue  # Local: help, settings, the bell, leaving.
            assert command is not None and accepted(state, me, command), (offer, me)
        # Nothing open is missing: every room key offered, every member menu entry.
        room_actions = {o.action for o in listed if o.member_id is None}
        for action, _, _ in ROOM:
            assert key_offered(action, view, None) == (action in room_actions), action
        member_entries = {(o.action, o.member_id) for o in listed if o.member_id is not None}
        for member in state.members.values():
            if member.id != me:
                for key, _ in member_actions(view, member):
                    assert (key, member.id) in member_entries


# --- plain mode ------------------------------------------------------------------------------


def refusal_code(state: RoomState, who: int, command: Command) -> str | None:
    try:
        decide(state, who, command, NOW)
    except Refused as refused:
        return refused.code
    return None


def plain_lines(state: RoomState, me: int) -> list[tuple[str, Command]]:
    """Lines to type, each with the command it means."""
    turn = state.turn
    # Passing after sharing is yielding: /pass means whichever the turn allows.
    shared = refusal_code(state, me, Pass()) == RefusalCode.ALREADY_SHARED
    lines: list[tuple[str, Command]] = [
        ("/hand", RaiseHand()),
        ("/lower", LowerHand()),
        ("/lower all", LowerAllHands()),
        ("/yield", Yield()),
        ("/pass", Yield() if shared else Pass()),
        ("/signal ok", SendSignal(SignalKind.OK)),
        ("/pause", PauseCircle("")),
        ("/pause Let's breathe", PauseCircle("Let's breathe")),
        ("/resume", ResumeCircle()),
        ("/take", TakeStick()),
        ("/round start", StartRound()),
        ("/round stop", StopRound()),
        ("/lock", Lock(True)),
        ("/unlock", Lock(False)),
        ("/limit 5", ChangeSettings(replace(state.settings, share_limit=300))),
        ("/limit 0", ChangeSettings(replace(state.settings, share_limit=0))),
        ("/limit 200", ChangeSettings(replace(state.settings, share_limit=12_000))),
        ("I hear you.", Share("I hear you.")),
        ("//slash", Share("/slash")),
    ]
    waiting = [m for m in state.signals if m != me]
    if waiting:
        lines.append(("/seen", AckSignal(waiting[0])))  # Alone: the longest waiting.
    if turn is not None:
        lines.append(("/metoo", MeToo(turn.id, me not in turn.metoo)))
    for member in state.members.values():
        name = member.name
        lines += [
            (f"/lower {name}", LowerHand(member.id)),
            (f"/give {name}", GiveStick(member.id)),
            (f"/remove {name}", Remove(member.id)),
            (f"/admit {name}", Admit(member.id)),
            (f"/seen {name}", AckSignal(member.id)),
            (f"/release {name}", ReleaseSeat(member.id)),
        ]
    return lines


@PROPERTIES
@given(meetings())
def test_plain_mode_sends_exactly_what_the_room_accepts(state: RoomState) -> None:
    for me in viewers(state):
        for line, meaning in plain_lines(state, me):
            action = parse(line, state, me)
            if accepted(state, me, meaning):
                assert action == Send(meaning), (line, me, action)
            else:
                assert isinstance(action, Say), (line, me, action)
                assert action.lines and all(action.lines), line


# --- the SSH login -------------------------------------------------------------------------


def login_for(state: RoomState) -> LoginServer:
    """A login whose gateway knows one room, in ``state``, and keeps no seats."""
    room = SimpleNamespace(state=state)
    gateway = SimpleNamespace(
        relay=SimpleNamespace(room=lambda name: room),
        seats=SimpleNamespace(kept=lambda room, name: None),
    )
    return LoginServer(cast(Any, gateway))


@PROPERTIES
@given(meetings(), st.lists(st.sampled_from(NAMES) | st.text(max_size=6), max_size=4))
def test_the_ssh_login_takes_a_name_exactly_when_the_room_would(
    state: RoomState, names: list[str]
) -> None:
    # The login asks only about the name: the lock and the agreements come later.
    open_room = replace(state, locked=False)
    login = login_for(open_room)
    tried = [*names, *state.removed, *(m.name for m in state.members.values())]
    for name in tried:
        seated = run(open_room, None, Join(name)) is not open_room
        refused = name_refusal(open_room, name)
        assert (refused is None) == seated, (name, refused)
        if refused is None or refused.code != RefusalCode.BAD_NAME:
            # The login cleans the name before asking (a bad one is asked again).
            problem = login._name_problem("tuesday", checked_name(name))
            assert (problem == "") == seated, (name, problem)


def test_meetings_reach_the_states_the_rules_care_about() -> None:
    """The strategy is not idle: rounds, pauses, holders, waiting and removals all occur."""
    seen: set[str] = set()

    @settings(
        max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(meetings())
    def look(state: RoomState) -> None:
        if state.turn is not None:
            seen.add("holder")
            if state.turn.shares:
                seen.add("shared")
        seen.update(
            label
            for label, present in (
                ("round", state.round is not None),
                ("paused", state.pause is not None),
                ("locked", state.locked),
                ("queue", len(state.queue) > 1),
                ("removed", bool(state.removed)),
                ("waiting", any(m.presence is Presence.WAITING for m in state.members.values())),
                ("away", any(m.presence is Presence.AWAY for m in state.members.values())),
                ("cofacilitators", _cofacilitators(state) > 1),
                ("signalled", len(state.signals) > 1),
            )
            if present
        )

    look()
    wanted = {"holder", "shared", "round", "paused", "locked", "queue", "removed", "waiting"}
    wanted |= {"signalled"}
    assert seen >= wanted | {"away", "cofacilitators"}


def _cofacilitators(state: RoomState) -> int:
    return sum(1 for m in state.members.values() if m.role is Role.COFACILITATOR)

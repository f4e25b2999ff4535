"""The room core alone, no sockets: what goes in, which effects come out, in what order."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from circle_room.protocol.close_codes import CloseCode
from circle_room.protocol.codec import decode, encode
from circle_room.protocol.errors import Refused
from circle_room.protocol.messages import (
    Admit,
    ChangeSettings,
    EventFrame,
    Hidden,
    Lock,
    MemberAway,
    MemberBack,
    MemberJoined,
    MemberLeft,
    PauseCircle,
    Remove,
    SendSignal,
    SettingsChanged,
    Share,
    Shared,
    SignalSent,
    Snapshot,
    TakeStick,
    Yield,
)
from circle_room.protocol.model import LeaveReason, Presence, Role, Settings, SignalKind
from circle_room.protocol.skeleton import looks
from circle_room.server.config import RelayConfig
from circle_room.server.decide import Disconnect, Expire, Reconnect
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
from circle_room.server.room_core import RoomCore
from circle_room.server.snapshot import CircleSnapshot

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_000.0
EPOCH = "e1"
CONFIG = RelayConfig(grace_period=60.0, max_members=6, log_size=50)


def new_core(settings: Settings | None = None, config: RelayConfig = CONFIG) -> RoomCore:
    return RoomCore("tuesday", settings or Settings(agreements=()), config, EPOCH)


def seat(core: RoomCore, name: str, role: Role = Role.MEMBER) -> int:
    """Join ``name`` with the token hash ``h-<name>``; return their member id."""
    effects = core.join(name, role, True, f"h-{name}", NOW)
    [attach] = [e for e in effects if isinstance(e, Attach)]
    return attach.member_id


def events_in(effects: list[Effect]) -> list[object]:
    """The events delivered, in order (snapshots and other frames left out)."""
    frames = [decode(e.data) for e in effects if isinstance(e, Deliver)]
    return [f.event for f in frames if isinstance(f, EventFrame)]


def kinds(effects: list[Effect]) -> list[str]:
    return [type(e).__name__ for e in effects]


@pytest.fixture
def core() -> RoomCore:
    return new_core()


# --- joining ---------------------------------------------------------------------------


def test_a_join_is_saved_then_told_then_welcomed(core: RoomCore) -> None:
    fran = seat(core, "Fran", Role.FACILITATOR)
    effects = core.join("Ana", Role.MEMBER, True, "h-Ana", NOW)
    assert kinds(effects) == ["Save", "Deliver", "Attach"]
    save, deliver, attach = effects
    assert isinstance(save, Save) and isinstance(deliver, Deliver) and isinstance(attach, Attach)
    assert save.circle is not None
    assert save.circle.token_hashes == {fran: "h-Fran", attach.member_id: "h-Ana"}
    assert save.settings is None
    frame = decode(deliver.data)
    assert isinstance(frame, EventFrame) and isinstance(frame.event, MemberJoined)
    assert frame.seq == core.seq == attach.seq == 2
    # The newcomer is among the readers, but their connection is attached
    # only after this delivery: they learn of themselves from the welcome.
    assert deliver.readers == {fran, attach.member_id}
    assert attach == Attach(attach.member_id, "h-Ana", EPOCH, 2, False, core.state)


def test_join_is_refused_for_a_full_room_and_a_removed_name() -> None:
    core = new_core(config=RelayConfig(max_members=2))
    fran = seat(core, "Fran", Role.FACILITATOR)
    ana = seat(core, "Ana")
    with pytest.raises(Refused) as full:
        core.join("Ben", Role.MEMBER, True, "h-Ben", NOW)
    assert full.value.code == "room_full"
    core.execute(fran, Remove(ana), NOW)
    for name in ("Ana", " ana "):
        with pytest.raises(Refused) as removed:
            core.join(name, Role.MEMBER, True, "h-again", NOW)
        assert removed.value.code == "removed"
    assert core.places.find("h-again") is None


# --- changes ---------------------------------------------------------------------------


def test_a_refused_command_changes_nothing(core: RoomCore) -> None:
    seat(core, "Fran", Role.FACILITATOR)
    ana = seat(core, "Ana")
    before = (copy.deepcopy(core.state), core.seq, list(core.log), list(core.places))
    with pytest.raises(Refused):
        core.execute(ana, Lock(True), NOW)
    assert (core.state, core.seq, list(core.log), list(core.places)) == before


def test_only_the_first_share_of_a_turn_is_saved(core: RoomCore) -> None:
    fran = seat(core, "Fran", Role.FACILITATOR)
    core.execute(fran, TakeStick(), NOW)
    first = core.execute(fran, Share("I hear you."), NOW)
    assert kinds(first) == ["Save", "Deliver"]
    again = core.execute(fran, Share("And more."), NOW)
    assert kinds(again) == ["Deliver"]
    assert [type(e) for e in events_in(again)] == [Shared]


def test_every_structural_change_is_saved_before_anything_is_delivered(core: RoomCore) -> None:
    fran = seat(core, "Fran", Role.FACILITATOR)
    ana = seat(core, "Ana")
    core.execute(fran, TakeStick(), NOW)
    effects = core.execute(fran, Yield(), NOW) + core.execute(fran, PauseCircle(""), NOW)
    effects += core.execute(fran, Remove(ana), NOW)
    saves = [i for i, e in enumerate(effects) if isinstance(e, Save)]
    assert saves == [0, 2, 4]
    # The removed seat is let go; then the waiting room turns on (saved in the same Save).
    assert core.state.settings.waiting_room
    after = effects[effects.index(Vacate(ana, LeaveReason.REMOVED)) :]
    assert events_in(after) == [SettingsChanged(core.state.settings, fran, True)]
    save = effects[4]
    assert isinstance(save, Save) and save.settings == core.state.settings
    assert save.circle is not None and save.circle.state == core.state


def test_new_settings_are_saved_with_the_circle_in_one_effect(core: RoomCore) -> None:
    fran = seat(core, "Fran", Role.FACILITATOR)
    ana_id = core.state.next_member_id
    core.execute(fran, ChangeSettings(Settings(waiting_room=True, agreements=())), NOW)
    core.join("Ana", Role.MEMBER, True, "h-Ana", NOW)
    wanted = Settings(share_limit=300, agreements=())
    effects = core.execute(fran, ChangeSettings(wanted), NOW)
    # Turning the waiting room off admits Ana in the same change.
    assert kinds(effects) == ["Save", "Deliver", "Deliver", "Deliver"]
    save = effects[0]
    assert isinstance(save, Save)
    assert save.settings == wanted
    assert save.circle is not None and save.circle.state == core.state
    assert core.state.members[ana_id].presence is Presence.PRESENT


def test_an_admitted_member_gets_the_whole_circle(core: RoomCore) -> None:
    fran = seat(core, "Fran", Role.FACILITATOR)
    core.execute(fran, ChangeSettings(Settings(waiting_room=True, agreements=())), NOW)
    ana = seat(core, "Ana")
    assert core.state.members[ana].presence is Presence.WAITING
    effects = core.execute(fran, Admit(ana), NOW)
    admitted, snapshot = (e for e in effects if isinstance(e, Deliver))
    assert isinstance(decode(admitted.data), EventFrame)
    assert admitted.readers == {fran, ana}
    assert snapshot.readers == {ana}
    sent = decode(snapshot.data)
    assert isinstance(sent, Snapshot) and sent.seq == core.seq and sent.state == core.state
    place = core.places.get(ana)
    assert place is not None and place.since == core.seq


def test_a_signal_reaches_the_facilitators_and_its_sender_only(core: RoomCore) -> None:
    fran = seat(core, "Fran", Role.FACILITATOR)
    ana = seat(core, "Ana")
    ben = seat(core, "Ben")
    save, deliver, hidden = core.execute(ana, SendSignal(SignalKind.CHECK_IN), NOW)
    assert isinstance(save, Save), "a signal waiting for an answer outlives a restart"
    assert isinstance(deliver, Deliver) and not deliver.gapless_only
    assert deliver.readers == {fran, ana}
    assert core.log[-1].readers == {fran, ana}
    assert [type(e) for e in events_in([deliver])] == [SignalSent]
    # The others learn only that this seq is taken, if they asked to.
    assert hidden == Deliver(frozenset({ben}), encode(Hidden(core.seq)), gapless_only=True)


def test_a_removed_member_hears_it_then_is_closed_and_forgotten(core: RoomCore) -> None:
    fran = seat(core, "Fran", Role.FACILITATOR)
    ana = seat(core, "Ana")
    effects = core.execute(fran, Remove(ana), NOW)
    # The last Deliver turns the waiting room on, for everyone else.
    assert kinds(effects) == ["Save", "Deliver", "Close", "Vacate", "Deliver"]
    _, told, close, _, _ = effects
    assert isinstance(told, Deliver) and ana in told.readers
    assert close == Close(ana, CloseCode.REMOVED, "removed from this meeting")
    assert core.state.removed == looks("Ana")
    assert core.places.get(ana) is None


def test_when_the_last_member_leaves_the_circle_is_cleared(core: RoomCore) -> None:
    fran = seat(core, "Fran", Role.FACILITATOR)
    ana = seat(core, "Ana")
    core.execute(fran, Remove(ana), NOW)
    effects = core.observe(fran, Disconnect(), NOW)
    effects += core.observe(fran, Expire(), NOW + 60)
    assert Save(None) in effects
    assert core.state.removed == frozenset(), "removals end with the meeting"
    assert effects[-2:] == [
        Close(fran, CloseCode.LEFT, "left"),
        Vacate(fran, LeaveReason.TIMED_OUT),
    ]


# --- connections come and go -----------------------------------------------------------


def test_a_dropped_member_is_away_then_given_up_after_the_grace(core: RoomCore) -> None:
    seat(core, "Fran", Role.FACILITATOR)
    ana = seat(core, "Ana")
    effects = core.observe(ana, Disconnect(), NOW)
    assert kinds(effects) == ["Save", "Deliver", "StartGrace"]
    assert effects[-1] == StartGrace(ana, 60.0)
    assert [type(e) for e in events_in(effects)] == [MemberAway]
    place = core.places.get(ana)
    assert place is not None and place.grace_ends == NOW + 60
    effects = core.observe(ana, Expire(), NOW + 60)
    assert [e.reason for e in events_in(effects) if isinstance(e, MemberLeft)] == [
        LeaveReason.TIMED_OUT
    ]
    assert ana not in core.state.members


def test_an_expiry_after_a_resume_changes_nothing(core: RoomCore) -> None:
    seat(core, "Fran", Role.FACILITATOR)
    ana = seat(core, "Ana")
    core.observe(ana, Disconnect(), NOW)
    assert core.resume("h-Ana", EPOCH, core.seq) is not None
    seq = core.seq
    assert core.observe(ana, Expire(), NOW + 60) == []
    assert core.seq == seq
    assert core.observe(ana, Reconnect(), NOW + 1) != []
    assert core.state.members[ana].presence is Presence.PRESENT


def test_a_resume_replays_what_the_member_may_read(core: RoomCore) -> None:
    fran = seat(core, "Fran", Role.FACILITATOR)
    ana = seat(core, "Ana")
    ben = seat(core, "Ben")
    core.observe(ana, Disconnect(), NOW)
    seen = core.seq
    core.execute(ben, SendSignal(SignalKind.OK), NOW)  # Not for Ana.
    core.execute(fran, TakeStick(), NOW)
    core.execute(fran, Share("Welcome, all."), NOW)
    effects = core.resume("h-Ana", EPOCH, seen)
    assert effects is not None
    assert effects[:2] == [
        Close(ana, CloseCode.REPLACED, "replaced by a newer connection"),
        CancelGrace(ana),
    ]
    attach = effects[2]
    assert isinstance(attach, Attach)
    assert (attach.seq, attach.resumed, attach.state) == (seen, True, None)
    replayed = [decode(data) for data in attach.replay]
    assert [f.seq for f in replayed if isinstance(f, EventFrame)] == [seen + 2, seen + 3]
    assert core.log[-1].data in attach.replay, "the same bytes, not a re-encoding"


def test_a_resume_that_cannot_replay_gets_the_room_as_it_is(core: RoomCore) -> None:
    seat(core, "Fran", Role.FACILITATOR)
    ana = seat(core, "Ana")
    for epoch, seq in (("another", core.seq), (EPOCH, core.seq + 5)):
        effects = core.resume("h-Ana", epoch, seq)
        assert effects is not None
        attach = effects[-1]
        assert attach == Attach(ana, "h-Ana", EPOCH, core.seq, False, core.state)
    assert core.resume("h-nobody", EPOCH, 0) is None


def test_a_resume_never_replays_from_before_the_member_entered(core: RoomCore) -> None:
    fran = seat(core, "Fran", Role.FACILITATOR)
    core.execute(fran, TakeStick(), NOW)
    core.execute(fran, Share("Before Ana came."), NOW)
    ana = seat(core, "Ana")
    entered = core.seq
    effects = core.resume("h-Ana", EPOCH, 0)
    assert effects is not None
    attach = effects[-1]
    assert isinstance(attach, Attach) and attach.member_id == ana
    assert (attach.seq, attach.replay) == (entered, ())


def test_a_full_log_cannot_replay_what_it_dropped() -> None:
    core = new_core(config=RelayConfig(log_size=3))
    fran = seat(core, "Fran", Role.FACILITATOR)
    seat(core, "Ana")
    seen = core.seq
    core.execute(fran, TakeStick(), NOW)
    for n in range(4):
        core.execute(fran, Share(f"share {n}"), NOW)
    effects = core.resume("h-Ana", EPOCH, seen)
    assert effects is not None and isinstance(effects[-1], Attach)
    assert not effects[-1].resumed


# --- a restart ---------------------------------------------------------------------------


def test_a_restored_circle_waits_for_everyone_to_come_back() -> None:
    old = new_core()
    fran = seat(old, "Fran", Role.FACILITATOR)
    ana = seat(old, "Ana")
    ben = seat(old, "Ben")
    tokens = {fran: "h-Fran", ana: "h-Ana"}  # Ben's token was not saved.
    core = new_core()
    effects = core.restore(
        CircleSnapshot(replace(old.state, removed=frozenset({"cy"})), tokens), NOW
    )
    assert core.state.removed == {"cy"}
    assert [e for e in effects if isinstance(e, StartGrace)] == [
        StartGrace(fran, 60.0),
        StartGrace(ana, 60.0),
    ]
    assert ben not in core.state.members, "no token, no way back"
    assert {m.presence for m in core.state.members.values()} == {Presence.AWAY}
    assert Vacate(ben, LeaveReason.TIMED_OUT) in effects
    resumed = core.resume("h-Ana", "the old epoch", 3)
    assert resumed is not None and isinstance(resumed[-1], Attach)
    assert resumed[-1].state is not None and not resumed[-1].resumed
    back = core.observe(ana, Reconnect(), NOW)
    assert [type(e) for e in events_in(back)] == [MemberBack]


# --- what it is made of ----------------------------------------------------------------------


def test_the_core_imports_no_event_loop_network_or_database() -> None:
    code = textwrap.dedent(
        """
        import sys
        import circle_room.server.room_core
        banned = ("asyncio", "websockets", "sqlite3", "_sqlite3", "socket", "textual")
        print(",".join(sorted(m for m in banned if m in sys.modules)))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""

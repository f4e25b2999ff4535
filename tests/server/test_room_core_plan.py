"""Plan, then commit: a change dropped after planning is a change that never happened.

The shell saves a planned change before committing it, and drops it if the
save fails. So a planned change must leave the core untouched, a committed
one must be exactly what ``execute`` would have done, and a dropped one must
be indistinguishable from a command never sent: the property test drives a
core whose changes are dropped at random next to a twin that is only ever
given the ones that were kept.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from circle_room.protocol.errors import LocalProtocolError, Refused
from circle_room.protocol.messages import ChangeSettings, Lock, RaiseHand, Share, TakeStick
from circle_room.protocol.model import Role, Settings
from circle_room.server.change import Change
from circle_room.server.config import RelayConfig
from circle_room.server.decide import Disconnect, Expire, Reconnect
from circle_room.server.effects import Attach, Save
from circle_room.server.room_core import RoomCore
from tests.server.test_decide_properties import NAMES, commands

EPOCH = "e1"
NOW = 1_000.0
CONFIG = RelayConfig(log_size=30, max_members=8, grace_period=60.0)


def whole(core: RoomCore) -> tuple[Any, ...]:
    """Everything a change may touch."""
    return (core.state, core.seq, list(core.log), list(core.places), core.epoch)


def new_core() -> RoomCore:
    return RoomCore("tuesday", Settings(agreements=()), CONFIG, EPOCH)


class DroppedChanges(RuleBasedStateMachine):
    """``core`` plans every change and keeps some; ``twin`` is only told of those kept."""

    def __init__(self) -> None:
        super().__init__()
        self.core = new_core()
        self.twin = new_core()
        self.now = NOW
        self.joined = 0

    def settle(self, plan: Any, again: Any, keep: bool) -> None:
        before = whole(self.core)
        try:
            change: Change = plan()
        except Refused:
            with pytest.raises(Refused):
                again()
            return
        # Planning changed nothing, whatever the change holds.
        assert whole(self.core) == before
        if not keep:
            return  # The save failed: the shell drops the change.
        effects = self.core.commit(change)
        taken = [change.save, *effects] if change.save is not None else effects
        assert taken == again(), "commit does what execute does"

    @initialize()
    def open_room(self) -> None:
        for name, role in (("Fran", Role.FACILITATOR), ("Ana", Role.MEMBER), ("Ben", Role.MEMBER)):
            self.join(name, role, True)

    @rule(
        name=st.sampled_from(NAMES),
        role=st.sampled_from([Role.MEMBER, Role.FACILITATOR]),
        keep=st.booleans(),
    )
    def join(self, name: str, role: Role, keep: bool) -> None:
        self.joined += 1
        token = f"token-{self.joined}"
        self.settle(
            lambda: self.core.plan_join(name, role, True, token, self.now),
            lambda: self.twin.join(name, role, True, token, self.now),
            keep,
        )

    @rule(data=st.data(), command=commands, keep=st.booleans())
    def command(self, data: st.DataObject, command: Any, keep: bool) -> None:
        state = self.core.state
        who = data.draw(st.sampled_from([*state.members, 99]))
        if data.draw(st.booleans()):
            # Mostly someone allowed to, so that most changes happen.
            host = [m.id for m in state.members.values() if m.role is not Role.MEMBER]
            who = state.holder if isinstance(command, Share) else who
            who = host[0] if host and who is None else who
        self.settle(
            lambda: self.core.plan(who, command, self.now),
            lambda: self.twin.execute(who, command, self.now),
            keep,
        )

    @rule(data=st.data(), fact=st.sampled_from([Disconnect(), Reconnect(), Expire()]))
    def connection(self, data: st.DataObject, fact: Any) -> None:
        who = data.draw(st.sampled_from([*self.core.state.members, 99]))
        assert self.core.observe(who, fact, self.now) == self.twin.observe(who, fact, self.now)

    @rule(seconds=st.floats(min_value=0.0, max_value=90.0))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds

    @invariant()
    def a_dropped_change_never_happened(self) -> None:
        assert whole(self.core) == whole(self.twin)


DroppedChanges.TestCase.settings = settings(
    max_examples=80,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestDroppedChanges = DroppedChanges.TestCase


# --- examples ------------------------------------------------------------------------------


def seated() -> tuple[RoomCore, int, int]:
    core = new_core()
    fran = core.join("Fran", Role.FACILITATOR, True, "h-fran", NOW)[-1]
    ana = core.join("Ana", Role.MEMBER, True, "h-ana", NOW)[-1]
    assert isinstance(fran, Attach) and isinstance(ana, Attach)
    return core, fran.member_id, ana.member_id


def test_a_plan_changes_nothing_until_it_is_committed() -> None:
    core, fran, _ = seated()
    before = copy.deepcopy(whole(core))
    change = core.plan(fran, ChangeSettings(Settings(share_limit=60, agreements=())), NOW)
    assert isinstance(change.save, Save) and change.save.settings is not None
    assert change.save.circle is not None and change.save.circle.state == change.state
    assert whole(core) == before
    core.commit(change)
    assert core.state.settings.share_limit == 60
    assert core.seq == before[1] + 1


def test_a_join_planned_and_dropped_leaves_no_place_behind() -> None:
    core, _, _ = seated()
    change = core.plan_join("Ben", Role.MEMBER, True, "h-ben", NOW)
    assert change.places is not None and change.places.find("h-ben") is not None
    assert core.places.find("h-ben") is None
    assert core.resume("h-ben", EPOCH, 0) is None


def test_a_change_planned_before_another_was_taken_cannot_be_committed() -> None:
    core, fran, ana = seated()
    first = core.plan(fran, Lock(True), NOW)
    second = core.plan(ana, RaiseHand(), NOW)
    core.commit(second)
    before = whole(core)
    with pytest.raises(LocalProtocolError):
        core.commit(first)
    assert whole(core) == before


def test_a_change_with_nothing_to_save_has_no_save() -> None:
    core, fran, _ = seated()
    core.execute(fran, TakeStick(), NOW)
    core.execute(fran, Share("first"), NOW)
    change = core.plan(fran, Share("second"), NOW)
    assert change.save is None
    assert core.commit(change) == list(change.effects)

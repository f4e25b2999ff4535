"""A second node that did not decide: fed the deciding core's log, it delivers the same.

Two cores hold the same room. One decides (joins, commands, connection
facts); the other only ``follow``s the first one's log entries. Both must
produce the same deliveries (the same bytes to the same members), reach the
same state, and answer a resume the same way, so a member can come back on
either. This is what rooms shared by several relay nodes will rest on.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from circle_room.protocol.codec import encode
from circle_room.protocol.errors import DecodeError, Refused, RemoteProtocolError
from circle_room.protocol.messages import (
    ChangeSettings,
    Error,
    MeToo,
    PauseCircle,
    RaiseHand,
    ResumeCircle,
    Share,
    TakeStick,
    Yield,
)
from circle_room.protocol.model import Presence, Role, Settings
from circle_room.server.config import RelayConfig
from circle_room.server.decide import Disconnect, Expire, Reconnect
from circle_room.server.effects import Attach, Effect, Save, StartGrace
from circle_room.server.room_core import LogEntry, OutOfOrder, RoomCore
from tests.server.test_decide_properties import NAMES, commands

EPOCH = "shared-epoch"
NOW = 1_000.0


def deciders_part(effects: list[Effect]) -> list[Effect]:
    """What only the deciding node does: save, and time the grace periods."""
    return [e for e in effects if not isinstance(e, (Save, StartGrace))]


def feed(follower: RoomCore, log: list[LogEntry] | Any) -> list[Effect]:
    """Give ``follower`` every entry of ``log`` it has not applied yet."""
    effects: list[Effect] = []
    for entry in [e for e in log if e.seq > follower.seq]:
        effects += follower.follow(entry.data, entry.token_hash)
    return effects


def same_room(a: RoomCore, b: RoomCore) -> None:
    assert (a.state, a.seq) == (b.state, b.seq)
    assert list(a.state.members) == list(b.state.members), "circle order differs"
    assert list(a.log) == list(b.log)
    # Grace timers are the deciding node's; everything else about a place is shared.
    assert [(p.member_id, p.token_hash, p.since) for p in a.places] == [
        (p.member_id, p.token_hash, p.since) for p in b.places
    ]


class TwoNodes(RuleBasedStateMachine):
    """A deciding core and a following core on one room, driven at random."""

    def __init__(self) -> None:
        super().__init__()
        config = RelayConfig(log_size=40, max_members=10, grace_period=60.0)
        self.decider = RoomCore("tuesday", Settings(), config, EPOCH)
        self.follower = RoomCore("tuesday", Settings(), config, EPOCH)
        self.now = NOW
        self.joined = 0

    def decided(self, effects: list[Effect]) -> None:
        """The follower, fed what the decider logged, must deliver exactly the same."""
        assert feed(self.follower, self.decider.log) == deciders_part(effects)

    def try_to(self, act: Any) -> None:
        try:
            effects = act()
        except Refused:
            effects = []
        self.decided(effects)

    def someone(self, data: st.DataObject) -> int:
        return data.draw(st.sampled_from([*self.decider.state.members, 99]))

    @initialize()
    def open_room(self) -> None:
        for name, role in (("Fran", Role.FACILITATOR), ("Ana", Role.MEMBER), ("Ben", Role.MEMBER)):
            self.join(name, role)

    @rule(name=st.sampled_from(NAMES), role=st.sampled_from([Role.MEMBER, Role.FACILITATOR]))
    def join(self, name: str, role: Role) -> None:
        self.joined += 1
        token_hash = f"token-{self.joined}"
        self.try_to(lambda: self.decider.join(name, role, True, token_hash, self.now))

    @rule(data=st.data(), command=commands)
    def command(self, data: st.DataObject, command: Any) -> None:
        who = self.someone(data)
        self.try_to(lambda: self.decider.execute(who, command, self.now))

    @rule(data=st.data(), command=commands)
    def facilitate(self, data: st.DataObject, command: Any) -> None:
        state = self.decider.state
        host = [m.id for m in state.members.values() if m.role is not Role.MEMBER]
        if host:
            who = data.draw(st.sampled_from(host))
            self.try_to(lambda: self.decider.execute(who, command, self.now))

    @rule(data=st.data())
    def the_circle_goes_on(self, data: st.DataObject) -> None:
        """Commands that mostly succeed, so the log holds shares, me-too and pauses."""
        state = self.decider.state
        turn = state.turn
        command = data.draw(
            st.sampled_from(
                [
                    TakeStick(),
                    Share("I felt that too."),
                    Yield(),
                    RaiseHand(),
                    MeToo(turn.id if turn else 0, True),
                    PauseCircle("breathe"),
                    ResumeCircle(),
                    ChangeSettings(
                        Settings(
                            show_metoo_names=data.draw(st.booleans()),
                            waiting_room=data.draw(st.booleans()),
                        )
                    ),
                ]
            )
        )
        host = [m.id for m in state.members.values() if m.role is not Role.MEMBER]
        who = state.holder if isinstance(command, (Share, Yield)) else None
        if who is None:
            who = data.draw(st.sampled_from(host)) if host else self.someone(data)
        if isinstance(command, (RaiseHand, MeToo)):
            who = self.someone(data)
        self.try_to(lambda: self.decider.execute(who, command, self.now))

    @rule(data=st.data(), fact=st.sampled_from([Disconnect(), Reconnect(), Expire()]))
    def connection(self, data: st.DataObject, fact: Any) -> None:
        self.decided(self.decider.observe(self.someone(data), fact, self.now))

    @rule(data=st.data(), same_epoch=st.booleans())
    def someone_resumes(self, data: st.DataObject, same_epoch: bool) -> None:
        places = list(self.decider.places)
        if not places:
            return
        place = data.draw(st.sampled_from(places))
        seq = data.draw(st.integers(min_value=0, max_value=self.decider.seq + 2))
        epoch = EPOCH if same_epoch else "an-older-epoch"
        here = self.decider.resume(place.token_hash, epoch, seq)
        there = self.follower.resume(place.token_hash, epoch, seq)
        assert here == there, "a member must be able to come back on either node"
        assert here is not None and isinstance(here[-1], Attach)
        member = self.decider.state.members[place.member_id]
        if member.presence is Presence.AWAY:
            self.decided(self.decider.observe(place.member_id, Reconnect(), self.now))

    @rule(seconds=st.floats(min_value=0.0, max_value=120.0))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds

    @invariant()
    def both_nodes_hold_the_same_room(self) -> None:
        same_room(self.decider, self.follower)


TwoNodes.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestTwoNodes = TwoNodes.TestCase


# --- examples ------------------------------------------------------------------------------


def two_nodes() -> tuple[RoomCore, RoomCore]:
    config = RelayConfig()
    return (
        RoomCore("tuesday", Settings(agreements=()), config, EPOCH),
        RoomCore("tuesday", Settings(agreements=()), config, EPOCH),
    )


def test_a_member_comes_back_on_the_node_that_did_not_decide() -> None:
    decider, follower = two_nodes()
    fran = decider.join("Fran", Role.FACILITATOR, True, "h-fran", NOW)[-1]
    ana = decider.join("Ana", Role.MEMBER, True, "h-ana", NOW)[-1]
    assert isinstance(fran, Attach) and isinstance(ana, Attach)
    decider.observe(ana.member_id, Disconnect(), NOW)
    seen = decider.seq
    decider.execute(fran.member_id, TakeStick(), NOW)
    decider.execute(fran.member_id, Share("Glad you are all here."), NOW)
    feed(follower, decider.log)
    effects = follower.resume("h-ana", EPOCH, seen)
    assert effects is not None
    attach = effects[-1]
    assert isinstance(attach, Attach)
    assert attach.resumed and attach.seq == seen
    assert attach.replay == tuple(e.data for e in decider.log if e.seq > seen)
    # The return itself is decided by the deciding node, then followed.
    back = decider.observe(ana.member_id, Reconnect(), NOW)
    assert feed(follower, decider.log) == deciders_part(back)
    same_room(decider, follower)


def test_a_follower_refuses_a_gap_or_a_repeat_and_changes_nothing() -> None:
    decider, follower = two_nodes()
    decider.join("Fran", Role.FACILITATOR, True, "h-fran", NOW)
    decider.join("Ana", Role.MEMBER, True, "h-ana", NOW)
    decider.execute(1, TakeStick(), NOW)
    first, second, third = list(decider.log)
    follower.follow(first.data, first.token_hash)
    before = (follower.state, follower.seq, list(follower.log), list(follower.places))
    with pytest.raises(OutOfOrder) as gap:
        follower.follow(third.data)
    assert (gap.value.expected, gap.value.got) == (2, 3)
    with pytest.raises(OutOfOrder):
        follower.follow(first.data, first.token_hash)
    with pytest.raises(RemoteProtocolError):
        follower.follow(encode(Error(0, "bad_frame", "not an event")))
    with pytest.raises(DecodeError):
        follower.follow(b"\xc1")
    assert (follower.state, follower.seq, list(follower.log), list(follower.places)) == before
    follower.follow(second.data, second.token_hash)
    follower.follow(third.data)
    same_room(decider, follower)

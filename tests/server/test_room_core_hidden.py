"""Every seq reaches every member in the circle once: as its event or as a ``Hidden``.

That is what lets a client that asked (``Hello.gapless``) take any gap for a
loss. Random meetings drive a core; each member's deliveries (counting the
``gapless_only`` ones) must be exactly every seq since they entered the
circle, and a gapless resume must replay exactly every seq it missed.
"""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from circle_room.protocol.codec import decode
from circle_room.protocol.errors import Refused
from circle_room.protocol.messages import (
    ChangeSettings,
    EventFrame,
    Hidden,
    MeToo,
    SendSignal,
    Share,
    Snapshot,
    TakeStick,
)
from circle_room.protocol.model import Presence, Role, Settings, SignalKind
from circle_room.server.config import RelayConfig
from circle_room.server.decide import Disconnect, Expire, Reconnect
from circle_room.server.effects import Attach, Deliver, Effect
from circle_room.server.room_core import RoomCore
from tests.server.test_decide_properties import NAMES, commands

EPOCH = "e1"
NOW = 1_000.0


def seq_of(data: bytes) -> int | None:
    frame = decode(data)
    if isinstance(frame, (EventFrame, Hidden)):
        return frame.seq
    assert isinstance(frame, Snapshot)
    return None  # Not a seq of its own: it carries the admission's.


class EverySeq(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        config = RelayConfig(log_size=200, max_members=8, grace_period=60.0)
        self.core = RoomCore("tuesday", Settings(agreements=()), config, EPOCH)
        self.got: dict[int, list[int]] = {}
        """Each member's seqs, from the one they entered the circle at."""
        self.now = NOW
        self.joined = 0

    def took(self, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, Attach):
                self.got[effect.member_id] = [effect.seq]
            elif isinstance(effect, Deliver):
                seq = seq_of(effect.data)
                for member_id in effect.readers:
                    if seq is not None and member_id in self.got:
                        self.got[member_id].append(seq)
        for member_id in list(self.got):
            place = self.core.places.get(member_id)
            if place is None:
                del self.got[member_id]  # Gone.
            elif place.since > self.got[member_id][0]:
                self.got[member_id] = [place.since]  # Just let in from the waiting room.

    def attempt(self, act: Any) -> None:
        with contextlib.suppress(Refused):
            self.took(act())

    @initialize()
    def open_room(self) -> None:
        for name, role in (("Fran", Role.FACILITATOR), ("Ana", Role.MEMBER), ("Ben", Role.MEMBER)):
            self.join(name, role)

    @rule(name=st.sampled_from(NAMES), role=st.sampled_from([Role.MEMBER, Role.FACILITATOR]))
    def join(self, name: str, role: Role) -> None:
        self.joined += 1
        token = f"token-{self.joined}"
        self.attempt(lambda: self.core.join(name, role, True, token, self.now))

    @rule(data=st.data(), command=commands)
    def command(self, data: st.DataObject, command: Any) -> None:
        who = data.draw(st.sampled_from([*self.core.state.members, 99]))
        self.attempt(lambda: self.core.execute(who, command, self.now))

    @rule(data=st.data())
    def private_things(self, data: st.DataObject) -> None:
        """Signals and me-too, the events that go to a few: what ``Hidden`` is for."""
        state = self.core.state
        if not state.members:
            return  # Everyone has gone: nobody to say anything.
        who = data.draw(st.sampled_from(list(state.members)))
        turn = state.turn
        command = data.draw(
            st.sampled_from(
                [
                    SendSignal(SignalKind.CHECK_IN),
                    MeToo(turn.id if turn else 0, data.draw(st.booleans())),
                    TakeStick(),
                    Share("I felt that too."),
                    ChangeSettings(Settings(show_metoo_names=data.draw(st.booleans()))),
                ]
            )
        )
        self.attempt(lambda: self.core.execute(who, command, self.now))

    @rule(data=st.data(), fact=st.sampled_from([Disconnect(), Reconnect(), Expire()]))
    def connection(self, data: st.DataObject, fact: Any) -> None:
        who = data.draw(st.sampled_from([*self.core.state.members, 99]))
        self.took(self.core.observe(who, fact, self.now))

    @rule(data=st.data())
    def someone_resumes(self, data: st.DataObject) -> None:
        places = list(self.core.places)
        if not places:
            return
        place = data.draw(st.sampled_from(places))
        got = self.got.get(place.member_id)
        seen = data.draw(st.sampled_from(got)) if got else place.since
        effects = self.core.resume(place.token_hash, EPOCH, seen, gapless=True)
        assert effects is not None
        attach = effects[-1]
        assert isinstance(attach, Attach)
        member = self.core.state.members[place.member_id]
        if attach.resumed and member.presence is not Presence.WAITING:
            replayed = [seq_of(data) for data in attach.replay]
            assert replayed == list(range(attach.seq + 1, self.core.seq + 1))

    @rule(seconds=st.floats(min_value=0.0, max_value=90.0))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds

    @invariant()
    def every_seq_reached_everyone_in_the_circle_once(self) -> None:
        for member_id, seqs in self.got.items():
            member = self.core.state.members.get(member_id)
            if member is None or member.presence is Presence.WAITING:
                continue
            assert seqs == list(range(seqs[0], self.core.seq + 1)), member


EverySeq.TestCase.settings = settings(
    max_examples=80,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestEverySeq = EverySeq.TestCase

"""Who receives each event: "everyone", carried from event to event, is who it should be."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circle_room.protocol.messages import MemberAway, MemberJoined
from circle_room.protocol.model import Member, Presence, Role, RoomState, Settings
from circle_room.protocol.room import apply
from circle_room.server.audience import Everyone, admitted
from circle_room.server.room_core import RoomCore
from circle_room.server.saving import Saver
from tests.server.test_journal import CONFIG, ROOM, FlakyStore, Shell, draw_step


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), waiting_room=st.booleans())
def test_everyone_carried_over_each_event_is_everyone_admitted(
    data: st.DataObject, waiting_room: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = FlakyStore(Path(folder))
        try:
            store.add_room(ROOM)
            core = RoomCore(ROOM, Settings(waiting_room=waiting_room), CONFIG, "e1")
            shell = Shell(core, store, Saver(store, ROOM))
            for _ in range(data.draw(st.integers(0, 30))):
                shell.step(draw_step(data, shell))
                assert core._everyone.of(core.state) == admitted(core.state)
        finally:
            store.close()


def test_a_waiting_member_is_not_everyone_until_admitted() -> None:
    everyone = Everyone()
    state = RoomState()
    assert everyone.of(state) == frozenset()
    for member in (
        Member(1, "Fran", Role.FACILITATOR),
        Member(2, "Ana", presence=Presence.WAITING),
    ):
        before, state = state, apply(state, MemberJoined(member))
        everyone.carry(before, MemberJoined(member), state)
    assert everyone._members is state.members and everyone.of(state) == {1}
    before, state = state, apply(state, MemberAway(1))
    everyone.carry(before, MemberAway(1), state)
    assert everyone.of(state) == {1}

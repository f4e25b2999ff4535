"""The circle screen's keys and the member menu, in a few rooms worth naming.

``tests/server/test_rules_offers.py`` proves in random rooms that what is
offered is exactly what the room accepts; these are the cases a person meets.
"""

from __future__ import annotations

from dataclasses import replace

from circle_room.protocol.model import Member, Pause, Presence, Role, RoomState, Turn, Via
from circle_room.tui.app.offers import admit_target, key_offered, may_share
from circle_room.tui.app.screens.facilitator import member_actions
from circle_room.tui.client.view import View

FRAN, GIL, HAL, ANA, BEN = 1, 2, 3, 4, 5


def room(**changes: object) -> RoomState:
    members = {
        FRAN: Member(FRAN, "Fran", Role.FACILITATOR),
        GIL: Member(GIL, "Gil", Role.COFACILITATOR),
        HAL: Member(HAL, "Hal", Role.COFACILITATOR),
        ANA: Member(ANA, "Ana"),
        BEN: Member(BEN, "Ben", presence=Presence.WAITING),
    }
    return replace(RoomState(members=members, next_member_id=6), **changes)  # type: ignore[arg-type]


def view(state: RoomState, me: int) -> View:
    return View(room="tuesday", me=me, state=state, now=0.0, local_now=0.0)


def menu(state: RoomState, me: int, member: int) -> list[str]:
    return [key for key, _ in member_actions(view(state, me), state.members[member])]


def test_a_co_facilitator_is_not_offered_to_remove_another() -> None:
    state = room()
    assert "remove" not in menu(state, GIL, HAL)
    assert "remove" in menu(state, FRAN, HAL)
    assert "remove" in menu(state, GIL, ANA)
    assert not key_offered("remove", view(state, GIL), state.members[HAL])
    assert key_offered("remove", view(state, FRAN), state.members[HAL])


def test_only_the_host_is_offered_roles() -> None:
    state = room()
    assert menu(state, FRAN, ANA) == ["give", "promote", "remove"]
    assert menu(state, FRAN, GIL) == ["give", "demote", "remove"]
    assert menu(state, GIL, ANA) == ["give", "remove"]
    assert menu(state, FRAN, BEN) == ["admit", "deny"]
    assert menu(state, FRAN, FRAN) == ["take"]


def test_keys_that_stand_for_two_commands() -> None:
    turn = Turn(1, ANA, Via.QUEUE, 0.0, running_since=0.0)
    state = room(turn=turn, next_turn_id=2)
    holder = view(state, ANA)
    assert key_offered("pass_stick", holder, None)
    assert not key_offered("yield_stick", holder, None)
    shared = view(replace(state, turn=replace(turn, shares=1)), ANA)
    assert not key_offered("pass_stick", shared, None)
    assert key_offered("yield_stick", shared, None)
    assert may_share(holder)
    assert not may_share(view(replace(state, pause=Pause(FRAN, "", 0.0)), ANA))


def test_give_on_yourself_is_take_and_a_is_for_who_waits() -> None:
    state = room()
    fran = view(state, FRAN)
    assert not key_offered("give", fran, state.members[FRAN])
    assert key_offered("take", fran, state.members[FRAN])
    assert key_offered("give", fran, state.members[ANA])
    assert not key_offered("give", fran, state.members[BEN])  # Still waiting.
    assert admit_target(fran, state.members[ANA]) == state.members[BEN]
    assert key_offered("admit", fran, None)
    assert not key_offered("admit", view(state, ANA), None)

"""The client reads version 3's compact frames as the events they stand for, in its room."""

from __future__ import annotations

from circle_room.protocol.codec import encode
from circle_room.protocol.messages import (
    HandOver,
    Said,
    Shared,
    StickGiven,
    StickReleased,
)
from circle_room.protocol.model import Member, Release, RoomState, Via
from circle_room.protocol.room import apply_all
from circle_room.tui.client.connection import CircleClient
from circle_room.tui.client.model import Meeting
from circle_room.tui.client.updates import Received

ANA, BEN, CY = 1, 2, 3
AT = 1_700_000_000.25


def client_in_a_turn() -> CircleClient:
    """Cy's client at seq 5: Ana holds turn 4, Ben's hand is up."""
    members = {i: Member(i, name) for i, name in ((ANA, "Ana"), (BEN, "Ben"), (CY, "Cy"))}
    state = apply_all(
        RoomState(members=members, queue=(ANA, BEN), next_turn_id=4),
        [StickGiven(ANA, 4, Via.QUEUE, AT)],
    )
    client = CircleClient("ws://127.0.0.1:1/tuesday", name="Cy")
    client.meeting = Meeting("tuesday", CY, state, seq=5)
    return client


def received(client: CircleClient) -> list[Received]:
    out = []
    while not client._updates.empty():
        update = client._updates.get_nowait()
        if isinstance(update, Received):
            out.append(update)
    return out


def test_a_said_is_the_holders_share_in_their_turn() -> None:
    client = client_in_a_turn()
    client._on_frame(encode(Said(6, "Thank you for listening.")))
    [update] = received(client)
    assert (update.seq, update.event) == (6, Shared(4, ANA, "Thank you for listening."))
    assert client.seq == 6 and client.state.turn is not None and client.state.turn.shares == 1


def test_a_hand_over_is_the_release_of_this_turn_and_the_next_turn_given() -> None:
    client = client_in_a_turn()
    client._on_frame(encode(HandOver(7, BEN, Release.YIELDED, Via.QUEUE, int(AT) + 9)))
    updates = received(client)
    assert [(u.seq, u.event) for u in updates] == [
        (6, StickReleased(ANA, 4, Release.YIELDED, float(int(AT) + 9))),
        (7, StickGiven(BEN, 5, Via.QUEUE, float(int(AT) + 9))),
    ]
    turn = client.state.turn
    assert turn is not None and (turn.holder, turn.id) == (BEN, 5)
    assert client.state.next_turn_id == 6 and client.seq == 7


def test_compact_frames_with_no_turn_to_name_are_not_for_this_room() -> None:
    client = client_in_a_turn()
    client.meeting.state = apply_all(client.state, [StickReleased(ANA, 4, Release.PASSED, AT)])
    before = client.state
    client._on_frame(encode(Said(6, "Hello?")))
    client._on_frame(encode(HandOver(7, BEN, Release.YIELDED, Via.QUEUE, int(AT))))
    assert received(client) == []
    assert client.state == before and client.seq == 5

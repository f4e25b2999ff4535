"""A ``Batch`` is folded exactly like its frames one after another."""

from __future__ import annotations

from circle_room.protocol.codec import encode
from circle_room.protocol.messages import (
    Batch,
    EventFrame,
    Frame,
    Hidden,
    HiddenRun,
    MemberAway,
    MemberBack,
    MemberJoined,
    Resume,
)
from circle_room.protocol.model import Member, Role, RoomState
from circle_room.tui.client.connection import CircleClient

START = RoomState(members={1: Member(1, "Fran", Role.FACILITATOR), 2: Member(2, "Ana")})
FRAMES: tuple[EventFrame | Hidden | HiddenRun, ...] = (
    EventFrame(5, MemberJoined(Member(3, "Ben"))),
    Hidden(6),
    EventFrame(7, MemberAway(3)),
    HiddenRun(9, 2),
    EventFrame(10, MemberBack(3)),
)


def client() -> CircleClient:
    """A client holding ``START`` at seq 4, as after a welcome; it never connects."""
    resume = Resume("token", "epoch", 4)
    return CircleClient("ws://127.0.0.1:1/tuesday", resume=resume, resume_state=START, clock=float)


def updates(c: CircleClient) -> list[object]:
    found = []
    while not c._updates.empty():
        found.append(c._updates.get_nowait())
    return found


def test_a_batch_is_folded_like_its_frames_one_by_one() -> None:
    one_by_one, batched = client(), client()
    for frame in FRAMES:
        one_by_one._on_frame(encode(frame))
    batch: Frame = Batch(FRAMES)
    batched._on_frame(encode(batch))
    assert batched.state == one_by_one.state and batched.seq == one_by_one.seq == 10
    assert 3 in batched.state.members
    got = updates(batched)
    assert got and got == updates(one_by_one)

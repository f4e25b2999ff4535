"""A change's deliveries per protocol version (``server.versions``), on a room core alone."""

from __future__ import annotations

from dataclasses import replace

from circle_room.protocol.codec import decode, encode
from circle_room.protocol.handover import expand, split
from circle_room.protocol.messages import (
    EventFrame,
    HandOver,
    Hidden,
    HiddenRun,
    LowerHand,
    MeToo,
    MeTooCount,
    RaiseHand,
    Said,
    Share,
    Yield,
)
from circle_room.protocol.model import Role, RoomState, Settings
from circle_room.server.config import RelayConfig
from circle_room.server.effects import Attach, Deliver, Effect
from circle_room.server.room_core import RoomCore
from circle_room.server.versions import NEW, OLD, for_versions, tag_of

NOW = 1_000.0


def seat(core: RoomCore, name: str, role: Role = Role.MEMBER) -> int:
    effects = core.join(name, role, True, f"h-{name}", NOW)
    [attach] = [e for e in effects if isinstance(e, Attach)]
    return attach.member_id


def delivers(effects: list[Effect]) -> list[Deliver]:
    return [e for e in effects if isinstance(e, Deliver)]


def meeting() -> tuple[RoomCore, int, int, int, int]:
    """Fran facilitates; Ana holds the stick and has shared; Ben's hand is up; Cy listens."""
    core = RoomCore("tuesday", Settings(agreements=()), RelayConfig(), "e1")
    fran = seat(core, "Fran", Role.FACILITATOR)
    ana, ben, cy = seat(core, "Ana"), seat(core, "Ben"), seat(core, "Cy")
    core.execute(ana, RaiseHand(), NOW)
    core.execute(ben, RaiseHand(), NOW)
    core.execute(ana, Share("Thank you for listening."), NOW)
    return core, fran, ana, ben, cy


def test_version_1_gets_the_pair_and_version_3_one_frame_that_splits_into_it() -> None:
    core, _, ana, _, _ = meeting()
    before = core.state
    effects = core.execute(ana, Yield(), NOW + 1)
    pair = delivers(effects)
    assert len(pair) == 2
    rewritten = delivers(for_versions(effects, before))
    assert [(d.readers, d.data, d.versions) for d in rewritten[:2]] == [
        (d.readers, d.data, OLD) for d in pair
    ]
    joined = rewritten[2]
    assert joined.versions == NEW and joined.readers == pair[0].readers
    frame = decode(joined.data)
    assert isinstance(frame, HandOver)
    assert list(split(frame, before) or ()) == [decode(d.data) for d in pair]
    assert len(joined.data) < (len(pair[0].data) + len(pair[1].data)) / 2


def test_a_hand_over_the_room_does_not_imply_goes_as_two_frames() -> None:
    core, _, ana, _, _ = meeting()
    before = core.state
    effects = core.execute(ana, Yield(), NOW + 1)
    assert before.turn is not None
    for stale in (
        replace(before, turn=None),
        replace(before, next_turn_id=before.next_turn_id + 1),
    ):
        assert for_versions(effects, stale) == effects


def test_a_share_is_said_to_version_3_and_shared_to_version_1() -> None:
    core, _, ana, _, cy = meeting()
    before = core.state
    effects = core.execute(ana, Share("And one more thing."), NOW)
    [shared] = delivers(effects)
    rewritten = delivers(for_versions(effects, before))
    assert [(d.readers, d.versions) for d in rewritten] == [
        (shared.readers, OLD),
        (shared.readers, NEW),
    ]
    assert rewritten[0].data == shared.data
    said = decode(rewritten[1].data)
    assert said == Said(core.seq, "And one more thing.")
    assert isinstance(said, Said) and expand(said, before) == decode(shared.data)
    assert received(effects, cy, 1, False, before) == [decode(shared.data)]
    assert received(effects, cy, 3, False, before) == [said]
    # A room whose turn is not the share's: the full frame, to every version.
    assert for_versions(effects, replace(before, turn=None)) == effects


def test_the_turn_is_followed_through_a_change() -> None:
    # Ana yields to Ben, whose turn the next change's share is in.
    core, _, ana, ben, _ = meeting()
    before = core.state
    core.execute(ana, Yield(), NOW + 1)
    after = core.state
    assert after.holder == ben
    effects = core.execute(ben, Share("Hello."), NOW + 2)
    assert any(tag_of(d.data) == Said.TAG for d in delivers(for_versions(effects, after)))
    assert for_versions(effects, before) == effects


def received(
    effects: list[Effect], member: int, version: int, gapless: bool, room: RoomState
) -> list[object]:
    """The frames a connection of ``member`` gets, as ``server.live_room`` delivers them."""
    frames = []
    for d in delivers(for_versions(effects, room)):
        if member not in d.readers or (d.gapless_only and not gapless):
            continue
        if d.versions is None or version in d.versions:
            frames.append(decode(d.data))
    return frames


def test_the_count_reaches_speakers_and_facilitators_and_every_version_1_connection() -> None:
    core, fran, ana, ben, cy = meeting()
    room = core.state
    effects = core.execute(ben, MeToo(core.state.turn.id), NOW)  # type: ignore[union-attr]
    said, count = core.seq - 1, core.seq
    # The room's rule: the count is for the speaker and the facilitators.
    [counted] = [d for d in delivers(effects) if is_count(d)]
    assert counted.readers == {fran, ana} and counted.versions is None
    for gapless in (True, False):
        for who in (fran, ana):
            for version in (1, 3):
                got = received(effects, who, version, gapless, room)
                assert [f.seq for f in got] == [said, count] if gapless else [count]  # type: ignore[attr-defined]
                assert is_count_frame(got[-1])
        # Ben said it: he hears that, and then the count only on version 1.
        assert [type(f).__name__ for f in received(effects, ben, 1, gapless, room)] == [
            "EventFrame",
            "EventFrame",
        ]
        assert is_count_frame(received(effects, ben, 1, gapless, room)[-1])
        on_3 = received(effects, ben, 3, gapless, room)
        assert on_3[1:] == ([Hidden(count)] if gapless else [])
        # Cy, a listener: version 1 as before; version 3 one frame or none for the two seqs.
        assert received(effects, cy, 1, gapless, room)[-1:] == [decode(counted.data)]
        assert received(effects, cy, 1, gapless, room)[:-1] == ([Hidden(said)] if gapless else [])
        assert received(effects, cy, 3, gapless, room) == ([HiddenRun(count, 2)] if gapless else [])


def is_count(deliver: Deliver) -> bool:
    return is_count_frame(decode(deliver.data))


def is_count_frame(frame: object) -> bool:
    return isinstance(frame, EventFrame) and isinstance(frame.event, MeTooCount)


def test_a_version_1_resume_replays_the_counts_version_3_hides() -> None:
    core, _, _, ben, _ = meeting()
    before = core.seq
    core.execute(ben, MeToo(core.state.turn.id), NOW)  # type: ignore[union-attr]
    count = encode(Hidden(core.seq))
    for counts, gapless in ((True, True), (False, True), (False, False)):
        effects = core.resume("h-Cy", "e1", before, gapless, counts)
        assert effects is not None
        [attach] = [e for e in effects if isinstance(e, Attach)]
        frames = [decode(d) for d in attach.replay]
        got_count = any(
            isinstance(f, EventFrame) and isinstance(f.event, MeTooCount) for f in frames
        )
        assert got_count == counts
        assert (count in attach.replay) == (gapless and not counts)


def test_everything_else_is_left_as_it_is() -> None:
    core, _, _, ben, cy = meeting()
    for effects in (
        core.execute(cy, RaiseHand(), NOW),
        core.execute(ben, LowerHand(), NOW),
    ):
        assert for_versions(effects, core.state) == effects

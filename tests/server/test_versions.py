"""A change's deliveries per protocol version (``server.versions``), on a room core alone."""

from __future__ import annotations

from circle_room.protocol.codec import decode, encode
from circle_room.protocol.handover import split
from circle_room.protocol.messages import (
    EventFrame,
    HandOver,
    Hidden,
    MeToo,
    MeTooCount,
    RaiseHand,
    Share,
    Yield,
)
from circle_room.protocol.model import Role, Settings
from circle_room.server.config import RelayConfig
from circle_room.server.effects import Attach, Deliver, Effect
from circle_room.server.room_core import RoomCore
from circle_room.server.versions import NEW, OLD, for_versions

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


def test_version_1_gets_the_pair_and_version_2_one_frame_that_splits_into_it() -> None:
    core, _, ana, _, _ = meeting()
    effects = core.execute(ana, Yield(), NOW + 1)
    pair = delivers(effects)
    assert len(pair) == 2
    rewritten = delivers(for_versions(effects))
    assert [(d.readers, d.data, d.versions) for d in rewritten[:2]] == [
        (d.readers, d.data, OLD) for d in pair
    ]
    joined = rewritten[2]
    assert joined.versions == NEW and joined.readers == pair[0].readers
    frame = decode(joined.data)
    assert isinstance(frame, HandOver)
    assert list(split(frame)) == [decode(d.data) for d in pair]
    assert len(joined.data) < len(pair[0].data) + len(pair[1].data)


def test_the_count_reaches_speakers_and_facilitators_and_every_version_1_connection() -> None:
    core, fran, ana, ben, cy = meeting()
    effects = core.execute(ben, MeToo(core.state.turn.id), NOW)  # type: ignore[union-attr]
    seq = core.seq
    # The room's rule: the count is for the speaker and the facilitators.
    [count] = [d for d in delivers(effects) if is_count(d)]
    assert count.readers == {fran, ana} and count.versions is None
    rewritten = delivers(for_versions(effects))
    about = [d for d in rewritten if d.data in (count.data, encode(Hidden(seq)))]
    shown, old, hidden = about
    assert shown == count
    # Version 1 always had it; version 2 hears only that the seq is taken.
    assert (old.data, old.readers, old.versions) == (count.data, {ben, cy}, OLD)
    assert (hidden.readers, hidden.versions, hidden.gapless_only) == ({ben, cy}, NEW, True)


def test_a_version_1_resume_replays_the_counts_version_2_hides() -> None:
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


def is_count(deliver: Deliver) -> bool:
    frame = decode(deliver.data)
    return isinstance(frame, EventFrame) and isinstance(frame.event, MeTooCount)


def test_everything_else_is_left_as_it_is() -> None:
    core, _, ana, _, cy = meeting()
    for effects in (
        core.execute(ana, Share("And one more thing."), NOW),
        core.execute(cy, RaiseHand(), NOW),
    ):
        assert for_versions(effects) == effects

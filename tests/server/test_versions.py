"""A change's deliveries per protocol version (``server.versions``), on a room core alone."""

from __future__ import annotations

from circle_room.protocol import PROTOCOL_VERSIONS
from circle_room.protocol.codec import decode, encode
from circle_room.protocol.handover import split
from circle_room.protocol.messages import (
    EventFrame,
    HandOver,
    Hidden,
    HiddenRun,
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

NEWEST = PROTOCOL_VERSIONS[-1]
"""The version that takes a hand-over as one frame (2 until it was retired)."""


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


def received(effects: list[Effect], member: int, version: int, gapless: bool) -> list[object]:
    """The frames a connection of ``member`` gets, as ``server.live_room`` delivers them."""
    frames = []
    for d in delivers(for_versions(effects)):
        if member not in d.readers or (d.gapless_only and not gapless):
            continue
        if d.versions is None or version in d.versions:
            frames.append(decode(d.data))
    return frames


def test_the_count_reaches_speakers_and_facilitators_and_every_version_1_connection() -> None:
    core, fran, ana, ben, cy = meeting()
    effects = core.execute(ben, MeToo(core.state.turn.id), NOW)  # type: ignore[union-attr]
    said, count = core.seq - 1, core.seq
    # The room's rule: the count is for the speaker and the facilitators.
    [counted] = [d for d in delivers(effects) if is_count(d)]
    assert counted.readers == {fran, ana} and counted.versions is None
    for gapless in (True, False):
        for who in (fran, ana):
            for version in (1, NEWEST):
                got = received(effects, who, version, gapless)
                assert [f.seq for f in got] == [said, count] if gapless else [count]  # type: ignore[attr-defined]
                assert is_count_frame(got[-1])
        # Ben said it: he hears that, and then the count only on version 1.
        assert [type(f).__name__ for f in received(effects, ben, 1, gapless)] == [
            "EventFrame",
            "EventFrame",
        ]
        assert is_count_frame(received(effects, ben, 1, gapless)[-1])
        on_2 = received(effects, ben, NEWEST, gapless)
        assert on_2[1:] == ([Hidden(count)] if gapless else [])
        # Cy, a listener: version 1 as before; version 2 one frame or none for the two seqs.
        assert received(effects, cy, 1, gapless)[-1:] == [decode(counted.data)]
        assert received(effects, cy, 1, gapless)[:-1] == ([Hidden(said)] if gapless else [])
        assert received(effects, cy, NEWEST, gapless) == ([HiddenRun(count, 2)] if gapless else [])


def is_count(deliver: Deliver) -> bool:
    return is_count_frame(decode(deliver.data))


def is_count_frame(frame: object) -> bool:
    return isinstance(frame, EventFrame) and isinstance(frame.event, MeTooCount)


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


def test_everything_else_is_left_as_it_is() -> None:
    core, _, ana, _, cy = meeting()
    for effects in (
        core.execute(ana, Share("And one more thing."), NOW),
        core.execute(cy, RaiseHand(), NOW),
    ):
        assert for_versions(effects) == effects

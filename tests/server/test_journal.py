"""The circle's journal: replayed, it is the circle a full snapshot would hold.

Random meetings run through the room core and its ``Saver`` on a real store,
with the disk failing now and then and the journal compacted early: after
every step, what a restarted relay would load is exactly the whole circle of
the last save that worked. A record torn by a relay killed mid-write is left
out, and no share text ever reaches the file.
"""

from __future__ import annotations

import logging
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circle_room.protocol.errors import Refused
from circle_room.protocol.messages import (
    AckSignal,
    GiveStick,
    Leave,
    LowerHand,
    MeToo,
    Pass,
    PauseCircle,
    RaiseHand,
    Remove,
    ResumeCircle,
    SendSignal,
    Share,
    StartRound,
    TakeStick,
    Yield,
)
from circle_room.protocol.model import Role, RoomState, Settings, SignalKind
from circle_room.server.config import RelayConfig
from circle_room.server.effects import Effect, Save
from circle_room.server.journal import Record, replay
from circle_room.server.room_core import RoomCore
from circle_room.server.saving import Saver
from circle_room.server.snapshot import CircleSnapshot
from circle_room.server.store import Store
from tests.server.test_decide_properties import NAMES, commands, observed
from tests.server.test_store import on_disk

ROOM = "tuesday"
CONFIG = RelayConfig(grace_period=60.0, max_members=8, log_size=50)
SECRET = "words that stay in the room 7f3a"


class FlakyStore(Store):
    """A store whose disk fails while ``failing`` is set."""

    failing = False

    def save_meeting(self, *args: Any, **kwargs: Any) -> None:
        if self.failing:
            raise sqlite3.OperationalError("disk I/O error")
        super().save_meeting(*args, **kwargs)


@dataclass
class Shell:
    """Drives a core as ``LiveRoom`` does: save first, commit only if it worked."""

    core: RoomCore
    store: FlakyStore
    saver: Saver
    saved: CircleSnapshot | None = None
    """The whole circle of the last save that worked: what the disk must give back."""
    now: float = 1000.0

    def save(self, save: Save) -> bool:
        if self.saver.save(save) is not None:
            return False
        # Through its bytes, as a full snapshot would come back from the disk.
        self.saved = None if save.circle is None else CircleSnapshot.unpack(save.circle.pack())
        return True

    def perform(self, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, Save):
                self.save(effect)

    def take(self, plan: Any) -> None:
        try:
            change = plan()
        except Refused:
            return
        if change.save is None or self.save(change.save):
            self.perform(self.core.commit(change))

    def step(self, step: tuple[Any, ...]) -> None:
        self.now += 7.0
        kind = step[0]
        members = list(self.core.state.members)
        if kind == "join":
            _, name, facilitator = step
            role = Role.FACILITATOR if facilitator else Role.MEMBER
            token = f"h-{self.core.state.next_member_id}"
            self.take(lambda: self.core.plan_join(name, role, True, token, self.now))
        elif kind == "disk":
            self.store.failing = step[1]
        elif members:
            member = members[step[1] % len(members)]
            if kind == "command":
                self.take(lambda: self.core.plan(member, step[2], self.now))
            else:
                self.perform(self.core.observe(member, step[2], self.now))


def likely(shell: Shell, member: int) -> st.SearchStrategy[Any]:
    """Commands that often work in the room as it stands, and any command at all."""
    state = shell.core.state
    others = [m for m in state.members if m != member] or [member]
    turn = state.turn.id if state.turn is not None else 0
    return st.one_of(
        st.sampled_from([RaiseHand(), LowerHand(None), TakeStick(), Yield(), Pass()]),
        st.sampled_from([Share(SECRET), Share("hello"), MeToo(turn, True), MeToo(turn, False)]),
        st.sampled_from([PauseCircle("breathe"), ResumeCircle(), StartRound(), Leave()]),
        st.builds(GiveStick, st.sampled_from(others)),
        st.builds(Remove, st.sampled_from(others)),
        st.builds(SendSignal, st.sampled_from(SignalKind)),
        st.builds(AckSignal, st.sampled_from([member, *others])),
        commands,
    )


def draw_step(data: st.DataObject, shell: Shell) -> tuple[Any, ...]:
    members = list(shell.core.state.members)
    kind = data.draw(
        st.sampled_from(["join", "disk"] + ["command"] * 6 + ["observe"] if members else ["join"])
    )
    if kind == "join":
        return ("join", data.draw(st.sampled_from(NAMES)), data.draw(st.booleans()))
    if kind == "disk":
        return ("disk", data.draw(st.booleans()))
    member = data.draw(st.sampled_from(members))
    if kind == "observe":
        return ("observe", members.index(member), data.draw(observed))
    return ("command", members.index(member), data.draw(likely(shell, member)))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    compact_after=st.sampled_from([1, 3, 64]),
    agreements=st.sampled_from([(), ("Be kind.",)]),
)
def test_the_journal_replayed_is_the_whole_circle_of_the_last_save(
    data: st.DataObject, compact_after: int, agreements: tuple[str, ...]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = FlakyStore(Path(folder))
        try:
            store.add_room(ROOM, settings=Settings(agreements=agreements))
            core = RoomCore(ROOM, Settings(agreements=agreements), CONFIG, "e1")
            shell = Shell(core, store, Saver(store, ROOM, compact_after))
            for _ in range(data.draw(st.integers(0, 40))):
                shell.step(draw_step(data, shell))
                assert store.load_circle(ROOM) == shell.saved
            assert SECRET.encode() not in on_disk(store)
        finally:
            store.close()


def seated(store: FlakyStore, compact_after: int = 64) -> Shell:
    """A room with two members, Fran holding the stick."""
    store.add_room(ROOM)
    shell = Shell(
        RoomCore(ROOM, Settings(), CONFIG, "e1"), store, Saver(store, ROOM, compact_after)
    )
    shell.step(("join", "Fran", True))
    shell.step(("join", "Ana", False))
    shell.step(("command", 1, RaiseHand()))
    shell.step(("command", 0, TakeStick()))
    return shell


def test_the_circle_is_written_whole_first_then_when_the_journal_is_as_long_as_the_room(
    tmp_path: Path,
) -> None:
    store = FlakyStore(tmp_path)
    shell = seated(store, compact_after=3)
    # Fran's join wrote the circle whole; Ana's join, her hand, the stick: records.
    assert store.journal_size(ROOM) == 3
    shell.step(("command", 0, PauseCircle("Let's take a breath")))
    assert store.journal_size(ROOM) == 0, "compacted"
    shell.step(("command", 0, ResumeCircle()))
    assert store.journal_size(ROOM) == 1
    assert store.load_circle(ROOM) == shell.saved
    # A failed save: the next one cannot follow it, so it writes the circle whole.
    shell.store.failing = True
    shell.step(("command", 0, PauseCircle("")))
    shell.store.failing = False
    shell.step(("command", 0, PauseCircle("")))
    assert store.journal_size(ROOM) == 0
    assert store.load_circle(ROOM) == shell.saved
    assert shell.saved is not None and shell.saved.state.pause is not None
    store.close()


def test_a_torn_last_record_is_left_out(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = FlakyStore(tmp_path)
    shell = seated(store)
    before = store.load_circle(ROOM)
    assert before == shell.saved and store.journal_size(ROOM) == 3
    # What a relay killed in the middle of writing a record could leave behind.
    whole = Record((b"\x93\x01\x02",), ((9, "h-9"),)).pack()
    for torn in (whole[: len(whole) // 2], b"", b"\xc1", msgpack.packb([[b"\x00"], []])):
        with store._transaction():
            store.append_record(ROOM, torn)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="circle_room.server.journal"):
            assert store.load_circle(ROOM) == before
        assert "unreadable" in caplog.text
        store._db.execute("DELETE FROM journal WHERE id = (SELECT max(id) FROM journal)")
    store.close()


def test_a_record_that_does_not_follow_ends_the_replay() -> None:
    """Records after a missing one cannot be applied: the replay stops before them."""
    empty = CircleSnapshot(RoomState(), {})
    core = RoomCore(ROOM, Settings(), CONFIG, "e")
    first = core.join("Fran", Role.FACILITATOR, True, "h-1", 1.0)
    second = core.join("Ana", Role.MEMBER, True, "h-2", 2.0)
    one, two = (e.record.pack() for e in (*first, *second) if isinstance(e, Save) and e.record)
    whole = replay(empty, [one, two])
    assert [m.name for m in whole.state.members.values()] == ["Fran", "Ana"]
    assert dict(whole.token_hashes) == {1: "h-1", 2: "h-2"}
    assert replay(empty, [one, two]) == CircleSnapshot(core.state, core.places.token_hashes())
    assert replay(empty, [two, one]) == replay(empty, [two]), "a gap stops it"
    assert replay(empty, [one, one]) == replay(empty, [one])


def test_a_record_never_holds_share_text() -> None:
    core = RoomCore(ROOM, Settings(), CONFIG, "e")
    saves = list(core.join("Fran", Role.FACILITATOR, True, "h-1", 1.0))
    saves += core.execute(1, TakeStick(), 2.0)
    first = core.execute(1, Share("the first share of a turn 51c0"), 3.0)
    assert any(isinstance(e, Save) for e in first), "after it, the holder may not pass"
    later = core.execute(1, Share(SECRET), 4.0)
    assert not any(isinstance(e, Save) for e in later), "kept for the next record"
    released = core.execute(1, Yield(), 5.0)
    records = [e.record for e in (*saves, *first, *released) if isinstance(e, Save)]
    assert all(r is not None for r in records)
    last = records[-1]
    assert last is not None and len(last.frames) == 2, "the later share, then the stick let go"
    packed = b"".join(r.pack() for r in records if r is not None)
    assert SECRET.encode() not in packed and b"51c0" not in packed


def test_what_changed_between_saves_is_in_the_next_record(tmp_path: Path) -> None:
    """A later share and a me-too are not saved on their own, yet the next save holds them."""
    store = FlakyStore(tmp_path)
    shell = seated(store)
    turn = shell.core.state.turn
    assert turn is not None
    shell.step(("command", 0, Share("first")))
    shell.step(("command", 0, Share("second")))
    shell.step(("command", 1, MeToo(turn.id, True)))
    shell.step(("command", 1, RaiseHand()))
    saved = store.load_circle(ROOM)
    assert saved == shell.saved and saved is not None and saved.state.turn is not None
    assert saved.state.turn.shares == 2 and saved.state.turn.metoo == {2}
    assert store.journal_size(ROOM) > 0, "replayed, not written whole"
    store.close()

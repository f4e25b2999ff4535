"""What is said in a meeting is found nowhere afterwards: not on disk, in logs or in a core.

A real relay (``circle serve``) and a real plain-mode member (``circle join
--plain``) run in directories of their own, with ``TMPDIR`` pointing inside
them and core dumps on in their parent. Two phrases are shared, one from each
kind of client; then both processes crash with SIGABRT, the worst way a
meeting can end. Neither phrase may appear in any file under those
directories (the data directory, SQLite's journal, temp files, a core file)
or in anything the relay printed.
"""

from __future__ import annotations

import asyncio
import re
import signal
from pathlib import Path

import pytest

from circle_room.protocol.model import Presence
from tests.fault.support import CIRCLE, Spawner, add_room, unlimited_cores
from tests.server.support import JoinFn, all_see

pytestmark = [pytest.mark.fault, pytest.mark.slow]

SAID_BY_BOB = "violet kestrel 4471, what I never said aloud"
SAID_BY_ALICE = "the night of the amber lighthouse 90c2"


def files_holding(root: Path, phrase: str) -> list[Path]:
    needle = phrase.encode()
    return [p for p in sorted(root.rglob("*")) if p.is_file() and needle in p.read_bytes()]


@pytest.mark.timeout(90)
async def test_shared_phrases_leave_no_trace_after_a_crash(
    spawner: Spawner, join: JoinFn, tmp_path: Path
) -> None:
    relay_home, bob_home = tmp_path / "relay", tmp_path / "bob"
    for home in (relay_home, bob_home):
        (home / "tmp").mkdir(parents=True)
    data = relay_home / "data"
    key = add_room(data)
    relay = await spawner.serve(
        data, cwd=relay_home, env={"TMPDIR": str(relay_home / "tmp")}, preexec_fn=unlimited_cores
    )
    fran = await join(relay.url, "Fran", key=key)
    alice = await join(relay.url, "alice")
    bob = await spawner.start(
        [str(CIRCLE), "join", "--plain", relay.url, "--name", "Bob"],
        cwd=bob_home,
        env={"TMPDIR": str(bob_home / "tmp")},
        stdin=asyncio.subprocess.PIPE,
        preexec_fn=unlimited_cores,
    )
    assert bob.proc.stdin is not None

    def type_(line: str) -> None:
        assert bob.proc.stdin is not None
        bob.proc.stdin.write(line.encode() + b"\n")

    await bob.wait_for("Type yes to accept")
    type_("yes")
    await bob.wait_for(r"You are in the .*circle.* as Bob")
    await all_see([fran, alice], lambda p: len(p.state.members) == 3, "bob seated")
    type_("/hand")
    await bob.wait_for("You have the stick")
    type_(SAID_BY_BOB)
    await all_see([fran, alice], lambda p: SAID_BY_BOB in p.shares(), "bob's share")
    await alice.client.raise_hand()
    type_("/yield")
    await all_see([fran, alice], lambda p: p.state.holder == alice.id, "alice holds the stick")
    await alice.client.share(SAID_BY_ALICE)
    await bob.wait_for(re.escape(SAID_BY_ALICE))  # On Bob's screen: his to see.
    await fran.wait(lambda: SAID_BY_ALICE in fran.shares(), "alice's share")

    # Both crash, with core dumps allowed by their parent.
    assert await bob.signal(signal.SIGABRT) == -signal.SIGABRT
    assert await relay.signal(signal.SIGABRT) == -signal.SIGABRT
    await relay.finish()
    await fran.wait(
        lambda: fran.state.members[alice.id].presence is Presence.PRESENT, "still seated"
    )

    assert any(data.iterdir()), "the relay stored nothing: this test looks in the wrong place"
    for phrase in (SAID_BY_BOB, SAID_BY_ALICE):
        assert files_holding(relay_home, phrase) == []
        assert files_holding(bob_home, phrase) == []
        assert [line for line in relay.lines if phrase in line] == []

"""Issue 11, point 2: no core file of the relay or of an SSH seat, and no reading their memory.

A relay's memory holds every share of the meeting. These tests look at real
processes from the outside: ``/proc/PID/limits`` for the core limit, the
owner of ``/proc/PID`` for the dumpable flag (a non-dumpable process's files
belong to root, so the check needs tests that do not run as root; as root it
is skipped, and tests/tui/client/test_private_memory.py still reads the flag
from inside), and the working directory after a SIGABRT. Each check first
proves on an unprotected process that it can see the difference.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from circle_room.server.ssh_config import CHILD_MODULE
from circle_room.tui.cli.gateway import open_gateway
from tests.fault.support import Spawned, Spawner, ssh_login, start_relay, unlimited_cores
from tests.server.support import ROOM, TIMEOUT, MakeRelay

pytestmark = [
    pytest.mark.fault,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's /proc"),
]

IDLE = "import sys, time; print('ready', flush=True); time.sleep(120)"
"""An unprotected process, to prove each check can fail."""
AS_ROOT = os.geteuid() == 0
"""Root's dumpable and non-dumpable processes both have root's /proc files."""


def core_limit(pid: int) -> tuple[str, str]:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max core file size"):
            soft, hard = line.split()[4:6]
            return soft, hard
    raise AssertionError("no core limit in /proc/PID/limits")


def owner(pid: int) -> int:
    return Path(f"/proc/{pid}/status").stat().st_uid


def cores(where: Path) -> list[Path]:
    return [p for p in where.iterdir() if p.name == "core" or p.name.startswith("core.")]


async def idle(spawner: Spawner, cwd: Path) -> Spawned:
    process = await spawner.start([sys.executable, "-c", IDLE], cwd=cwd, preexec_fn=unlimited_cores)
    await process.wait_for("ready")
    return process


async def serve(spawner: Spawner, cwd: Path) -> Spawned:
    return await spawner.serve(cwd / "data", cwd=cwd, preexec_fn=unlimited_cores)


async def test_the_relay_keeps_no_core_limit_and_is_not_dumpable(
    spawner: Spawner, tmp_path: Path
) -> None:
    control = await idle(spawner, tmp_path)
    assert core_limit(control.pid)[0] != "0", "the parent's limit did not reach the child"
    assert AS_ROOT or owner(control.pid) == os.geteuid(), "a dumpable process owns its /proc"

    relay = await serve(spawner, tmp_path)
    assert core_limit(relay.pid) == ("0", "0")
    if not AS_ROOT:
        assert owner(relay.pid) == 0, "the relay is still dumpable"
    assert await relay.signal(signal.SIGTERM) == 0


async def test_a_relay_sent_sigabrt_leaves_no_core_file(spawner: Spawner, tmp_path: Path) -> None:
    control = await idle(spawner, tmp_path)
    assert await control.signal(signal.SIGABRT) == -signal.SIGABRT
    if not cores(tmp_path):
        pattern = Path("/proc/sys/kernel/core_pattern").read_text().strip()
        pytest.skip(f"this machine writes no core file to the working directory ({pattern!r})")
    for found in cores(tmp_path):
        found.unlink()

    relay = await serve(spawner, tmp_path)
    assert await relay.signal(signal.SIGABRT) == -signal.SIGABRT
    assert cores(tmp_path) == []


def seat_processes(url: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # Gone while we looked.
        if CHILD_MODULE.encode() in argv and url.encode() in argv:
            found.append(int(entry.name))
    return found


async def test_the_ssh_seats_child_turns_core_files_off_and_is_not_dumpable(
    make_relay: MakeRelay, tmp_path: Path
) -> None:
    """The gateway runs in this (unprotected) process, so what the child has, it did itself."""
    running = await start_relay(make_relay)
    url = f"ws://127.0.0.1:{running.port}/{ROOM}"
    gateway = await open_gateway(
        running.relay, tmp_path / "ssh", "127.0.0.1", 0, url[: -len(ROOM) - 1]
    )
    try:
        conn, answers = await ssh_login(gateway.port, "Robin")
        assert conn is not None, answers.instructions
        async with conn:
            await conn.create_process(term_type="xterm", term_size=(80, 24))
            pid = 0

            async def started() -> None:
                nonlocal pid
                while not (found := seat_processes(url)) or core_limit(found[0])[1] != "0":
                    await asyncio.sleep(0.05)  # Polling /proc: nothing to wait on.
                pid = found[0]

            await asyncio.wait_for(started(), TIMEOUT * 4)
            assert core_limit(pid) == ("0", "0")
            if not AS_ROOT:
                assert owner(pid) == 0, "the seat is still dumpable"
    finally:
        await gateway.close()

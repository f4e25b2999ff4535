"""Core dumps off and memory private, checked in fresh processes (it cannot be undone).

The whole ``circle`` process and the SSH seat's child are checked from the
outside in tests/fault/test_core_dumps.py.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from circle_room.tui.cli.main import main
from circle_room.tui.client.private_memory import PR_GET_DUMPABLE, _prctl

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")

PROBE = """
import ctypes, json, resource, sys
libc = ctypes.CDLL(None)
state = {"core": resource.getrlimit(resource.RLIMIT_CORE), "dumpable": libc.prctl(3, 0, 0, 0)}
"""


def run(code: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    found: dict[str, object] = json.loads(result.stdout)
    return found


@linux_only
def test_a_process_turns_core_files_off_and_becomes_non_dumpable() -> None:
    before = run(PROBE + "print(json.dumps(state))")
    assert before["dumpable"] == 1, "a fresh process starts dumpable, or this proves nothing"
    after = run(
        "from circle_room.tui.client.private_memory import keep_memory_private\n"
        "privacy = keep_memory_private()\n"
        + PROBE
        + "state['privacy'] = [privacy.no_core_files, privacy.not_dumpable]\n"
        "print(json.dumps(state))"
    )
    assert after == {"core": [0, 0], "dumpable": 0, "privacy": [True, True]}


@linux_only
def test_exec_makes_a_process_dumpable_again_so_children_protect_themselves() -> None:
    """Why the SSH seat's child calls ``keep_memory_private`` although its parent did.

    The core limit is inherited through exec; the dumpable flag is not.
    """
    child = PROBE + "print(json.dumps(state))"
    after_exec = run(
        "import os, sys\n"
        "from circle_room.tui.client.private_memory import keep_memory_private\n"
        "keep_memory_private()\n"
        f"os.execv(sys.executable, [sys.executable, '-c', {child!r}])"
    )
    assert after_exec == {"core": [0, 0], "dumpable": 1}


def test_main_called_with_arguments_leaves_the_calling_process_alone(tmp_path: Path) -> None:
    """Tests call ``main([...])`` in-process: pytest must stay as it was."""
    core = resource.getrlimit(resource.RLIMIT_CORE)
    prctl = _prctl()
    dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0) if prctl is not None else None
    assert main(["room", "list", "--data-dir", str(tmp_path)]) == 0
    assert resource.getrlimit(resource.RLIMIT_CORE) == core
    if prctl is not None:
        assert prctl(PR_GET_DUMPABLE, 0, 0, 0) == dumpable

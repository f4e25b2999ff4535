"""Keep what a process holds in memory out of core files and away from its neighbours.

The threat: share text lives in the relay's room log and in every client's
screen for as long as a meeting lasts. A crash (or ``kill -ABRT``) with core
dumps enabled writes all of it to a ``core`` file in the working directory,
and any other process of the same user can read a live process's memory
(``/proc/PID/mem``, ``ptrace``, ``gdb -p``). Both are closed here, once, at
the start of every process that may hold share text:

- ``RLIMIT_CORE`` goes to 0, soft and hard, so no core file is written and
  nothing later in the process (or a child, which inherits the limit) can
  turn it back on;
- on Linux the process is made non-dumpable (``prctl(PR_SET_DUMPABLE, 0)``):
  no core either way, and other processes of the same user can no longer
  attach to it or read its memory; its ``/proc/PID`` files belong to root.

The dumpable flag does not survive ``execve`` (the kernel resets it for every
ordinary program), so a child process that holds share text, such as the SSH
gateway's full-screen seat, must call ``keep_memory_private`` itself.
Elsewhere (macOS, Windows) what the OS does not offer is skipped.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
from collections.abc import Callable
from dataclasses import dataclass

PR_GET_DUMPABLE = 3
PR_SET_DUMPABLE = 4
"""From ``<linux/prctl.h>``; stable since Linux 2.3."""


@dataclass(frozen=True)
class Privacy:
    """What ``keep_memory_private`` managed to turn off in this process."""

    no_core_files: bool
    """``RLIMIT_CORE`` is 0, soft and hard."""
    not_dumpable: bool
    """Linux only: not dumpable, so not readable by other processes of the same user."""


def keep_memory_private() -> Privacy:
    """Turn core dumps off and make this process non-dumpable, where the OS allows.

    Call it first thing in a process's entry point, never from a library: it
    changes the whole process and cannot be undone. Never raises.
    """
    return Privacy(no_core_files=_no_core_files(), not_dumpable=_not_dumpable())


def _no_core_files() -> bool:
    try:
        import resource
    except ImportError:  # Windows has no core files to turn off.
        return False
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (OSError, ValueError):
        return False
    return True


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    with contextlib.suppress(OSError, AttributeError):
        prctl = ctypes.CDLL(None, use_errno=True).prctl
        prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        prctl.restype = ctypes.c_int
        return prctl
    return None


def _not_dumpable() -> bool:
    prctl = _prctl()
    if prctl is None:
        return False
    return bool(prctl(PR_SET_DUMPABLE, 0, 0, 0) == 0 and prctl(PR_GET_DUMPABLE, 0, 0, 0) == 0)

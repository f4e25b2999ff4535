"""Joins per second: members joining one Circle room, at 100, 200, 400, 800.

A fresh relay process each time (``fanout.Room``), the members joining from
the listener processes ``--connect-concurrency`` at a time; the time runs
from the first connection to the last ``Welcome``. The members do not read
after their welcome (the room's ``MemberJoined`` broadcasts wait in the
kernel for them), so the figure is the relay's, not the listeners'. The
relay's CPU seconds over the same span are reported too.
"""

from __future__ import annotations

from typing import Any

from fanout import Room


async def run(args: Any, sizes: tuple[int, ...]) -> dict[str, Any]:
    rows = []
    for size in sizes:
        if not args.quiet:
            print(f"[joins] {size} members ...")
        room = await Room("circle", True, args).open()
        try:
            joined = await room.add_listeners(size, read=False)
            await room.stop_listeners()
        finally:
            await room.close()
        seconds = joined["seconds"]
        rows.append(
            {
                "members": size,
                "joined": joined["connected"],
                "seconds": round(seconds, 3),
                "joins_per_s": round(joined["connected"] / seconds, 1),
                "relay_cpu_ms_per_join": round(
                    1e3 * joined["relay_cpu_s"] / max(1, joined["connected"]), 3
                ),
                "failures": joined["failures"],
            }
        )
    return {"rows": rows}

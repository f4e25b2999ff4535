"""A relay with test limits in a process of its own: ``python -m tests.fault.relay_process``.

``circle serve`` has the production limits, which is right for the tests that
attack it. Tests that time an honest member under attack need the honest
speaker to share dozens of times a minute, and a relay in its own process so
that the attacker's and the test's work do not land on its event loop.

Usage: ``python -m tests.fault.relay_process DATA_DIR [CONFIG_JSON]``. The
JSON object overrides ``RelayConfig`` fields; a ``Rate`` field takes
``[burst, per_second]``; ``"passcode"`` sets the room's passcode. The process
prints ``key KEY`` (the facilitator key), then the same "listening" line as
``circle serve``, and stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import dataclasses
import faulthandler
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from circle_room.server.config import Rate, RelayConfig
from circle_room.server.relay import Relay
from circle_room.server.store import Store
from tests.server.support import ROOM


def config_from(overrides: dict[str, Any]) -> RelayConfig:
    rates = {f.name for f in dataclasses.fields(RelayConfig) if f.name.endswith("_rate")}
    values = {k: Rate(*v) if k in rates else v for k, v in overrides.items()}
    return RelayConfig(**values)


async def run(data_dir: Path, overrides: dict[str, Any]) -> None:
    passcode = str(overrides.pop("passcode", ""))
    store = Store(data_dir)
    key = store.add_room(ROOM, passcode)
    relay = Relay(store, config_from(overrides))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await relay.start("127.0.0.1", 0)
    print(f"key {key}", flush=True)
    print(f"Circle relay listening on ws://127.0.0.1:{relay.port}/ROOM", flush=True)
    await stop.wait()
    await relay.close()
    store.close()


def main() -> None:
    # ``kill -USR1 PID`` prints where a stuck relay is stuck.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    overrides = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    asyncio.run(run(Path(sys.argv[1]), overrides))


if __name__ == "__main__":
    main()

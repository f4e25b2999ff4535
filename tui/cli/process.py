"""What the ``circle`` program sets up in its process before it runs any command."""

from __future__ import annotations

import logging

from circle_room.tui.client.private_memory import keep_memory_private


def set_up(*, as_program: bool) -> None:
    """Log warnings to standard error; as the program, keep this process's memory private.

    ``as_program`` is true when the process is ``circle`` itself: its memory
    is then kept out of core files and away from other processes of the same
    user (``tui.client.private_memory``), since the relay's log and every
    client's screen hold share text. Tests that call ``main([...])`` pass
    false, so the test runner is left as it is.
    """
    if as_program:
        keep_memory_private()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

"""``circle join``: check the address, take back a kept seat, then open the meeting.

Before anything opens, the room's greeting is read once: an address that
is wrong, a relay that is not there or a room that does not exist is said
in one sentence on the terminal (exit status 2), and the greeting is handed
on so it is not asked for twice. The member's seat is kept in their state
directory while the client runs (``tui.client.saved_seat``), so a client
that is killed or whose terminal is closed takes its seat back when started
again within the grace period; it is forgotten when the meeting is over for
them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from circle_room.protocol.errors import CircleError
from circle_room.protocol.messages import Greeting
from circle_room.tui.app.terminal import CLEAR_SCREEN
from circle_room.tui.cli.problems import say
from circle_room.tui.client.address import normalise_url
from circle_room.tui.client.dial import fetch_greeting
from circle_room.tui.client.reach import port_problem, why_unreachable
from circle_room.tui.client.saved_seat import SeatShelf, state_dir

UNREACHABLE = 2
"""Exit status when the room cannot be joined from here (as for a usage mistake)."""


def first_greeting(url: str) -> Greeting | str:
    """The room's greeting, or why it could not be read, in a sentence."""
    try:
        return asyncio.run(fetch_greeting(url))
    except (CircleError, OSError) as exc:  # Refused, not a relay, not the relay expected...
        return why_unreachable(url, exc)


def join(args: argparse.Namespace) -> int:
    try:
        url = normalise_url(args.url)
    except ValueError as exc:
        say(port_problem(args.url) or str(exc))
        return UNREACHABLE
    greeting = first_greeting(url)
    if isinstance(greeting, str):
        say(greeting)
        return UNREACHABLE
    # Flags are visible to every user in ``ps``; the environment is not.
    passcode = args.passcode or os.environ.get("CIRCLE_PASSCODE", "")
    key = args.key or os.environ.get("CIRCLE_KEY", "")
    name = args.name or ""
    seat = SeatShelf(state_dir(args.state_dir)).take(url, name)
    try:
        if args.plain:
            from circle_room.tui.plain.session import run_local

            return asyncio.run(
                run_local(url, name=name, passcode=passcode, key=key, greeting=greeting, seat=seat)
            )
        from circle_room.tui.app.app import CircleApp
        from circle_room.tui.app.link import Details, Dialer

        dialer = Dialer(url, seat=seat, greeting=greeting)
        app = CircleApp(
            Details(url, name, passcode, key), dialer=dialer, high_contrast=args.high_contrast
        )
        app.run()
        return finish(app.return_code or 0, quiet=app.quiet, farewell=app.farewell)
    finally:
        seat.release()


def finish(code: int, *, quiet: bool, farewell: str) -> int:
    """After the full screen: clear the terminal after a quiet exit, else say goodbye."""
    if quiet:
        sys.stdout.write(CLEAR_SCREEN)
    elif farewell:
        sys.stdout.write(farewell + "\n")
    sys.stdout.flush()
    return code

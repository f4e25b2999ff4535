"""Hosting from the facilitator's laptop: room, passcode, address, and a clean end.

This is the one place (with the command line) that composes the relay and the
client: ``circle host`` runs a ``Relay`` in-process and the facilitator's app
connects to it over loopback like any member.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shlex
import socket
import weakref
from dataclasses import dataclass

from circle_room.server.relay import Relay
from circle_room.server.store import Store

DEFAULT_ROOM = "circle"

END_REASON = "The meeting has ended."

WORDS = (
    "amber", "apple", "bay", "birch", "bloom", "brook", "calm", "cedar", "clay", "cloud",
    "coral", "cove", "dawn", "dew", "dune", "elm", "fern", "field", "finch", "flint",
    "fog", "glade", "grove", "harbor", "hazel", "heron", "hill", "honey", "ivy", "juniper",
    "kettle", "lake", "lark", "leaf", "linen", "maple", "meadow", "mist", "moss", "oak",
    "olive", "otter", "pebble", "pine", "plum", "pond", "quill", "rain", "reed", "river",
    "robin", "sage", "sand", "shell", "sky", "slate", "snow", "sparrow", "spruce", "stone",
    "straw", "stream", "sun", "thistle", "tide", "wave", "willow", "wren",
)  # fmt: skip
"""Short, unambiguous words that are easy to say aloud in a room."""


def new_passcode(words: int = 3) -> str:
    """Three short words, e.g. ``maple-river-stone``: easy to say, hard to guess online."""
    return "-".join(secrets.choice(WORDS) for _ in range(words))


def lan_address() -> str:
    """This machine's address on the local network, or 127.0.0.1.

    A UDP ``connect`` only picks a route and a source address: no packet is
    sent. If that finds nothing, ask the resolver for our host name.
    """
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("10.254.254.254", 1))
        address = str(s.getsockname()[0])
        if address and not address.startswith(("127.", "0.")):
            return address
    with contextlib.suppress(OSError):
        address = socket.gethostbyname(socket.gethostname())
        if not address.startswith(("127.", "0.")):
            return address
    return "127.0.0.1"


def public_address(listen_host: str) -> str:
    """The address members should use to reach a relay listening on ``listen_host``."""
    if listen_host in ("", "0.0.0.0", "::"):
        return lan_address()
    return listen_host


@dataclass(frozen=True)
class Hosted:
    room: str
    passcode: str
    key: str
    """A fresh facilitator key for this meeting."""


def prepare_room(store: Store, room: str, passcode: str | None) -> Hosted:
    """Create ``room`` or reuse it with a fresh key; set the passcode; start a new meeting.

    ``passcode`` None picks three words; an empty string makes the room open.
    """
    chosen = new_passcode() if passcode is None else passcode
    if store.room(room) is None:
        key = store.add_room(room, chosen)
    else:
        key = store.new_key(room)
        store.set_passcode(room, chosen)
    # A host starts a new meeting: nobody from an earlier one is waiting to resume.
    store.clear_circle(room)
    return Hosted(room, chosen, key)


def join_command(address: str, passcode: str = "") -> str:
    """The ``circle join`` line for members, given what follows it (``tui.cli.tls``).

    ``circle host`` passes no passcode and says it separately: a passcode on a
    command line is visible to every user of that machine in ``ps``.
    """
    line = f"circle join {address}"
    if passcode:
        line += f" --passcode {said_passcode(passcode)}"
    return line


def said_passcode(passcode: str) -> str:
    """``passcode`` as the host shows it: quoted when it must be to paste it whole
    (``'blue kettle'``); three plain words stay as they are."""
    return shlex.quote(passcode)


async def end_meeting(relay: Relay) -> None:
    """Tell every member the meeting has ended (a final close), then stop the relay.

    A final close code stops their clients from reconnecting; the relay's own
    ``close`` (code 1001) would make them wait for a relay that is not coming back.
    The meeting ends once, however often this is called: by the host's app as it
    leaves (before its own connection closes, so members hear that the meeting
    ended, not that the host left), then by the command line's clean-up.
    """
    ending = _ENDING.get(relay)
    if ending is None:
        ending = _ENDING[relay] = asyncio.ensure_future(relay.end_meeting(END_REASON))
    # Shielded: an app that exits mid-way must not cut the goodbyes short.
    await asyncio.shield(ending)


_ENDING: weakref.WeakKeyDictionary[Relay, asyncio.Future[None]] = weakref.WeakKeyDictionary()
"""The ending of each relay's meeting, once begun."""

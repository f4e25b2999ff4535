"""``circle room add`` and ``circle room list``: the rooms a data directory keeps."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from circle_room.server.store import Store, StoreError, default_data_dir
from circle_room.server.tls import own_certificate
from circle_room.tui.cli import tls


def data_dir(args: argparse.Namespace) -> Path:
    """``--data-dir``, or the user's data directory."""
    return Path(args.data_dir) if args.data_dir else default_data_dir()


def room_add(args: argparse.Namespace) -> int:
    """``circle room add NAME``: the room, and its facilitator key shown once."""
    store = Store(data_dir(args))
    try:
        key = store.add_room(args.name, args.passcode or "")
    except StoreError as exc:
        print(f"circle: {exc}", file=sys.stderr)
        return 2
    print(f"Room {args.name!r} created in {store.path.parent}.")
    print(f"Facilitator key (shown only this once; keep it private): {key}")
    own = own_certificate(store.path.parent)
    print(
        f"Members join with: circle join {tls.member_address('HOST', 8765, args.name, own)}"
        + (" and the passcode" if args.passcode else "")
        + " (circle serve prints the line to give them)."
    )
    return 0


def room_list(args: argparse.Namespace) -> int:
    """``circle room list``."""
    rooms = Store(data_dir(args)).rooms()
    if not rooms:
        print("No rooms yet. Create one with: circle room add NAME")
    for record in rooms:
        print(f"{record.name}\t{'passcode' if record.needs_passcode else 'open'}")
    return 0

"""The ``circle`` command: rooms, the relay, and (later) hosting and joining."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from server.config import RelayConfig
from server.relay import Relay
from server.store import Store, StoreError, default_data_dir


def _version() -> str:
    try:
        return version("circle-room")
    except PackageNotFoundError:
        return "unknown"


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir) if args.data_dir else default_data_dir()


def _room_add(args: argparse.Namespace) -> int:
    store = Store(_data_dir(args))
    try:
        key = store.add_room(args.name, args.passcode or "")
    except StoreError as exc:
        print(f"circle: {exc}", file=sys.stderr)
        return 2
    print(f"Room {args.name!r} created in {store.path.parent}.")
    print(f"Facilitator key (shown only this once; keep it private): {key}")
    print(
        f"Members join at ws://HOST:{8765}/{args.name}"
        + (" with the passcode." if args.passcode else ".")
    )
    return 0


def _room_list(args: argparse.Namespace) -> int:
    rooms = Store(_data_dir(args)).rooms()
    if not rooms:
        print("No rooms yet. Create one with: circle room add NAME")
    for record in rooms:
        print(f"{record.name}\t{'passcode' if record.needs_passcode else 'open'}")
    return 0


async def _serve(args: argparse.Namespace) -> int:
    store = Store(_data_dir(args))
    config = RelayConfig(compression=not args.no_compression)
    relay = Relay(store, config)
    await relay.start(args.host, args.port)
    print(f"Circle relay listening on ws://{args.host}:{relay.port}/ROOM", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    # Members see close code 1001 ("going away") and resume when a relay is back.
    await relay.close()
    store.close()
    print("Circle relay stopped.", flush=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="circle", description="A terminal meeting room for peer-support groups."
    )
    parser.add_argument("--version", action="version", version=f"circle {_version()}")
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--data-dir", help="where rooms are kept (default: your user data dir)")
    sub = parser.add_subparsers(dest="command", required=True)

    room = sub.add_parser("room", help="create and list rooms")
    room_sub = room.add_subparsers(dest="room_command", required=True)
    add = room_sub.add_parser("add", parents=[data], help="create a room; prints its key once")
    add.add_argument("name")
    add.add_argument("--passcode", help="members must give this to join")
    add.set_defaults(run=_room_add)
    lst = room_sub.add_parser("list", parents=[data], help="list rooms")
    lst.set_defaults(run=_room_list)

    serve = sub.add_parser("serve", parents=[data], help="run the relay for all rooms")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    serve.add_argument("--no-compression", action="store_true", help="turn off deflate")
    serve.set_defaults(run=lambda a: asyncio.run(_serve(a)))
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())

"""The ``circle`` command: rooms, the relay, hosting, joining and the demo.

This is the one module that composes the server and the client: ``circle host``
and ``circle demo`` run a relay in-process next to the Textual app. Textual is
imported only by the subcommands that open it, so ``room`` and ``serve`` stay light.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from circle_room.server.config import RelayConfig
from circle_room.server.data_dir import DataDirError
from circle_room.server.relay import Relay
from circle_room.server.store import Store, StoreError, default_data_dir
from circle_room.server.tls import TLSSetupError, own_certificate
from circle_room.tui.app.terminal import CLEAR_SCREEN
from circle_room.tui.cli import tls
from circle_room.tui.client.address import normalise_url

if TYPE_CHECKING:
    from circle_room.tui.app.app import CircleApp


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
    own = own_certificate(store.path.parent)
    print(
        f"Members join with: circle join {tls.member_address('HOST', 8765, args.name, own)}"
        + (" and the passcode" if args.passcode else "")
        + " (circle serve prints the line to give them)."
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
    # The relay's own log: one line per thing that happens to a seat (no names, no shares).
    logging.getLogger("circle_room").setLevel(logging.INFO)
    store = Store(_data_dir(args))
    try:
        relay_tls = tls.choose(args, _data_dir(args))
    except TLSSetupError as exc:
        print(f"circle: {exc}", file=sys.stderr)
        return 2
    config = RelayConfig(compression=not args.no_compression)
    relay = Relay(store, config)
    # Handlers first, so a SIGTERM right after the "listening" line still stops cleanly.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    await relay.start(args.host, args.port, relay_tls.context if relay_tls else None)
    scheme = "wss" if relay_tls else "ws"
    print(f"Circle relay listening on {scheme}://{args.host}:{relay.port}/ROOM", flush=True)
    member = tls.member_address("HOST", relay.port, "ROOM", relay_tls)
    print(f"Members join with: circle join {member}")
    gateway = None
    if args.ssh_port is not None:
        from circle_room.tui.cli.gateway import open_gateway

        relay_url = tls.local_url(_loopback(args.host), relay.port, relay_tls)
        gateway = await open_gateway(relay, _data_dir(args), args.host, args.ssh_port, relay_url)
        print(f"SSH gateway listening on port {gateway.port}: ssh -C -p {gateway.port} ROOM@HOST")
    print("\n".join(tls.fingerprint_lines(relay_tls, gateway.fingerprint if gateway else "")))
    sys.stdout.flush()
    await stop.wait()
    if gateway is not None:
        await gateway.close()
    # Members see close code 1001 ("going away") and resume when a relay is back.
    await relay.close()
    store.close()
    print("Circle relay stopped.", flush=True)
    return 0


def _finish(app: CircleApp) -> int:
    if app.quiet:
        sys.stdout.write(CLEAR_SCREEN)
        sys.stdout.flush()
    return app.return_code or 0


def _join(args: argparse.Namespace) -> int:
    try:
        url = normalise_url(args.url)
    except ValueError as exc:
        print(f"circle: {exc}", file=sys.stderr)
        return 2
    # Flags are visible to every user in ``ps``; the environment is not.
    passcode = args.passcode or os.environ.get("CIRCLE_PASSCODE", "")
    key = args.key or os.environ.get("CIRCLE_KEY", "")
    if args.plain:
        from circle_room.tui.plain.session import run_local

        return asyncio.run(run_local(url, name=args.name or "", passcode=passcode, key=key))
    from circle_room.tui.app.app import CircleApp
    from circle_room.tui.app.link import Details

    details = Details(url, args.name or "", passcode, key)
    app = CircleApp(details, high_contrast=args.high_contrast)
    app.run()
    return _finish(app)


def _loopback(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


async def _host(args: argparse.Namespace) -> int:
    from circle_room.tui.app.app import CircleApp
    from circle_room.tui.app.link import Details
    from circle_room.tui.cli.hosting import end_meeting, join_command, prepare_room, public_address

    store = Store(_data_dir(args))
    try:
        hosted = prepare_room(store, args.room, args.passcode)
        relay_tls = tls.choose(args, _data_dir(args))
    except (StoreError, TLSSetupError) as exc:
        print(f"circle: {exc}", file=sys.stderr)
        store.close()
        return 2
    relay = Relay(store, RelayConfig(compression=not args.no_compression))
    try:
        await relay.start(args.host, args.port, relay_tls.context if relay_tls else None)
    except OSError as exc:
        print(f"circle: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        store.close()
        return 2
    port = relay.port
    local = tls.local_url(_loopback(args.host), port, relay_tls)
    gateway = None
    if not args.no_ssh:
        from circle_room.tui.cli.gateway import open_gateway, ssh_instructions

        try:
            gateway = await open_gateway(relay, _data_dir(args), args.host, args.ssh_port, local)
        except OSError as exc:
            print(f"circle: no SSH gateway on port {args.ssh_port}: {exc}", file=sys.stderr)
    ssh_port = gateway.port if gateway else None
    address, public_port = public_address(args.host), port
    tunnel = None
    if args.via:
        from circle_room.tui.cli.tunnel import open_via

        tunnel = await open_via(args.via, _loopback(args.host).strip("[]"), port, ssh_port)
        if tunnel is None:
            await end_meeting(relay)
            if gateway is not None:
                await gateway.close()
            store.close()
            return 2
        address, public_port = await tunnel.public_host(), tunnel.public_port(port)
        ssh_port = tunnel.public_port(ssh_port) if ssh_port else None
    member = tls.member_address(address, public_port, hosted.room, relay_tls)
    # The passcode is said apart from the command: typed as a flag, ``ps`` would show it.
    join = join_command(member, "")
    print(f"Circle is open: room {hosted.room!r}, listening on port {port}.")
    print(f"Members join with:\n    {join}")
    if gateway is not None and ssh_port:
        print("or, with nothing installed, over SSH:")
        print("\n".join(ssh_instructions(address, ssh_port, hosted.room)))
    if hosted.passcode:
        print(f"passcode: {hosted.passcode}")
    print("\n".join(tls.fingerprint_lines(relay_tls, gateway.fingerprint if gateway else "")))
    # The key makes its holder a host who cannot be removed: it is not for
    # sharing. Co-facilitators join as members and are promoted in the app.
    print("To add a co-facilitator, promote them from the member menu (enter).", flush=True)
    # One line each: the join line with its fingerprint fills most of 80 columns.
    hint = join + (f"\npasscode: {hosted.passcode}" if hosted.passcode else "")
    if gateway is not None and ssh_port:
        from circle_room.server.ssh_keys import ssh_command

        hint += f"\nor over SSH: {ssh_command(address, ssh_port, hosted.room)}"
    app = CircleApp(
        Details(tls.room_url(local, hosted.room), args.name, key=hosted.key),
        join_hint=hint,
        hosting=True,
        high_contrast=args.high_contrast,
    )
    try:
        await app.run_async()
    finally:
        await end_meeting(relay)
        if tunnel is not None:
            await tunnel.close()
        if gateway is not None:
            await gateway.close()
        store.close()
    code = _finish(app)
    if not app.quiet:
        print("The meeting has ended. Thank you for hosting.")
    return code


async def _demo(args: argparse.Namespace) -> int:
    import tempfile

    from circle_room.tui.app.app import CircleApp
    from circle_room.tui.app.link import Details
    from circle_room.tui.cli.demo import Demo

    with tempfile.TemporaryDirectory(prefix="circle-demo-") as data_dir:
        demo = Demo(Path(data_dir), facilitator=args.facilitator)
        await demo.start()
        details = Details(demo.url, args.name or "", key=demo.key if args.facilitator else "")
        app = CircleApp(details, high_contrast=args.high_contrast)
        try:
            await app.run_async()
        finally:
            await demo.stop()
    return _finish(app)


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
    serve.add_argument(
        "--ssh-port", type=int, help="also let members join over SSH on this port (0: any free)"
    )
    tls.add_options(serve)
    serve.set_defaults(run=lambda a: asyncio.run(_serve(a)))

    look = argparse.ArgumentParser(add_help=False)
    look.add_argument(
        "--high-contrast", action="store_true", help="a high-contrast theme (NO_COLOR is honoured)"
    )

    host = sub.add_parser(
        "host",
        parents=[data, look],
        help="open a circle on this machine and facilitate it",
        description="Start the relay here and open the facilitator view. "
        "Prints exactly how members join.",
    )
    host.add_argument("--room", default="circle", help="room name (default: circle)")
    host.add_argument(
        "--passcode", help="passcode members give (default: three fresh words; '' for none)"
    )
    host.add_argument("--name", default="Host", help="your name in the circle")
    host.add_argument("--host", default="0.0.0.0", help="address to listen on (default: all)")
    host.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    host.add_argument("--no-compression", action="store_true", help="turn off deflate")
    host.add_argument(
        "--ssh-port", type=int, default=2222, help="SSH gateway port (default 2222; 0: any free)"
    )
    host.add_argument("--no-ssh", action="store_true", help="no SSH gateway")
    host.add_argument(
        "--via",
        metavar="USER@SERVER",
        help="reach members beyond your network through a server you can ssh to "
        "(an SSH reverse tunnel; its sshd needs GatewayPorts clientspecified)",
    )
    tls.add_options(host)
    host.set_defaults(run=lambda a: asyncio.run(_host(a)))

    join = sub.add_parser(
        "join",
        parents=[look],
        help="join a circle",
        description="Join a circle. The address is the one the host gives, "
        "HOST[:PORT]/ROOM#FINGERPRINT (TLS, the relay's certificate pinned), "
        "wss://HOST/ROOM (TLS through a proxy) or ws://HOST:PORT/ROOM (not encrypted).",
    )
    join.add_argument("url", help="e.g. 192.168.1.20:8765/circle#ab2c-d3ef-gh4i-jk5l-mn6o")
    join.add_argument("--name", help="your name in the circle (asked if not given)")
    join.add_argument(
        "--passcode",
        help="the room's passcode (asked if needed; CIRCLE_PASSCODE keeps it out of ps)",
    )
    join.add_argument(
        "--key", help="the facilitator key: join as facilitator (or CIRCLE_KEY, kept out of ps)"
    )
    join.add_argument(
        "--plain",
        action="store_true",
        help="plain line mode: one line per event, for screen readers and dumb terminals",
    )
    join.set_defaults(run=_join)

    demo = sub.add_parser(
        "demo",
        parents=[look],
        help="try a live circle with a few simulated members",
        description="Open a local circle where simulated members raise hands, share and "
        "send me-too. Nothing leaves this machine.",
    )
    demo.add_argument("--name", help="your name in the demo circle")
    demo.add_argument("--facilitator", action="store_true", help="try the facilitator view")
    demo.set_defaults(run=lambda a: asyncio.run(_demo(a)))
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        result: int = args.run(args)
    except DataDirError as exc:
        # A full or read-only disk is the host's to fix: say what to do, no traceback.
        print(f"circle: {exc}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    sys.exit(main())

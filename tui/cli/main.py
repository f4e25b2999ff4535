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
import signal
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from circle_room.protocol.keepalive import RELAY
from circle_room.server.config import RelayConfig
from circle_room.server.data_dir import DataDirError
from circle_room.server.relay import Relay
from circle_room.server.store import Store, StoreError
from circle_room.server.tls import TLSSetupError
from circle_room.tui.cli import joining, proxy, tls
from circle_room.tui.cli.problems import Parser, cannot_listen, port_number, say
from circle_room.tui.cli.process import set_up
from circle_room.tui.cli.redis_node import node_relay
from circle_room.tui.cli.rooms import data_dir, room_add, room_list

if TYPE_CHECKING:
    from circle_room.tui.app.app import CircleApp


def _version() -> str:
    try:
        return version("circle-room")
    except PackageNotFoundError:
        return "unknown"


async def _serve(args: argparse.Namespace) -> int:
    # The relay's own log: one line per thing that happens to a seat (no names, no shares).
    logging.getLogger("circle_room").setLevel(logging.INFO)
    store = Store(data_dir(args))
    try:
        relay_tls = tls.choose(args, data_dir(args))
    except TLSSetupError as exc:
        print(f"circle: {exc}", file=sys.stderr)
        return 2
    config = RelayConfig(compression=not args.no_compression, ping_interval=args.keepalive)
    config = proxy.trusting(config, args)
    # With --redis, one node of several: the rooms' logs in Redis, the records in the store.
    relay = await node_relay(store, args.redis, config) if args.redis else Relay(store, config)
    if isinstance(relay, str):
        say(relay)
        store.close()
        return 2
    # Handlers first, so a SIGTERM right after the "listening" line still stops cleanly.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await relay.start(args.host, args.port, relay_tls.context if relay_tls else None)
    except OSError as exc:
        say(cannot_listen("--port", args.host, args.port, exc))
        store.close()
        return 2
    scheme = "wss" if relay_tls else "ws"
    print(f"Circle relay listening on {scheme}://{args.host}:{relay.port}/ROOM", flush=True)
    member = tls.member_address("HOST", relay.port, "ROOM", relay_tls)
    print(f"Members join with: circle join {member}")
    node_id = getattr(relay, "node_id", None)
    if node_id is not None:
        print(f"Relay node {node_id}: rooms are shared with the other nodes through Redis")
    gateway = None
    if args.ssh_port is not None:
        from circle_room.tui.cli.gateway import open_gateway

        relay_url = tls.local_url(_loopback(args.host), relay.port, relay_tls)
        try:
            gateway = await open_gateway(relay, data_dir(args), args.host, args.ssh_port, relay_url)
        except OSError as exc:
            say(cannot_listen("--ssh-port", args.host, args.ssh_port, exc))
            await relay.close()
            store.close()
            return 2
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
    return joining.finish(app.return_code or 0, quiet=app.quiet, farewell=app.farewell)


def _loopback(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


async def _host(args: argparse.Namespace) -> int:
    from circle_room.tui.app.app import CircleApp
    from circle_room.tui.app.link import Details
    from circle_room.tui.cli.hosting import (
        end_meeting,
        join_command,
        prepare_room,
        public_address,
        said_passcode,
    )

    store = Store(data_dir(args))
    try:
        hosted = prepare_room(store, args.room, args.passcode)
        relay_tls = tls.choose(args, data_dir(args))
    except (StoreError, TLSSetupError) as exc:
        print(f"circle: {exc}", file=sys.stderr)
        store.close()
        return 2
    config = RelayConfig(compression=not args.no_compression, ping_interval=args.keepalive)
    relay = Relay(store, proxy.trusting(config, args))
    try:
        await relay.start(args.host, args.port, relay_tls.context if relay_tls else None)
    except OSError as exc:
        say(cannot_listen("--port", args.host, args.port, exc))
        store.close()
        return 2
    port = relay.port
    local = tls.local_url(_loopback(args.host), port, relay_tls)
    gateway = None
    if not args.no_ssh:
        from circle_room.tui.cli.gateway import open_gateway, ssh_instructions

        try:
            gateway = await open_gateway(relay, data_dir(args), args.host, args.ssh_port, local)
        except OSError as exc:
            problem = cannot_listen("--ssh-port", args.host, args.ssh_port, exc)
            say(f"{problem} Carrying on without SSH: members join with circle join.")
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
        print(f"passcode: {said_passcode(hosted.passcode)}")
    print("\n".join(tls.fingerprint_lines(relay_tls, gateway.fingerprint if gateway else "")))
    # The key makes its holder a host who cannot be removed: it is not for
    # sharing. Co-facilitators join as members and are promoted in the app.
    print("To add a co-facilitator, promote them from the member menu (enter).", flush=True)
    # One line each: the join line with its fingerprint fills most of 80 columns.
    hint = join + (f"\npasscode: {said_passcode(hosted.passcode)}" if hosted.passcode else "")
    if gateway is not None and ssh_port:
        from circle_room.server.ssh_keys import ssh_command

        hint += f"\nor over SSH: {ssh_command(address, ssh_port, hosted.room)}"
    app = CircleApp(
        Details(tls.room_url(local, hosted.room), args.name, key=hosted.key),
        join_hint=hint,
        hosting=True,
        high_contrast=args.high_contrast,
        end_meeting=lambda: end_meeting(relay),
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


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="circle", description="A terminal meeting room for peer-support groups.")
    parser.add_argument("--version", action="version", version=f"circle {_version()}")
    data = Parser(add_help=False)
    data.add_argument("--data-dir", help="where rooms are kept (default: your user data dir)")
    relaying = Parser(add_help=False)
    relaying.add_argument(
        "--keepalive",
        type=_seconds,
        default=RELAY.idle,
        metavar="SECONDS",
        help=f"ping a member's link after this long without a word (default {RELAY.idle:g}); "
        "lower it where routers forget idle connections sooner",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    room = sub.add_parser("room", help="create and list rooms")
    room_sub = room.add_subparsers(dest="room_command", required=True)
    add = room_sub.add_parser("add", parents=[data], help="create a room; prints its key once")
    add.add_argument("name")
    add.add_argument("--passcode", help="members must give this to join")
    add.set_defaults(run=room_add)
    lst = room_sub.add_parser("list", parents=[data], help="list rooms")
    lst.set_defaults(run=room_list)

    serve = sub.add_parser("serve", parents=[data, relaying], help="run the relay for all rooms")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=port_number, default=8765, help="port (0 picks a free one)")
    serve.add_argument("--no-compression", action="store_true", help="turn off deflate")
    serve.add_argument(
        "--ssh-port",
        type=port_number,
        help="also let members join over SSH on this port (0: any free)",
    )
    serve.add_argument(
        "--redis",
        metavar="URL",
        help="be one relay node of several, sharing rooms through Redis (redis://HOST:PORT)",
    )
    tls.add_options(serve)
    serve.set_defaults(run=lambda a: asyncio.run(_serve(a)))

    look = Parser(add_help=False)
    look.add_argument(
        "--high-contrast", action="store_true", help="a high-contrast theme (NO_COLOR is honoured)"
    )

    host = sub.add_parser(
        "host",
        parents=[data, relaying, look],
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
    host.add_argument("--port", type=port_number, default=8765, help="port (0 picks a free one)")
    host.add_argument("--no-compression", action="store_true", help="turn off deflate")
    host.add_argument(
        "--ssh-port",
        type=port_number,
        default=2222,
        help="SSH gateway port (default 2222; 0: any free)",
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
    join.add_argument(
        "--state-dir",
        help="where your seat is kept while you are in, so a closed client gets it back "
        "(default: your user state dir, or CIRCLE_STATE_DIR)",
    )
    join.set_defaults(run=joining.join)

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
    set_up(as_program=argv is None)
    args = build_parser().parse_args(argv)
    try:
        result: int = args.run(args)
    except KeyboardInterrupt:
        return 130  # Ctrl-C while starting: the shell's convention, and no traceback.
    except DataDirError as exc:
        # A full or read-only disk is the host's to fix: say what to do, no traceback.
        print(f"circle: {exc}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    sys.exit(main())

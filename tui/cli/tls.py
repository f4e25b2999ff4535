"""The relay's TLS as the command line chooses it, and the lines that let members check it.

``circle host`` and ``circle serve`` speak TLS unless told ``--no-tls``: with
the relay's own certificate (made once in the data directory; members' clients
pin it by the fingerprint in the join line) or with ``--tls-cert`` and
``--tls-key`` (a certificate from an authority, verified the usual way, so
the join line needs no fingerprint). Clients on this machine (the host's own
app, the SSH gateway's seats) always pin the key the relay serves, whichever
it is, since ``127.0.0.1`` is not a name any certificate is for.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from circle_room.server.tls import RelayTLS, TLSSetupError, certificate_files, own_certificate
from circle_room.tui.cli import proxy

NO_TLS_WARNING = (
    "circle: warning: --no-tls: the relay speaks plain ws://, unencrypted. Use it only "
    "behind a TLS-terminating proxy that is the one way in; anyone between a member and "
    "this relay can otherwise read every share and the passcode."
)


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("encryption (TLS is on by default)")
    group.add_argument(
        "--tls-cert",
        metavar="PEM",
        help="a certificate (with its chain) from an authority, instead of the relay's own",
    )
    group.add_argument("--tls-key", metavar="PEM", help="the private key of --tls-cert")
    group.add_argument(
        "--no-tls",
        action="store_true",
        help="plain ws://, for a relay behind a TLS-terminating proxy (prints a warning)",
    )
    proxy.add_option(parser)  # Which proxy to believe about who is behind it.


def choose(args: argparse.Namespace, data_dir: Path) -> RelayTLS | None:
    """The relay's TLS as ``args`` ask; None for ``--no-tls``, after warning on stderr.

    Raises ``TLSSetupError`` with a sentence when the options do not fit together
    or the certificate cannot be used.
    """
    if args.no_tls:
        if args.tls_cert or args.tls_key:
            raise TLSSetupError("--no-tls turns TLS off; leave out --tls-cert and --tls-key.")
        print(NO_TLS_WARNING, file=sys.stderr, flush=True)
        return None
    if bool(args.tls_cert) != bool(args.tls_key):
        raise TLSSetupError("--tls-cert and --tls-key go together: a certificate and its key.")
    if args.tls_cert:
        return certificate_files(Path(args.tls_cert), Path(args.tls_key))
    return own_certificate(data_dir)


def local_url(loopback: str, port: int, tls: RelayTLS | None) -> str:
    """The relay's base URL for clients on this machine, pinned when it speaks TLS.

    Add the room with ``server.ssh_gateway``'s rule: ``base/ROOM#pin``
    (``room_url`` below).
    """
    if tls is None:
        return f"ws://{loopback}:{port}"
    return f"wss://{loopback}:{port}#{tls.fingerprint}"


def room_url(base: str, room: str) -> str:
    """``base`` (from ``local_url``) with ``room`` before its fingerprint."""
    address, _, pin = base.partition("#")
    return f"{address}/{room}" + (f"#{pin}" if pin else "")


def member_address(address: str, port: int, room: str, tls: RelayTLS | None) -> str:
    """What members type after ``circle join`` to reach this relay at ``address``."""
    if tls is None:
        return f"ws://{address}:{port}/{room}"
    if not tls.self_signed:
        names = [n for n in tls.names if not n.startswith("*")]
        host = address if address in tls.names or not names else names[0]
        return f"{host}:{port}/{room}"
    return f"{address}:{port}/{room}#{tls.fingerprint}"


def fingerprint_lines(tls: RelayTLS | None, ssh_fingerprint: str = "") -> list[str]:
    """The fingerprints side by side, for a member who checks them (or reads them out)."""
    lines = ["Fingerprints, for members who check them:"]
    if tls is None:
        lines.append("    TLS  none: --no-tls, this relay's link is not encrypted")
    else:
        lines.append(f"    TLS  {tls.fingerprint}   (circle join; after the # in the line)")
    if ssh_fingerprint:
        lines.append(f"    SSH  {ssh_fingerprint}   (ssh shows it on first connect)")
    return lines

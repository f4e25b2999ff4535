"""``--trust-proxy``: the proxies whose ``X-Forwarded-For`` the relay believes.

``circle serve`` and ``circle host`` take it (with the TLS options: it is
for a relay behind a TLS-terminating proxy); ``server.forwarded`` does the
reading. A value that is no address or network is refused by the parser
itself, with the usual usage error (exit status 2).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from circle_room.server.config import RelayConfig
from circle_room.server.forwarded import trusted_networks


def proxy_address(value: str) -> str:
    """``value`` if it is an address or a network, else an argparse error."""
    try:
        trusted_networks([value])
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an address or network: {value!r}") from None
    return value


def add_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trust-proxy",
        action="append",
        type=proxy_address,
        default=[],
        metavar="ADDRESS",
        help="a proxy in front of the relay (address or network, may repeat) whose "
        "X-Forwarded-For names the member, for the per-address guessing limits",
    )


def trusting(config: RelayConfig, args: argparse.Namespace) -> RelayConfig:
    """``config`` with the proxies ``--trust-proxy`` named."""
    return replace(config, trusted_proxies=tuple(args.trust_proxy))

"""Who a member really is when the relay sits behind a proxy: ``X-Forwarded-For``.

Behind a TLS-terminating proxy every connection comes from the proxy's
address, so every member would share one guessing budget: one person's
typos, or one guesser, would lock everyone out. A proxy the host trusts
(``--trust-proxy``) says who it forwards in ``X-Forwarded-For``; nobody
else's word is taken, or a guesser would name a fresh address each time.

The header is a list that each proxy appends to, so only its right end can
be believed: walk it from the right, past the trusted proxies, and the first
address that is not one of them is the member. Anything unreadable there
stops the walk at the last address that was believed.

Pure: the peer's address, the header values and the trusted networks in,
an address out.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

HEADER = "X-Forwarded-For"


def trusted_networks(proxies: Iterable[str]) -> tuple[Network, ...]:
    """``--trust-proxy`` values (addresses or networks) as networks; ValueError if one is not."""
    return tuple(ipaddress.ip_network(proxy.strip(), strict=False) for proxy in proxies)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]  # "[2001:db8::1]:443"
    elif text.count(":") == 1:
        text = text.split(":")[0]  # "192.0.2.7:51234"
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _trusted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: Iterable[Network]) -> bool:
    return any(ip in network for network in trusted)


def client_address(peer: str, forwarded: Iterable[str], trusted: tuple[Network, ...]) -> str:
    """The address to count a connection from ``peer`` under.

    ``forwarded`` is every ``X-Forwarded-For`` header value, in order.
    """
    ip = _ip(peer)
    if ip is None or not trusted or not _trusted(ip, trusted):
        return peer
    hops = [hop for value in forwarded for hop in value.split(",")]
    believed = str(ip)
    for hop in reversed(hops):
        hop_ip = _ip(hop)
        if hop_ip is None:
            break
        believed = str(hop_ip)
        if not _trusted(hop_ip, trusted):
            break
    return believed

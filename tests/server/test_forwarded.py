"""X-Forwarded-For is believed from trusted proxies only, and only from its right end."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from circle_room.server.forwarded import client_address, trusted_networks

PROXY = trusted_networks(["10.0.0.5"])
PROXIES = trusted_networks(["10.0.0.0/24", "2001:db8:ff::/48"])


def test_without_trusted_proxies_the_peer_is_the_member() -> None:
    assert client_address("192.0.2.7", ["198.51.100.1"], ()) == "192.0.2.7"


def test_a_peer_that_is_no_trusted_proxy_is_not_believed() -> None:
    assert client_address("192.0.2.7", ["198.51.100.1"], PROXY) == "192.0.2.7"


def test_a_trusted_proxy_names_the_member() -> None:
    assert client_address("10.0.0.5", ["198.51.100.1"], PROXY) == "198.51.100.1"
    assert client_address("::ffff:10.0.0.5", ["198.51.100.1"], PROXY) == "198.51.100.1"


def test_only_the_right_end_is_believed() -> None:
    # The member may have sent a header of their own: the proxy appended to it.
    assert client_address("10.0.0.5", ["203.0.113.9, 198.51.100.1"], PROXY) == "198.51.100.1"
    assert client_address("10.0.0.5", ["203.0.113.9", "198.51.100.1"], PROXY) == "198.51.100.1"


def test_a_chain_of_trusted_proxies_is_walked_past() -> None:
    chain = ["198.51.100.1, 10.0.0.9, 10.0.0.7"]
    assert client_address("10.0.0.5", chain, PROXIES) == "198.51.100.1"
    assert client_address("2001:db8:ff::1", ["[2001:db8:1::5]:443"], PROXIES) == "2001:db8:1::5"
    assert client_address("10.0.0.5", ["198.51.100.1:51234"], PROXIES) == "198.51.100.1"


@pytest.mark.parametrize("header", [[], [""], ["unknown"], ["198.51.100.1, garbage"]])
def test_nothing_readable_leaves_the_last_address_believed(header: list[str]) -> None:
    assert client_address("10.0.0.5", header, PROXY) == "10.0.0.5"


def test_a_bad_trust_proxy_value_is_an_error() -> None:
    with pytest.raises(ValueError):
        trusted_networks(["not an address"])


@given(st.lists(st.text(max_size=20), max_size=4), st.ip_addresses().map(str))
def test_an_untrusted_peer_is_counted_as_itself_whatever_it_sends(
    header: list[str], peer: str
) -> None:
    ip = ipaddress.ip_address(peer)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # Counted as the IPv4 address it stands for.
    assume(not any(ip in net for net in PROXIES))
    assert client_address(peer, header, PROXIES) == peer

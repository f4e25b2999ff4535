"""Which relay a member reaches: pinned, remembered, vouched for, or plain; real relays on TLS.

Each relay runs in-process on 127.0.0.1 with a certificate of its own (or one
from a test authority, ``trustme``); a relay "changing its certificate" is a
second relay on the same port with another data directory, as when a host
starts Circle afresh on a new machine.
"""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import trustme

from circle_room.server.config import RelayConfig
from circle_room.server.relay import Relay
from circle_room.server.store import Store
from circle_room.server.tls import RelayTLS, certificate_files, own_certificate
from circle_room.tui.client.connection import CircleClient, JoinRefused
from circle_room.tui.client.dial import fetch_greeting
from circle_room.tui.client.trust import (
    KNOWN_RELAYS,
    VOUCHED,
    KnownRelays,
    Protection,
    join_address,
    plain_warning,
)
from tests.server.support import ROOM, JoinFn, RunningRelay

Start = Callable[..., Awaitable[Relay]]


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Start]:
    """``await start(data_dir, tls, port=0)``: a relay with room ``ROOM``; all closed at the end."""
    relays: list[Relay] = []

    async def start_relay(data: str, tls: RelayTLS | None, port: int = 0) -> Relay:
        store = Store(tmp_path / data)
        if store.room(ROOM) is None:
            store.add_room(ROOM)
        relay = Relay(store, RelayConfig(ping_interval=None))
        await relay.start("127.0.0.1", port, tls.context if tls else None)
        relays.append(relay)
        return relay

    yield start_relay
    for relay in relays:
        await relay.close()
        relay.store.close()


async def joined(url: str, name: str) -> CircleClient:
    client = CircleClient(url, name=name, backoff_cap=0.5)
    await client.connect()
    return client


async def refused(url: str) -> JoinRefused:
    with pytest.raises(JoinRefused) as caught:
        await CircleClient(url, name="Ana").connect()
    return caught.value


# --- a fingerprint in the join line -------------------------------------------------------


async def test_a_pinned_fingerprint_is_accepted(
    relay: RunningRelay, join: JoinFn, own_state_dir: Path
) -> None:
    pin = relay.url.rpartition("#")[2]
    ana = await join(relay.url, "Ana")
    security = ana.client.security
    assert security is not None and security.encrypted
    assert (security.protection, security.fingerprint) == (Protection.PINNED, pin)
    assert not (own_state_dir / KNOWN_RELAYS).exists()  # A pin needs nothing remembered.


async def test_a_wrong_fingerprint_is_refused_before_anything_is_sent(
    relay: RunningRelay, tmp_path: Path
) -> None:
    other = own_certificate(tmp_path / "someone-else").fingerprint
    address, _, pin = relay.url.partition("#")
    wrong = f"{address}#{other}"
    for attempt in (refused(wrong), _greeting_refused(wrong)):
        error = await attempt
        assert error.code == "wrong_fingerprint"
        assert f"its fingerprint is {pin}, the line says {other}" in error.message
        assert "Nothing was sent" in error.message
    # The relay never read a request: it has not even heard the room's name.
    assert ROOM not in relay.relay.rooms


async def _greeting_refused(url: str) -> JoinRefused:
    with pytest.raises(JoinRefused) as caught:
        await fetch_greeting(url)
    return caught.value


# --- trust on first use -------------------------------------------------------------------


async def test_trust_on_first_use_is_remembered_then_enforced(
    start: Start, tmp_path: Path, own_state_dir: Path
) -> None:
    first_tls = own_certificate(tmp_path / "laptop")
    first = await start("laptop", first_tls)
    port = first.port
    bare = f"127.0.0.1:{port}/{ROOM}"

    ana = await joined(bare, "Ana")
    assert ana.security is not None
    assert ana.security.protection is Protection.FIRST_USE
    known = own_state_dir / KNOWN_RELAYS
    assert f"127.0.0.1:{port} {first_tls.fingerprint}" in known.read_text().splitlines()
    assert stat.S_IMODE(known.stat().st_mode) == 0o600  # It says which relays you joined.
    ben = await joined(bare, "Ben")
    assert ben.security is not None and ben.security.protection is Protection.REMEMBERED
    for client in (ana, ben):
        await client.close()
    await first.close()

    # Someone else answers on that address now (or the host started afresh elsewhere).
    second_tls = own_certificate(tmp_path / "impostor")
    second = await start("impostor", second_tls, port=port)
    error = await refused(bare)
    assert error.code == "fingerprint_changed"
    sentence = error.message
    assert f"The relay at 127.0.0.1:{port} has changed its certificate" in sentence  # what
    assert f"fingerprint {first_tls.fingerprint}" in sentence
    assert "Ask the host to read you their fingerprint" in sentence  # what to check
    accept = f"circle join {bare}#{second_tls.fingerprint}"
    assert sentence.endswith(accept)  # how to accept
    assert ROOM not in second.rooms  # Never silently: nothing reached it.

    # Accepting: the line from the sentence joins, and replaces what was remembered.
    cal = await joined(accept.removeprefix("circle join "), "Cal")
    assert cal.security is not None and cal.security.protection is Protection.PINNED
    assert KnownRelays(known).get(f"127.0.0.1:{port}") == second_tls.fingerprint
    dee = await joined(bare, "Dee")
    assert dee.security is not None and dee.security.protection is Protection.REMEMBERED
    for client in (cal, dee):
        await client.close()


# --- a certificate from an authority (--tls-cert) --------------------------------------------


async def test_a_certificate_from_an_authority_is_verified_the_usual_way(
    start: Start, tmp_path: Path, own_state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = trustme.CA()
    issued = ca.issue_cert("localhost")
    cert, key, authority = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(authority))
    monkeypatch.setenv("SSL_CERT_FILE", str(authority))  # This machine trusts the test CA.

    relay = await start("vouched", certificate_files(cert, key))
    bare = f"localhost:{relay.port}/{ROOM}"
    ana = await joined(bare, "Ana")  # No fingerprint needed: the authority vouches.
    assert ana.security is not None and ana.security.protection is Protection.VOUCHED
    assert KnownRelays(own_state_dir / KNOWN_RELAYS).get(f"localhost:{relay.port}") == VOUCHED
    ben = await joined(f"wss://localhost:{relay.port}/{ROOM}", "Ben")
    assert ben.security is not None and ben.security.protection is Protection.VOUCHED
    for client in (ana, ben):
        await client.close()
    port = relay.port
    await relay.close()

    # A certificate no authority vouches for, where one used to: refused, not trusted anew.
    impostor = own_certificate(tmp_path / "impostor")
    await start("impostor", impostor, port=port)
    error = await refused(bare)
    assert error.code == "fingerprint_changed"
    assert "it had a certificate from an authority" in error.message
    assert error.message.endswith(f"#{impostor.fingerprint}")


# --- plain links ------------------------------------------------------------------------


async def test_plain_ws_still_works_against_a_plain_relay(start: Start) -> None:
    relay = await start("plain", None)
    ana = await joined(f"ws://127.0.0.1:{relay.port}/{ROOM}", "Ana")
    assert ana.security is not None
    assert ana.security.protection is Protection.PLAIN and not ana.security.encrypted
    await ana.close()


def test_a_plain_link_to_another_machine_comes_with_a_warning() -> None:
    warning = plain_warning("ws://192.168.1.20:8765/tuesday")
    assert "not encrypted" in warning and "passcode" in warning
    assert plain_warning("ws://127.0.0.1:8765/tuesday") == ""  # This machine (SSH seats)
    assert plain_warning("ws://localhost:8765/tuesday") == ""
    assert plain_warning("wss://192.168.1.20:8765/tuesday") == ""


async def test_the_wrong_scheme_is_explained(start: Start, relay: RunningRelay) -> None:
    plain = await start("plain", None)
    with pytest.raises(OSError, match="did not answer in TLS"):
        await CircleClient(f"127.0.0.1:{plain.port}/{ROOM}", name="Ana").connect()
    with pytest.raises(OSError, match=rf"join with 127.0.0.1:{relay.port}/{ROOM}, without ws://"):
        await CircleClient(f"ws://127.0.0.1:{relay.port}/{ROOM}", name="Ana").connect()


# --- addresses ---------------------------------------------------------------------------


def test_the_address_to_type_keeps_its_form() -> None:
    pin = "ab2c-d3ef-gh4i-jk5l-mn6o"
    assert join_address("wss://192.168.1.20:8765/circle", pin) == f"192.168.1.20:8765/circle#{pin}"
    assert join_address("wss://circle.example.org/circle", pin) == (
        f"wss://circle.example.org/circle#{pin}"
    )

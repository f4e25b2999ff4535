"""Which relay a member is talking to: pinned fingerprints, trust on first use, plain links.

Threat: a machine between the member and the relay answering in the relay's
place, to read the shares and the passcode. Nothing is sent on a ``wss://``
link, not even the room's name, until its certificate has passed, in this
order (``protocol.fingerprint`` says what a fingerprint is):

1. the address names a fingerprint (``host:8765/circle#ab2c-...``): the
   relay's key must have it. The address wins over anything remembered, and
   replaces it (that is how a member accepts a changed certificate);
2. a fingerprint remembered for this host and port: the key must have it,
   or the join is refused with ``FingerprintChanged``, never silently;
3. a host remembered as vouched for by an authority: it must still be;
4. neither: a certificate an authority vouches for is accepted and
   remembered as such; any other is trusted on first use and its fingerprint
   remembered, like ``ssh`` does with a new host key.

What is remembered is kept per ``host:port`` in ``known_relays`` in the
user's state directory (0600: it says which relays you joined). A ``ws://``
link has none of this and is not encrypted: ``plain_warning`` says so.
"""

from __future__ import annotations

import contextlib
import enum
import ipaddress
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidMessage

from circle_room.protocol import fingerprint
from circle_room.protocol.errors import CircleError
from circle_room.tui.client.known_relays import KNOWN_RELAYS, VOUCHED, KnownRelays

__all__ = [
    "KNOWN_RELAYS",
    "VOUCHED",
    "FingerprintChanged",
    "KnownRelays",
    "Protection",
    "Security",
    "UntrustedRelay",
    "WrongFingerprint",
    "dial",
    "plain_warning",
    "security_of",
]


class Protection(enum.Enum):
    """How the relay at the other end of a link was recognised."""

    PINNED = "pinned"
    """Its key has the fingerprint the address named."""
    REMEMBERED = "remembered"
    """Its key has the fingerprint remembered from an earlier join."""
    FIRST_USE = "first use"
    """Never seen before: trusted now and remembered."""
    VOUCHED = "vouched"
    """Its certificate is from an authority and names the host."""
    PLAIN = "plain"
    """A ``ws://`` link: not encrypted, nothing checked."""


@dataclass(frozen=True)
class Security:
    """What protects one link to a relay."""

    protection: Protection
    fingerprint: str = ""
    """The relay's key, as a member can compare it with the host's (empty if plain)."""

    @property
    def encrypted(self) -> bool:
        return self.protection is not Protection.PLAIN


class UntrustedRelay(CircleError):
    """The relay's certificate is not the one expected: nothing was sent to it.

    ``code`` is stable for programs; ``message`` says what changed, what to
    check and how to accept the new certificate.
    """

    code = "untrusted_relay"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WrongFingerprint(UntrustedRelay):
    """The relay's key is not the one the address names."""

    code = "wrong_fingerprint"


class FingerprintChanged(UntrustedRelay):
    """The relay's key is not the one remembered for that host."""

    code = "fingerprint_changed"


# --- addresses ------------------------------------------------------------------------------


def split_pin(url: str) -> tuple[str, str]:
    """``url`` without its fragment, and the fingerprint the fragment names ('' if none).

    ``ValueError`` when the fragment is not a fingerprint.
    """
    bare, _, pin = url.partition("#")
    return bare, fingerprint.parse(pin) if pin else ""


def host_port(url: str) -> str:
    """``host:port`` as remembered (``[::1]:8765`` for IPv6), from a normalised URL."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "wss" else 80)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plain_warning(url: str) -> str:
    """What a member must know about a ``ws://`` link to another machine ('' otherwise)."""
    if urlsplit(url).scheme != "ws" or is_loopback(url):
        return ""
    return (
        "This link is not encrypted (ws://): anyone on the network between you and the "
        "relay can read what is said and the passcode."
    )


def describe(security: Security) -> str:
    """One sentence for the member about how their link is protected."""
    if security.protection is Protection.PLAIN:
        return "This link is not encrypted."
    if security.protection is Protection.VOUCHED:
        return "Encrypted; the relay's certificate is vouched for by an authority."
    if security.protection is Protection.FIRST_USE:
        return (
            f"Encrypted. First time here: the relay's fingerprint {security.fingerprint} "
            "is remembered now. Ask the host whether it is theirs."
        )
    return f"Encrypted; the relay's fingerprint is {security.fingerprint}."


# --- opening a link -------------------------------------------------------------------------


Check = Callable[[bytes], Security]
"""Given the relay's certificate (DER), the link's security, or raise ``UntrustedRelay``."""


async def dial(
    url: str, known: KnownRelays | None = None, *, remember: bool = True, **options: Any
) -> ClientConnection:
    """Open a websocket to the relay at ``url`` (a normalised URL, with its pin if any).

    ``options`` go to ``websockets.connect``. The relay's certificate is
    checked before anything is sent (see the module docstring); the result is
    on the connection as ``security_of(ws)``. Raises ``UntrustedRelay``, or
    ``OSError`` with a sentence when the relay does not speak what the scheme
    says (TLS for ``wss://``, plain for ``ws://``). ``remember=False`` checks
    against what is remembered but adds nothing: for a look before joining,
    so that the join itself is the first use the member is told about.
    """
    bare, pin = split_pin(url)
    if urlsplit(bare).scheme == "ws":
        return await _open(bare, None, lambda _: Security(Protection.PLAIN), options)
    known = known or KnownRelays()
    keep = known if remember else known.reading_only()
    address = host_port(bare)
    if pin:
        return await _open(bare, _unverified(), _pinned(keep, bare, pin), options)
    remembered = known.get(address)
    if remembered == VOUCHED:
        try:
            return await _open(bare, _verified(), _vouched(keep, address, strict=True), options)
        except ssl.SSLCertVerificationError:
            # Look again without verifying, only to say which key it shows now.
            return await _open(bare, _unverified(), _changed(bare, VOUCHED), options)
    if remembered:
        return await _open(bare, _unverified(), _remembered(bare, remembered), options)
    try:
        return await _open(bare, _verified(), _vouched(keep, address, strict=False), options)
    except ssl.SSLCertVerificationError:
        pass  # No authority vouches for it: a relay's own certificate. Trust it this once.
    return await _open(bare, _unverified(), _first_use(keep, address), options)


def security_of(ws: ClientConnection) -> Security | None:
    """How the link ``ws`` (opened by ``dial``) is protected."""
    return getattr(ws, "security", None)


async def _open(
    url: str, context: ssl.SSLContext | None, check: Check, options: dict[str, Any]
) -> ClientConnection:
    # A caller's own connection class (the keepalive's) is kept, with the check on top.
    rest = {k: v for k, v in options.items() if k != "create_connection"}
    base = options.get("create_connection", ClientConnection)
    try:
        return await websockets.connect(
            url, ssl=context, create_connection=_checked(check, base), **rest
        )
    except ssl.SSLCertVerificationError:
        raise
    except (ssl.SSLError, ConnectionResetError) as exc:
        if context is None:
            raise
        where = host_port(url)
        # No hint to drop TLS: that is what someone in the middle would want.
        raise OSError(
            f"The relay at {where} did not answer in TLS ({type(exc).__name__}). Check the "
            "address with the host: a relay started with --no-tls is reached with ws://, "
            "and only on a network you trust."
        ) from None
    except InvalidMessage as exc:
        if context is not None:
            raise
        parts = urlsplit(url)
        raise OSError(
            f"The relay at {host_port(url)} did not answer in plain websockets; it may speak "
            f"TLS: join with {parts.netloc}{parts.path}, without ws://."
        ) from exc


def _checked(check: Check, base: type[ClientConnection]) -> type[ClientConnection]:
    """``base``, running ``check`` after the TLS handshake and before the HTTP one."""

    class Checked(base):  # type: ignore[valid-type,misc]
        security: Security | None = None

        async def handshake(self, *args: Any, **kwargs: Any) -> None:
            tls = self.transport.get_extra_info("ssl_object")
            der = tls.getpeercert(binary_form=True) if tls is not None else b""
            self.security = check(der or b"")  # Raises to refuse: nothing has been sent.
            await super().handshake(*args, **kwargs)

    return Checked


def _verified() -> ssl.SSLContext:
    return ssl.create_default_context()


def _unverified() -> ssl.SSLContext:
    """Encrypts but accepts any certificate: the checks above are what decide."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _seen(der: bytes) -> str:
    try:
        return fingerprint.of_certificate(der)
    except ValueError:
        raise UntrustedRelay("The relay sent no certificate that can be checked.") from None


def _pinned(known: KnownRelays, url: str, pin: str) -> Check:
    def check(der: bytes) -> Security:
        seen = _seen(der)
        if seen != pin:
            raise WrongFingerprint(
                f"The relay at {host_port(url)} is not the one in your join line: its "
                f"fingerprint is {seen}, the line says {pin}. Someone may be between you and "
                "the relay, or the line is from another meeting. Nothing was sent. Ask the "
                "host for the join line again and compare the fingerprint after the #."
            )
        # The address is what the member trusts: it corrects what was remembered
        # (accepting a changed certificate) but adds nothing new.
        if known.get(host_port(url)) not in (None, seen):
            _remember(known, host_port(url), seen)
        return Security(Protection.PINNED, seen)

    return check


def _remembered(url: str, remembered: str) -> Check:
    def check(der: bytes) -> Security:
        seen = _seen(der)
        if seen != remembered:
            raise FingerprintChanged(changed_sentence(url, remembered, seen))
        return Security(Protection.REMEMBERED, seen)

    return check


def _changed(url: str, before: str) -> Check:
    def check(der: bytes) -> Security:
        raise FingerprintChanged(changed_sentence(url, before, _seen(der)))

    return check


def _vouched(known: KnownRelays, address: str, *, strict: bool) -> Check:
    def check(der: bytes) -> Security:
        # The handshake has verified it already (or failed before this).
        seen = _seen(der)
        if not strict:
            _remember(known, address, VOUCHED)
        return Security(Protection.VOUCHED, seen)

    return check


def _first_use(known: KnownRelays, address: str) -> Check:
    def check(der: bytes) -> Security:
        seen = _seen(der)
        _remember(known, address, seen)
        return Security(Protection.FIRST_USE, seen)

    return check


def _remember(known: KnownRelays, address: str, what: str) -> None:
    # Remembering protects the next join; failing to must not stop this one.
    with contextlib.suppress(OSError):
        known.remember(address, what)


def changed_sentence(url: str, before: str, now: str) -> str:
    """The refusal when the relay at ``url`` does not hold the key remembered for it."""
    was = "a certificate from an authority" if before == VOUCHED else f"fingerprint {before}"
    return (
        f"The relay at {host_port(url)} has changed its certificate since you last joined "
        f"(it had {was}; now it has fingerprint {now}). Someone may be between you and "
        "the relay, or the host started Circle afresh (a new machine or data folder). "
        "Nothing was sent. Ask the host to read you their fingerprint; only if it is "
        f"{now}, join with: circle join {join_address(url, now)}"
    )


def join_address(url: str, pin: str = "") -> str:
    """What to type after ``circle join`` for ``url``, pinned to ``pin`` if given."""
    parts = urlsplit(url.partition("#")[0])
    # A relay's own address has its port: written bare, it means wss:// to that port.
    shown = f"{parts.netloc}{parts.path}" if parts.port and parts.scheme == "wss" else url
    return shown.partition("#")[0] + (f"#{pin}" if pin else "")

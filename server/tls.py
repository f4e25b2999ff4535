"""The relay's TLS: a certificate of its own, made once and kept, or one the host brings.

Threat: anyone on the network path between a member and the relay reading
what is said in the circle, and the passcode. TLS closes it; what keeps an
impostor out is the member's client checking the certificate, either by the
fingerprint the join line carries (``protocol.fingerprint``) or, for a
certificate from an authority (``--tls-cert``), the usual way.

With no certificate given, the relay makes a key and a self-signed
certificate once, in the data directory (``tls_key.pem``, ``tls_cert.pem``,
both 0600), so the fingerprint members pinned stays valid across restarts.
A certificate that has expired is re-issued for the same key, which keeps the
fingerprint (it is the key's).
"""

from __future__ import annotations

import datetime
import os
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from circle_room.protocol import fingerprint
from circle_room.protocol.errors import CircleError

CERT_FILE = "tls_cert.pem"
KEY_FILE = "tls_key.pem"
VALIDITY = datetime.timedelta(days=3650)
"""Clients pin the key, so the dates matter little; re-issued when past."""


class TLSSetupError(CircleError):
    """The certificate or key given to the relay cannot be used; the message says why."""


@dataclass(frozen=True)
class RelayTLS:
    """What the relay serves TLS with, and what members need to check it."""

    context: ssl.SSLContext
    fingerprint: str
    """Of the certificate's key: what a join line carries, and what seats on loopback pin."""
    self_signed: bool
    """True for the relay's own certificate: members need the fingerprint. False
    for one from an authority: members' clients verify it the usual way."""
    names: tuple[str, ...] = ()
    """DNS names the certificate is for (empty for the relay's own)."""


def own_certificate(data_dir: Path, clock: Callable[[], float] = time.time) -> RelayTLS:
    """The relay's own key and certificate in ``data_dir``, made on first use."""
    data_dir.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = data_dir / KEY_FILE, data_dir / CERT_FILE
    key = _load_or_make_key(key_path)
    now = datetime.datetime.fromtimestamp(clock(), datetime.timezone.utc)
    cert = _read_certificate(cert_path)
    if cert is None or not _fits(cert, key, now):
        cert = _self_signed(key, now)
        _write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM), replace=True)
    os.chmod(cert_path, 0o600)
    tls = certificate_files(cert_path, key_path)
    return RelayTLS(tls.context, tls.fingerprint, self_signed=True)


def certificate_files(cert_path: Path, key_path: Path) -> RelayTLS:
    """TLS from a certificate (chain) and key in PEM files; ``TLSSetupError`` if unusable."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_path, key_path)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError, ssl.SSLError) as exc:
        raise TLSSetupError(
            f"Cannot use the certificate {cert_path} with the key {key_path}: {exc}. "
            "Give the PEM certificate (with its chain) to --tls-cert and its key to --tls-key."
        ) from None
    der = cert.public_bytes(serialization.Encoding.DER)
    return RelayTLS(context, fingerprint.of_certificate(der), self_signed=False, names=_names(cert))


def _names(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    return tuple(str(name) for name in alt.get_values_for_type(x509.DNSName))


def _load_or_make_key(path: Path) -> ec.EllipticCurvePrivateKey:
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Another relay on the same data directory may have just made one: use theirs.
        if _write_private(path, pem, replace=False):
            return key
    os.chmod(path, 0o600)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise TLSSetupError(f"{path} is not the relay's key; move it away to make a new one.")
    return loaded


def _read_certificate(path: Path) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return None


def _fits(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, now: datetime.datetime) -> bool:
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    same_key = cert.public_key().public_bytes(*spki) == key.public_key().public_bytes(*spki)
    return same_key and cert.not_valid_before_utc <= now < cert.not_valid_after_utc


def _self_signed(key: ec.EllipticCurvePrivateKey, now: datetime.datetime) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Circle relay")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


def _write_private(path: Path, data: bytes, *, replace: bool) -> bool:
    """Write ``data`` readable by its owner alone; False if it existed and ``replace`` is off."""
    target = path.with_name(path.name + ".new") if replace else path
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL)
    try:
        fd = os.open(target, flags, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    if replace:
        os.replace(target, path)
    return True

"""The relay's certificate: made once and kept private, or brought by the host."""

from __future__ import annotations

import datetime
import ssl
import stat
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from circle_room.protocol import fingerprint
from circle_room.server import tls
from circle_room.server.tls import TLSSetupError, certificate_files, own_certificate

DAY = 86400.0


def test_the_relays_own_certificate_is_made_once_and_kept_private(tmp_path: Path) -> None:
    first = own_certificate(tmp_path)
    for name in (tls.KEY_FILE, tls.CERT_FILE):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    again = own_certificate(tmp_path)
    assert again.fingerprint == first.fingerprint  # What members pinned stays valid.
    assert first.self_signed and first.names == ()
    fingerprint.parse(first.fingerprint)
    assert own_certificate(tmp_path / "elsewhere").fingerprint != first.fingerprint


def test_files_left_readable_by_others_are_closed_again(tmp_path: Path) -> None:
    own_certificate(tmp_path)
    (tmp_path / tls.KEY_FILE).chmod(0o644)
    own_certificate(tmp_path)
    assert stat.S_IMODE((tmp_path / tls.KEY_FILE).stat().st_mode) == 0o600


def test_an_expired_certificate_is_reissued_for_the_same_key(tmp_path: Path) -> None:
    now = datetime.datetime.now(datetime.timezone.utc).timestamp()
    first = own_certificate(tmp_path, clock=lambda: now)
    before = (tmp_path / tls.CERT_FILE).read_bytes()
    later = now + 11 * 365 * DAY  # past the ten years it was made for
    again = own_certificate(tmp_path, clock=lambda: later)
    after = (tmp_path / tls.CERT_FILE).read_bytes()
    assert after != before
    assert again.fingerprint == first.fingerprint  # the key's, so members notice nothing
    cert = x509.load_pem_x509_certificate(after)
    assert cert.not_valid_before_utc.timestamp() < later < cert.not_valid_after_utc.timestamp()


def test_a_certificate_from_an_authority(tmp_path: Path) -> None:
    ca = trustme.CA()
    issued = ca.issue_cert("circle.example.org", "*.example.org")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    given = certificate_files(cert, key)
    assert not given.self_signed
    assert given.names == ("circle.example.org", "*.example.org")
    der = x509.load_pem_x509_certificate(cert.read_bytes()).public_bytes(Encoding.DER)
    assert given.fingerprint == fingerprint.of_certificate(der)
    assert isinstance(given.context, ssl.SSLContext)


def test_a_certificate_that_cannot_be_used_is_said_plainly(tmp_path: Path) -> None:
    ca = trustme.CA()
    one, other = ca.issue_cert("a.example"), ca.issue_cert("b.example")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    one.cert_chain_pems[0].write_to_path(str(cert))
    other.private_key_pem.write_to_path(str(key))  # not this certificate's key
    with pytest.raises(TLSSetupError, match="--tls-cert"):
        certificate_files(cert, key)
    with pytest.raises(TLSSetupError, match="Cannot use the certificate"):
        certificate_files(tmp_path / "missing.pem", key)

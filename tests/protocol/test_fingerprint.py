"""The TLS fingerprint a join line carries: its form, and that reading it back is exact."""

from __future__ import annotations

import base64
import hashlib
import shlex
from urllib.parse import urlsplit

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from circle_room.protocol import fingerprint

LETTERS = "abcdefghijklmnopqrstuvwxyz234567"


@given(st.binary(max_size=200))
def test_a_fingerprint_is_five_groups_of_four_that_read_back_as_themselves(key: bytes) -> None:
    printed = fingerprint.of_public_key(key)
    groups = printed.split("-")
    assert [len(g) for g in groups] == [4, 4, 4, 4, 4]
    assert set("".join(groups)) <= set(LETTERS)
    assert fingerprint.parse(printed) == printed
    # Read out over the phone and typed in capitals without the dashes: the same.
    assert fingerprint.parse(printed.replace("-", "").upper()) == printed


def test_it_is_the_first_100_bits_of_the_keys_sha256() -> None:
    digest = hashlib.sha256(b"key").digest()
    bits = "".join(f"{byte:08b}" for byte in digest)[:100]
    letters = "".join(LETTERS[int(bits[i : i + 5], 2)] for i in range(0, 100, 5))
    assert fingerprint.of_public_key(b"key").replace("-", "") == letters
    assert base64.b32encode(digest).decode().lower().startswith(letters)


@given(st.text(max_size=40))
def test_parse_gives_a_fingerprint_or_a_sentence(text: str) -> None:
    try:
        parsed = fingerprint.parse(text)
    except ValueError as exc:
        assert "fingerprint" in str(exc)
    else:
        assert fingerprint.parse(parsed) == parsed
        assert parsed.replace("-", "") == text.strip().replace("-", "").lower()


@pytest.mark.parametrize(
    "typo", ["ab2c-d3ef-gh4i-jk5l-mn6", "ab2c-d3ef-gh4i-jk5l-mn60", "ab2c d3ef gh4i jk5l mn6o", ""]
)
def test_what_is_not_a_fingerprint_is_refused(typo: str) -> None:
    with pytest.raises(ValueError, match="not a fingerprint"):
        fingerprint.parse(typo)


def test_the_example_in_the_sentences_has_the_form() -> None:
    assert fingerprint.parse(fingerprint.EXAMPLE) == fingerprint.EXAMPLE


def test_in_a_join_line_it_survives_a_shell_and_a_url() -> None:
    printed = fingerprint.of_public_key(b"any key")
    line = f"circle join 192.168.1.20:8765/circle#{printed}"
    assert shlex.split(line) == ["circle", "join", f"192.168.1.20:8765/circle#{printed}"]
    assert shlex.quote(printed) == printed  # Nothing a shell would need quoted.
    assert urlsplit(f"wss://h:1/circle#{printed}").fragment == printed


def test_it_names_the_certificates_key_not_the_certificate() -> None:
    ca = trustme.CA()
    first = ca.issue_cert("circle.example")
    again = ca.issue_cert("circle.example")
    ders = [_der(c.cert_chain_pems[0].bytes()) for c in (first, again)]
    assert fingerprint.of_certificate(ders[0]) != fingerprint.of_certificate(ders[1])  # new keys
    cert = x509.load_der_x509_certificate(ders[0])
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    assert fingerprint.of_certificate(ders[0]) == fingerprint.of_public_key(spki)


@given(st.binary(max_size=300))
def test_anything_that_is_not_a_certificate_raises_value_error_only(data: bytes) -> None:
    with pytest.raises(ValueError):
        fingerprint.of_certificate(data)


def _der(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)

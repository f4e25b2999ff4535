"""The relay's TLS fingerprint: how a join line names the relay a member should reach.

Threat: a machine between a member and the relay (the café's Wi-Fi, a shared
flat's router, any hop on the way) answering in the relay's place with a
certificate of its own, to read every share and the passcode. A relay's
certificate is its own (self-signed, made once), so no authority vouches for
it: the join line carries its fingerprint instead, and the member's client
refuses a relay whose key does not match, the way ``ssh`` pins a host key.

The form, e.g. ``circle join 192.168.1.20:8765/circle#ab2c-d3ef-gh4i-jk5l-mn6o``:

- what is hashed is the certificate's public key (its DER
  SubjectPublicKeyInfo), not the certificate, so a certificate re-issued for
  the same key keeps its fingerprint;
- the first 100 bits of its SHA-256, in RFC 4648 base32, lower case, in five
  groups of four: only letters and the digits 2-7, so nothing a shell, a URL
  or a chat app treats specially, no 0/o or 1/l to confuse, and short enough
  to read out over the phone;
- 100 bits, because an impostor must find a key whose hash starts with these
  bits (a second preimage, about 2^100 hashes), not merely two keys that
  collide. Signal's safety numbers carry about as much per person.

It rides in the URL's fragment (after ``#``), the part of a URL that is never
sent to the server.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

LENGTH = 20
"""Characters in a fingerprint, without the dashes (5 bits each: 100 bits)."""
GROUP = 4
_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz234567")
EXAMPLE = "ab2c-d3ef-gh4i-jk5l-mn6o"
"""The shape of a fingerprint, for sentences that explain it."""


def of_public_key(spki_der: bytes) -> str:
    """The fingerprint of a DER SubjectPublicKeyInfo."""
    digest = hashlib.sha256(spki_der).digest()
    letters = base64.b32encode(digest[:15]).decode("ascii").lower()[:LENGTH]
    return _grouped(letters)


def of_certificate(cert_der: bytes) -> str:
    """The fingerprint of a DER certificate's public key; ``ValueError`` if it is not one."""
    try:
        key = x509.load_der_x509_certificate(cert_der).public_key()
    except Exception as exc:  # cryptography raises several kinds for bad input.
        raise ValueError(f"not a certificate: {exc}") from None
    return of_public_key(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))


def parse(text: str) -> str:
    """``text`` as a fingerprint in its usual form; ``ValueError`` if it cannot be one.

    Case and dashes do not matter, so a fingerprint read out over the phone and
    typed as ``AB2CD3EF...`` is the same fingerprint.
    """
    letters = text.strip().replace("-", "").lower()
    if len(letters) != LENGTH or not set(letters) <= _ALPHABET:
        raise ValueError(
            f"{text!r} is not a fingerprint: those are {LENGTH} letters and digits 2-7, "
            f"like {EXAMPLE}."
        )
    return _grouped(letters)


def _grouped(letters: str) -> str:
    return "-".join(letters[i : i + GROUP] for i in range(0, len(letters), GROUP))

"""What the kernel counted on one TCP socket, from ``ss -tin`` (Linux).

Bytes and segments are read on the socket itself, so they include everything
the application never sees: websocket and IRC framing, pings, pongs and bare
ACKs. Loopback only: each figure is the same at both ends of a connection.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

_PEER = re.compile(r"(\S+):(\d+)\s+(\S+):(\d+)\s*$")
_FIELDS = ("bytes_received", "bytes_acked", "segs_in", "segs_out")


@dataclass(frozen=True)
class Counts:
    """Totals on one socket since it opened."""

    bytes_received: int = 0
    bytes_sent: int = 0
    segs_in: int = 0
    segs_out: int = 0

    @property
    def segments(self) -> int:
        return self.segs_in + self.segs_out

    def __sub__(self, other: Counts) -> Counts:
        return Counts(
            self.bytes_received - other.bytes_received,
            self.bytes_sent - other.bytes_sent,
            self.segs_in - other.segs_in,
            self.segs_out - other.segs_out,
        )

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.bytes_received + other.bytes_received,
            self.bytes_sent + other.bytes_sent,
            self.segs_in + other.segs_in,
            self.segs_out + other.segs_out,
        )


def snapshot() -> dict[tuple[int, int], Counts]:
    """Every established TCP socket on 127.0.0.1, by (local port, peer port)."""
    out = subprocess.run(
        ["ss", "-tinH", "state", "established"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: dict[tuple[int, int], Counts] = {}
    key: tuple[int, int] | None = None
    for line in out.splitlines():
        if not line.startswith((" ", "\t")):
            match = _PEER.search(line)
            key = None
            if match and "127.0.0.1" in match.group(1) and "127.0.0.1" in match.group(3):
                key = (int(match.group(2)), int(match.group(4)))
            continue
        if key is None:
            continue
        values = dict.fromkeys(_FIELDS, 0)
        for name in _FIELDS:
            field = re.search(rf"\b{name}:(\d+)", line)
            if field:
                values[name] = int(field.group(1))
        found[key] = Counts(
            values["bytes_received"], values["bytes_acked"], values["segs_in"], values["segs_out"]
        )
        key = None
    return found


def counts(local_port: int, peer_port: int) -> Counts:
    """The counts of one socket (zeros if it is gone)."""
    return snapshot().get((local_port, peer_port), Counts())

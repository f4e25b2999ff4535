"""What a member's client remembers about relays it joined: ``known_relays``.

One line per relay, ``host:port`` and then the fingerprint of the key it
showed (``protocol.fingerprint``), or ``authority`` when an authority vouched
for its certificate: what ``tui.client.trust`` checks the next join against,
like ``ssh``'s ``known_hosts``. The file lives in the user's state directory
and is readable by its owner alone: it says which relays you joined.
"""

from __future__ import annotations

import os
from pathlib import Path

KNOWN_RELAYS = "known_relays"
VOUCHED = "authority"
"""What ``known_relays`` holds for a host whose certificate an authority vouched for."""


def default_state_dir() -> Path:
    """The per-user state directory, e.g. ~/.local/state/circle on Linux."""
    import platformdirs

    return Path(platformdirs.user_state_dir("circle", appauthor=False))


class KnownRelays:
    """``host:port fingerprint`` lines (or ``host:port authority``), one per relay."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_state_dir() / KNOWN_RELAYS

    def reading_only(self) -> KnownRelays:
        """The same file, read but never written (for a look before joining)."""
        return _ReadingOnly(self.path)

    def get(self, address: str) -> str | None:
        return self._read().get(address)

    def remember(self, address: str, what: str) -> None:
        """Keep ``what`` for ``address`` (a fingerprint, or ``VOUCHED``)."""
        known = self._read()
        if known.get(address) == what:
            return
        known[address] = what
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = ["# Relays you joined: host:port and its TLS fingerprint (circle join)."]
        lines += [f"{where} {value}" for where, value in sorted(known.items())]
        # Written aside, then renamed: two clients joining at once never leave half a file.
        temp = self.path.with_name(f"{self.path.name}.{os.getpid()}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write("\n".join(lines) + "\n")
        os.replace(temp, self.path)

    def _read(self) -> dict[str, str]:
        try:
            text = self.path.read_text()
        except (FileNotFoundError, NotADirectoryError):
            return {}
        known = {}
        for line in text.splitlines():
            fields = line.split()
            if len(fields) == 2 and not line.startswith("#"):
                known[fields[0]] = fields[1]
        return known


class _ReadingOnly(KnownRelays):
    def remember(self, address: str, what: str) -> None:
        pass

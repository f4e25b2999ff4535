"""Where a room is: the address a member types, made into the one URL the client dials."""

from __future__ import annotations

from urllib.parse import urlsplit

from circle_room.tui.client import trust

DEFAULT_PORT = 8765


def normalise_url(url: str) -> str:
    """Accept ``ws://h:p/room``, ``wss://...`` or plain ``host[:port]/room`` (TLS).

    A ``#fingerprint`` after the room pins the relay's certificate (``tui.client.trust``).
    """
    bare = "://" not in url
    if bare:
        url = "wss://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        raise ValueError(f"Use a ws:// or wss:// address, not {parts.scheme}://")
    if not parts.hostname:
        raise ValueError("The address needs a host, like localhost:8765/tuesday")
    room = parts.path.strip("/")
    if not room or "/" in room:
        raise ValueError("The address needs a room name after the host, like host:8765/tuesday")
    # wss:// without a port means a TLS proxy on 443; anything else is a relay on 8765.
    keep = parts.port or (parts.scheme == "wss" and not bare)
    netloc = parts.netloc if keep else f"{parts.netloc}:{DEFAULT_PORT}"
    pin = trust.split_pin(url)[1]
    return f"{parts.scheme}://{netloc}/{room}" + (f"#{pin}" if pin else "")

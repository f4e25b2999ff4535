"""The relay's limits and timings, all in one place and all overridable."""

from __future__ import annotations

from dataclasses import dataclass

from circle_room.protocol.keepalive import RELAY, QuietLink, quiet_link


@dataclass(frozen=True)
class Rate:
    """A token bucket: ``burst`` at once, refilled at ``per_second``."""

    burst: float
    per_second: float


@dataclass(frozen=True)
class RelayConfig:
    grace_period: float = 120.0
    """Seconds an away member keeps identity, hand and stick."""
    handshake_timeout: float = 10.0
    """Seconds from the websocket opening to a complete ``Hello``."""
    max_frame: int = 16 * 1024
    """Largest frame accepted; bigger ones close the connection with 1009."""
    max_members: int = 500
    log_size: int = 10_000
    """Events kept in memory per room for resume; share text lives only here."""
    ping_interval: float | None = RELAY.idle
    """Seconds a link may stay quiet before the relay pings it (``None``: no
    keepalive at all). Lower it where NATs forget idle connections sooner."""
    ping_timeout: float | None = RELAY.timeout
    """Further seconds of silence before the member counts as gone (``None``:
    never). ``protocol.keepalive`` says why these two numbers."""
    seat_buffer: int = 256 * 1024
    """Bytes that may wait to be sent to one connection; past it, the relay stops
    writing to it and closes it with 4012 (the seat is kept: it resumes later)."""
    replay_stall: float = 60.0
    """Seconds a resume's replay may wait for one frame to get out before 4012."""
    close_timeout: float = 10.0
    """Seconds a closing connection has to take its close frame before it is cut."""
    compression: bool = True
    shared_deflate_above: int = 100
    """Connections above which a room deflates each event once for everyone instead
    of once per member (``server.shared_deflate``): fewer bytes below, less CPU above."""
    presence_batch_above: int = 100
    """Connections above which a room holds its joins, aways and backs for
    ``presence_delay`` and sends what it held together (``server.outbox``)."""
    presence_delay: float = 0.1
    """Seconds a large room's presence events may wait to go out together."""
    share_rate: Rate = Rate(burst=5, per_second=1 / 3)
    hand_rate: Rate = Rate(burst=6, per_second=1 / 2)
    metoo_rate: Rate = Rate(burst=10, per_second=1)
    signal_rate: Rate = Rate(burst=3, per_second=1 / 20)
    other_rate: Rate = Rate(burst=20, per_second=5)
    frame_rate: Rate = Rate(burst=40, per_second=20)
    """Every frame a connection sends, well formed or not."""
    max_strikes: int = 100
    """Refused frames in a row (flood or garbage) before the relay hangs up."""
    passcode_rate: Rate = Rate(burst=5, per_second=1 / 12)
    """Wrong guesses per source address, at every door (passcodes, seat codes,
    facilitator keys) and every room together: 5 at once, then one every 12 s."""
    room_guess_rate: Rate = Rate(burst=20, per_second=1 / 6)
    """Wrong guesses at one room from every address together: 20 at once, then
    one every 6 s (a guesser with many addresses is held to this)."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or networks of proxies in front of the relay whose
    ``X-Forwarded-For`` says who the member really is (``server.forwarded``)."""

    @property
    def keepalive(self) -> QuietLink | None:
        """``ping_interval`` and ``ping_timeout`` as one policy; ``None`` when off."""
        return quiet_link(self.ping_interval, self.ping_timeout)

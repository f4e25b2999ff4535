"""The relay's limits and timings, all in one place and all overridable."""

from __future__ import annotations

from dataclasses import dataclass


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
    ping_interval: float | None = 20.0
    ping_timeout: float | None = 60.0
    """Generous, for mobile links that stall for tens of seconds and recover."""
    seat_buffer: int = 256 * 1024
    """Bytes that may wait to be sent to one connection; past it, the relay stops
    writing to it and closes it with 4012 (the seat is kept: it resumes later)."""
    replay_stall: float = 60.0
    """Seconds a resume's replay may wait for one frame to get out before 4012."""
    close_timeout: float = 10.0
    """Seconds a closing connection has to take its close frame before it is cut."""
    compression: bool = True
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
    """Wrong passcodes per source address: 5 at once, then one every 12 s."""

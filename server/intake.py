"""One member's frames on their way in: rate limits, strikes and decoding.

Closes a flood and garbage before they reach the room: every frame, well
formed or not, spends a token of the frame bucket; a command then spends one
of its own kind's bucket (shares, hands, me-too, signals, the rest). A frame
refused here earns a strike, and a member past ``max_strikes`` refusals in a
row is hung up on; one accepted command wipes the slate.

Pure: time comes in as ``now``. A member's intake is kept across reconnects
(a new connection does not refill the buckets) and dropped with their place.
"""

from __future__ import annotations

from dataclasses import dataclass

from circle_room.protocol.codec import decode
from circle_room.protocol.errors import DecodeError
from circle_room.protocol.messages import (
    Command,
    CommandFrame,
    Error,
    LowerHand,
    MeToo,
    RaiseHand,
    SendSignal,
    Share,
)
from circle_room.server.config import RelayConfig
from circle_room.server.limits import TokenBucket


@dataclass(frozen=True)
class Rejected:
    """A frame refused before the room saw it."""

    error: Error
    """The reply for the member."""
    hang_up: bool
    """Too many strikes in a row: close the connection (``CloseCode.POLICY``)."""


def bucket_name(command: Command) -> str:
    """Which rate limit ``command`` counts against: a ``RelayConfig`` field without ``_rate``."""
    if isinstance(command, Share):
        return "share"
    if isinstance(command, (RaiseHand, LowerHand)):
        return "hand"
    if isinstance(command, MeToo):
        return "metoo"
    if isinstance(command, SendSignal):
        return "signal"
    return "other"


class Intake:
    """``take`` each frame; call ``accepted`` once the room carried out its command."""

    def __init__(self, config: RelayConfig) -> None:
        self._config = config
        self._buckets: dict[str, TokenBucket] = {}
        self.strikes = 0
        """Frames refused here in a row (a refusal by the room's rules is no strike)."""

    def take(self, data: bytes | str, now: float) -> CommandFrame | Rejected:
        """The command in ``data``, or why it is refused (which counts as a strike)."""
        wait = self._bucket("frame", now).take(now)
        if wait is not None:
            message = "Too many messages; slow down."
            return self._strike(Error(0, "rate_limited", message, round(wait, 2)))
        if isinstance(data, str):
            return self._strike(Error(0, "bad_frame", "Send binary msgpack frames, not text."))
        try:
            frame = decode(data)
        except DecodeError as exc:
            return self._strike(Error(0, "bad_frame", f"Not understood: {exc}"))
        if not isinstance(frame, CommandFrame):
            message = "Only commands are accepted after the welcome."
            return self._strike(Error(0, "bad_frame", message))
        wait = self._bucket(bucket_name(frame.command), now).take(now)
        if wait is not None:
            message = f"That is a lot at once; try again in {max(1, round(wait))} s."
            return self._strike(Error(frame.ref, "rate_limited", message, round(wait, 2)))
        return frame

    def accepted(self) -> None:
        """The room carried out the last command: the strikes start again from zero."""
        self.strikes = 0

    def _strike(self, error: Error) -> Rejected:
        self.strikes += 1
        return Rejected(error, hang_up=self.strikes > self._config.max_strikes)

    def _bucket(self, name: str, now: float) -> TokenBucket:
        bucket = self._buckets.get(name)
        if bucket is None:
            rate = getattr(self._config, f"{name}_rate")
            bucket = self._buckets[name] = TokenBucket(rate, now)
        return bucket

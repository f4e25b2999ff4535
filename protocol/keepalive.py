"""When a quiet link gets a ping, and when silence means the peer is gone.

Keepalive is not free on a metered link: a ping, its pong and the ACK of the
pong are three TCP segments, and the meeting's own traffic already proves both
ends alive. So each side pings only a link it has heard nothing from for
``QuietLink.idle`` seconds, once per silence, and gives the peer up after
``idle + timeout`` seconds of silence: a peer that died without a word is
noticed within that time.

The relay listens for less long than a client before it pings (``RELAY.idle``
< ``CLIENT.idle``). On an idle link the relay's ping arrives first, is itself
something heard, and the client's automatic pong is heard by the relay: both
silences end, and the client never has to ping. One exchange per
``RELAY.idle`` seconds is about 58 segments per idle member-hour. A member who
only listens in a lively room is pinged by the relay (the room's events prove
the relay alive to the member, but nothing proves the member alive to the
relay); a client pings only when the relay has been silent for longer than the
relay's own ping would take.

Pure: the shells (``server.keepalive``, ``tui.client.keepalive``) read the
clock, note when anything arrived, send the pings and drop dead links.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from circle_room.protocol.errors import LocalProtocolError


@dataclass(frozen=True)
class QuietLink:
    """How long a link may stay quiet before a ping, and after it."""

    idle: float
    """Seconds without hearing anything before this side pings."""
    timeout: float
    """Further seconds of silence after that before the peer counts as gone."""

    def __post_init__(self) -> None:
        if not (self.idle > 0 and self.timeout > 0):
            raise LocalProtocolError(f"keepalive times must be positive, not {self}")

    @property
    def limit(self) -> float:
        """Longest silence before the link is given up: how soon a dead peer is noticed."""
        return self.idle + self.timeout


def quiet_link(idle: float | None, timeout: float | None) -> QuietLink | None:
    """The policy for ``ping_interval``/``ping_timeout`` style settings.

    ``idle=None`` turns keepalive off (no pings, no dead-link checks);
    ``timeout=None`` pings a quiet link but never gives it up.
    """
    if idle is None:
        return None
    return QuietLink(idle, math.inf if timeout is None else timeout)


RELAY = QuietLink(idle=185.0, timeout=50.0)
"""The relay's default: at most one exchange per 185 s on an idle link (three
segments: about 58 an hour), and a member gone silent is let go after 235 s."""
CLIENT = QuietLink(idle=200.0, timeout=40.0)
"""The client's default: longer than the relay's ``idle`` (plus the relay's
timer resolution and a round trip), so that on an idle link the relay pings
first and the client stays quiet; a relay gone silent is noticed within 240 s."""


class Action(enum.Enum):
    WAIT = "wait"
    PING = "ping"
    GIVE_UP = "give up"


@dataclass(frozen=True)
class Check:
    """What to do with a link now, and when to look at it again."""

    action: Action
    again: float
    """When the answer may change, on the same clock as ``now``."""


def check(link: QuietLink, heard: float, pinged_for: float | None, now: float) -> Check:
    """Look at a link last heard from at ``heard``.

    ``pinged_for`` is the ``heard`` of the silence this side last pinged into
    (``None`` if it never pinged): it is equal to ``heard`` when the current
    silence has had its ping, so each silence gets one ping at most. After
    ``PING``, set ``pinged_for = heard`` and send the ping; after ``GIVE_UP``,
    drop the connection (the peer is not answering, so there is no one to say
    goodbye to).
    """
    give_up_at = heard + link.limit
    if now >= give_up_at:
        return Check(Action.GIVE_UP, now)
    ping_at = heard + link.idle
    if now < ping_at:
        return Check(Action.WAIT, ping_at)
    if pinged_for == heard:
        return Check(Action.WAIT, give_up_at)
    return Check(Action.PING, give_up_at)

"""The SSH gateway's limits and choices, all in one place and all overridable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from circle_room.server.ssh_startups import OPENSSH_MAX_STARTUPS, MaxStartups

CHILD_MODULE = "circle_room.tui.app.ssh_child"
"""The module a PTY session runs (``python -m circle_room.tui.app.ssh_child URL --name=NAME``)."""


@dataclass(frozen=True)
class GatewayConfig:
    child_module: str = CHILD_MODULE
    """The module a full-screen seat runs in its child process."""
    child_argv: Callable[[str, str], list[str]] | None = None
    """Replace the child's command line ``(url, name) -> argv`` (tests use a tiny child)."""
    mouse: bool = False
    """Mouse reporting left on by a dropped session garbles the member's terminal."""
    keepalive_interval: float = 15.0
    """Seconds between SSH keepalives to a quiet client."""
    keepalive_count_max: int = 4
    """Unanswered keepalives before the connection counts as dead."""
    login_grace: float = 10.0
    """Seconds a connection may take to ask to log in (key exchange done, a user
    name sent). A real client takes well under one; a socket left open is
    ended, so idle connections cannot hold slots for long."""
    login_timeout: float = 120.0
    """Seconds a connection may take to log in (passcode, name, seat code):
    a person reading and typing, perhaps through a screen reader."""
    max_auth_failures: int = 3
    """Failed authentication rounds on one connection before the gateway hangs up."""
    max_startups: MaxStartups = OPENSSH_MAX_STARTUPS
    """Connections not yet logged in: past ``start``, each newcomer may make the
    gateway drop the oldest idle one (``server.ssh_startups``), surely at ``full``."""
    max_startups_per_address: int = 10
    """Connections not yet logged in from one address (IPv6: one /64); a newcomer
    past it makes the gateway drop that address's oldest idle one."""
    max_sessions: int = 200
    """Sessions at once (a slot is reserved when a session is requested)."""
    max_full_screen: int = 40
    """Full-screen seats at once (~36 MiB each); beyond this, members get plain mode."""
    ticket_lifetime: float = 1800.0
    """Seconds a seat's one-time join ticket stays valid (it is spent when welcomed)."""
    max_line: int = 16 * 1024
    """Characters kept of one line typed in plain mode."""
    max_to_child: int = 64 * 1024
    """Bytes of keys waiting for a full-screen child before the gateway stops reading."""
    max_lines: int = 32
    """Lines waiting for plain mode before the gateway stops reading."""
    max_stall: float = 60.0
    """Seconds plain-mode output may stay blocked by a member who reads nothing."""

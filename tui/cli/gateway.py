"""Compose the SSH gateway with plain mode: what ``circle serve`` and ``circle host`` open.

The gateway lives with the server and knows nothing of the client; plain mode
lives with the client. This is the one place that hands one to the other.
"""

from __future__ import annotations

from pathlib import Path

from circle_room.server.relay import Relay
from circle_room.server.ssh_gateway import SSHGateway, load_host_key, ssh_command
from circle_room.tui.plain.session import serve_ssh

DEFAULT_SSH_PORT = 2222


async def open_gateway(
    relay: Relay, data_dir: Path, host: str, port: int, relay_url: str = ""
) -> SSHGateway:
    """Start an SSH gateway for ``relay`` on ``host:port`` (0 picks a free port)."""
    gateway = SSHGateway(relay, load_host_key(data_dir), serve_ssh, relay_url=relay_url)
    await gateway.start(host, port)
    return gateway


def ssh_instructions(address: str, port: int, room: str) -> list[str]:
    """How members join over SSH at ``address:port`` (fingerprints are shown apart)."""
    return [f"    {ssh_command(address, port, room)}", "  (add -T for plain text mode)"]

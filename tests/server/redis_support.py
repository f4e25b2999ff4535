"""A redis-server of the test's own: a free loopback port, a temporary dir, stopped by pid.

Run as a relay would have it: no RDB snapshots, no AOF, and the relays' user
(``circle``) denied every admin and dangerous command, so a relay cannot turn
persistence on. ``admin_url`` is the default user, for what a test does to
Redis itself (FLUSHALL, reading its memory).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

RELAY_USER = "circle"
RELAY_PASSWORD = "relay-secret"
READY = b"Ready to accept connections"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    port: int
    dir: Path

    @property
    def url(self) -> str:
        """For the relays: the restricted user."""
        return f"redis://{RELAY_USER}:{RELAY_PASSWORD}@127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_redis(folder: Path) -> RedisServer:
    """Start redis-server and return once it accepts connections (it says so on stdout)."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    user = [RELAY_USER, "on", f">{RELAY_PASSWORD}", "~*", "&*", "+@all", "-@admin", "-@dangerous"]
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
    command += ["--save", "", "--appendonly", "no", "--dir", str(folder)]
    command += ["--user", *user, "--user", "default", "on", "nopass", "~*", "&*", "+@all"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    seen = b""
    for line in process.stdout:
        seen += line
        if READY in line:
            return RedisServer(process, port, folder)
    process.wait()
    raise RuntimeError(f"redis-server did not start:\n{seen.decode(errors='replace')}")

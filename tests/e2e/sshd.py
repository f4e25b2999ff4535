"""A real OpenSSH server on loopback, standing in for the server a host tunnels through.

``Sshd.start`` writes a config of its own (its own host key, one authorized
key it generates, forwarding allowed, no PAM, no passwords), starts
``/usr/sbin/sshd -D`` on a free port and waits until it answers; ``stop``
ends it by its pid. As root (CI) it needs ``/run/sshd``, which it makes.
"""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import asyncssh

SSHD = Path("/usr/sbin/sshd")
DEADLINE = 20.0


def free_port() -> int:
    """A port free now; sshd cannot be told port 0, so this is the one race left."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Sshd:
    """One sshd and what a client needs to log in to it."""

    folder: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def user(self) -> str:
        return getpass.getuser()

    @property
    def client_key(self) -> Path:
        return self.folder / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.folder / "known_hosts"

    def start(self, gateway_ports: str = "clientspecified") -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        host_key = asyncssh.generate_private_key("ssh-ed25519")
        client_key = asyncssh.generate_private_key("ssh-ed25519")
        _private(self.folder / "host_key", host_key.export_private_key())
        _private(self.client_key, client_key.export_private_key())
        (self.folder / "id_ed25519.pub").write_bytes(client_key.export_public_key())
        (self.folder / "authorized_keys").write_bytes(client_key.export_public_key())
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation
        for _ in range(3):  # The port may be taken between choosing and binding it.
            self.port = free_port()
            public = host_key.export_public_key().decode().strip()
            self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {public}\n")
            config = self.folder / "sshd_config"
            config.write_text(
                "\n".join(
                    [
                        f"Port {self.port}",
                        "ListenAddress 127.0.0.1",
                        f"HostKey {self.folder / 'host_key'}",
                        f"PidFile {self.folder / 'sshd.pid'}",
                        f"AuthorizedKeysFile {self.folder / 'authorized_keys'}",
                        f"AllowUsers {self.user}",
                        "StrictModes no",
                        "UsePAM no",
                        "PasswordAuthentication no",
                        "KbdInteractiveAuthentication no",
                        "PubkeyAuthentication yes",
                        "PermitRootLogin prohibit-password",
                        "AllowTcpForwarding yes",
                        f"GatewayPorts {gateway_ports}",
                        "LogLevel VERBOSE",
                    ]
                )
                + "\n"
            )
            log = (self.folder / "sshd.log").open("ab")
            self.process = subprocess.Popen(
                [str(SSHD), "-D", "-e", "-f", str(config)], stdout=log, stderr=log
            )
            if self._answers():
                return
            self.stop()
        raise AssertionError(f"sshd did not start:\n{self.log()}")

    def _answers(self) -> bool:
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            assert self.process is not None
            if self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(64).startswith(b"SSH-2.0-"):
                        return True
            except OSError:
                pass
            time.sleep(0.05)  # Polling with a deadline: sshd has no readiness signal.
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        path = self.folder / "sshd.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def client_options(self) -> dict[str, object]:
        """``asyncssh.connect`` options that log in with this test's key alone."""
        return {
            "known_hosts": str(self.known_hosts),
            "client_keys": [str(self.client_key)],
            "config": None,
            "agent_path": None,
        }


def _private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)

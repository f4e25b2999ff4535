"""The SSH gateway's host key: made once, kept private, shown as a fingerprint."""

from __future__ import annotations

import os
from pathlib import Path

import asyncssh

HOST_KEY_FILE = "ssh_host_ed25519_key"


def load_host_key(data_dir: Path) -> asyncssh.SSHKey:
    """The gateway's host key, made on first use and kept (0600) in ``data_dir``.

    Keeping it means the fingerprint members accepted stays valid across restarts.
    """
    path = data_dir / HOST_KEY_FILE
    if path.exists():
        os.chmod(path, 0o600)
        return asyncssh.read_private_key(path)
    data_dir.mkdir(parents=True, exist_ok=True)
    key = asyncssh.generate_private_key("ssh-ed25519", comment="circle gateway host key")
    data = key.export_private_key("openssh")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return key


def fingerprint(key: asyncssh.SSHKey) -> str:
    """``SHA256:...``, as ``ssh`` shows it when asking to trust a new host."""
    return key.get_fingerprint("sha256")


def ssh_command(address: str, port: int, room: str) -> str:
    """The exact line a member types (compression helps a full-screen client a lot)."""
    return f"ssh -C -p {port} {room}@{address}"

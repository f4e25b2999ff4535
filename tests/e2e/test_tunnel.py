"""Members beyond the LAN: the relay reached through a real sshd's remote port forwarding.

The sshd (``tests/e2e/sshd.py``) runs on loopback as the server a host can
ssh to; members connect to the ports it listens on and reach the relay and
the SSH gateway on "the laptop" (this process) through the tunnel, the
relay's TLS end to end.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncssh
import pytest

from circle_room.protocol.model import Presence
from circle_room.server.config import RelayConfig
from circle_room.server.ssh_gateway import SSHGateway, load_host_key
from circle_room.tui.cli.tunnel import Tunnel, TunnelError, Via, reachable
from circle_room.tui.client.connection import Status
from circle_room.tui.client.trust import Protection
from circle_room.tui.plain.session import serve_ssh
from tests.e2e.sshd import SSHD, Sshd
from tests.server.support import TIMEOUT, JoinFn, MakeRelay, RunningRelay

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SSHD.exists(), reason="openssh-server is not installed"),
]


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    server = Sshd(tmp_path / "server")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def laptop(make_relay: MakeRelay) -> RunningRelay:
    return await make_relay(RelayConfig(ping_interval=None))


@pytest.fixture
async def gateway(laptop: RunningRelay, tmp_path: Path) -> AsyncIterator[SSHGateway]:
    gateway = SSHGateway(laptop.relay, load_host_key(tmp_path / "ssh"), serve_ssh)
    await gateway.start("127.0.0.1", 0)
    yield gateway
    await gateway.close()


def test_via_reads_user_server_and_port() -> None:
    assert Via.parse("ana@example.org") == Via("example.org", "ana")
    assert Via.parse("ana@example.org:2200") == Via("example.org", "ana", 2200)
    assert Via.parse("example.org") == Via("example.org")
    assert Via.parse("ana@[2001:db8::1]:22") == Via("2001:db8::1", "ana", 22)
    assert str(Via("2001:db8::1", "ana", 22)) == "ana@[2001:db8::1]:22"
    # What a sentence suggests is a command ssh takes (it has no host:port form).
    assert Via.parse("ana@example.org:2200").ssh == "ssh -p 2200 ana@example.org"
    assert Via.parse("example.org").ssh == "ssh example.org"
    for bad in ("", "ana@", "ana@host:port", "ana@host:99999", "an a@host"):
        with pytest.raises(ValueError, match="--via"):
            Via.parse(bad)


async def test_a_member_joins_through_the_tunnel_and_back_after_it_drops(
    sshd: Sshd, laptop: RunningRelay, gateway: SSHGateway, join: JoinFn
) -> None:
    via = Via("127.0.0.1", sshd.user, sshd.port)
    # Port 0 on the server: any free one (the laptop and the server share loopback here).
    tunnel = Tunnel(via, [(laptop.port, 0), (gateway.port, 0)], options=sshd.client_options())
    await tunnel.open()
    try:
        public = tunnel.public_port(laptop.port)
        assert public not in (0, laptop.port)
        assert await reachable("127.0.0.1", public)

        # The SSH gateway answers on the server's other port: its banner, not sshd's.
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", tunnel.public_port(gateway.port)
        )
        banner = await asyncio.wait_for(reader.readline(), TIMEOUT)
        assert banner.startswith(b"SSH-2.0-AsyncSSH"), banner
        writer.close()

        # The member's line names the server; TLS runs to the laptop's relay, pinned.
        address, _, pin = laptop.url.partition("#")
        line = address.replace(f":{laptop.port}/", f":{public}/") + f"#{pin}"
        sam = await join(laptop.url, "Sam", key=laptop.key)
        dana = await join(line, "Dana")
        assert dana.client.security is not None
        assert dana.client.security.protection is Protection.PINNED
        await dana.client.raise_hand()
        await sam.wait(lambda: dana.id in sam.state.queue or sam.state.holder == dana.id, "hand")

        # The tunnel drops (a closed lid, a new network): it opens again on the same
        # port, and the member's client comes back by itself to the same seat.
        assert tunnel._conn is not None
        tunnel._conn.abort()
        await sam.wait(
            lambda: sam.state.members[dana.id].presence is Presence.AWAY, "Dana away", 15
        )
        await dana.wait(lambda: dana.client.status is Status.CONNECTED, "Dana back", 30)
        await sam.wait(
            lambda: sam.state.members[dana.id].presence is Presence.PRESENT, "Dana present"
        )
        assert tunnel.public_port(laptop.port) == public
    finally:
        await tunnel.close()
    assert "Accepted publickey" in sshd.log()


async def test_a_tunnel_that_will_not_open_says_why(sshd: Sshd, tmp_path: Path) -> None:
    strangers = tmp_path / "empty_known_hosts"
    strangers.write_text("")
    options = {**sshd.client_options(), "known_hosts": str(strangers)}
    tunnel = Tunnel(Via("127.0.0.1", sshd.user, sshd.port), [(1, 0)], options=options)
    with pytest.raises(TunnelError, match=r"host key of 127\.0\.0\.1 is not known here") as e:
        await tunnel.open()
    assert f"`ssh -p {sshd.port} {sshd.user}@127.0.0.1`" in e.value.message
    other_key = tmp_path / "not_authorized"
    other_key.write_bytes(asyncssh.generate_private_key("ssh-ed25519").export_private_key())
    options = {**sshd.client_options(), "client_keys": [str(other_key)]}
    tunnel = Tunnel(Via("127.0.0.1", sshd.user, sshd.port), [(1, 0)], options=options)
    with pytest.raises(TunnelError, match="did not accept your SSH key"):
        await tunnel.open()
    # sshd itself holds that port on 127.0.0.1.
    via = Via("127.0.0.1", sshd.user, sshd.port)
    options = sshd.client_options()
    tunnel = Tunnel(via, [(1, sshd.port)], listen_host="127.0.0.1", options=options)
    with pytest.raises(TunnelError, match=f"would not listen on port {sshd.port}"):
        await tunnel.open()


async def test_an_ssh_alias_is_shown_as_the_address_it_reached(sshd: Sshd, tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(f"Host circle-server.invalid\n  HostName 127.0.0.1\n  Port {sshd.port}\n")
    options = {**sshd.client_options(), "config": [str(config)]}
    tunnel = Tunnel(Via("circle-server.invalid", sshd.user), [(1, 0)], options=options)
    await tunnel.open()
    try:
        # Members could not resolve the alias from ~/.ssh/config: they get the address.
        assert await tunnel.public_host() == "127.0.0.1"
    finally:
        await tunnel.close()


# --- circle host --via, the real command in a terminal -----------------------------------------


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
async def test_circle_host_via_prints_lines_that_work_from_outside(
    tmp_path: Path, join: JoinFn
) -> None:
    # Here the "server" shares this machine's loopback: its sshd keeps forwards on
    # 127.0.0.1 (GatewayPorts no), and the laptop's relay listens on 127.0.0.2.
    server = Sshd(tmp_path / "server")
    server.start(gateway_ports="no")
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    for name in ("id_ed25519", "known_hosts"):
        shutil.copy(server.folder / name, home / ".ssh" / name)
    (home / ".ssh" / "id_ed25519").chmod(0o600)
    env = {
        "HOME": str(home),
        "PATH": os.environ["PATH"],
        "TERM": "xterm-256color",
        "XDG_STATE_HOME": os.environ["XDG_STATE_HOME"],
    }
    command = [
        sys.executable, "-m", "circle_room.tui", "host", "--data-dir", str(tmp_path / "data"),
        "--host", "127.0.0.2", "--port", "0", "--ssh-port", "0", "--passcode", "",
        "--via", f"{server.user}@127.0.0.1:{server.port}",
    ]  # fmt: skip
    socket_name = f"circle-e2e-{uuid.uuid4().hex[:8]}"
    tmux = ["tmux", "-L", socket_name, "-f", "/dev/null"]
    shell = f"{shlex.join(command)}; echo EXITED $?; sleep 600"
    exports = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
    size = ("-x", "120", "-y", "40")
    subprocess.run([*tmux, "new-session", "-d", "-s", "host", *size, *exports, shell], check=True)
    try:
        screen = ""
        end = time.monotonic() + 30
        found = None
        while time.monotonic() < end and found is None:
            screen = subprocess.run(
                [*tmux, "capture-pane", "-p", "-S", "-100", "-t", "host"],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            found = re.search(r"circle join (127\.0\.0\.1:(\d+)/circle#[a-z2-7-]{24})", screen)
            await asyncio.sleep(0.1)  # Polling the screen with a deadline.
        assert found, f"no join line through the tunnel:\n{screen}\n{server.log()}"
        ssh_line = re.search(r"ssh -C -p (\d+) circle@127\.0\.0\.1", screen)
        assert ssh_line, screen
        assert "does not answer" not in screen
        dana = await join(found[1], "Dana")
        assert dana.client.security is not None
        assert dana.client.security.protection is Protection.PINNED
        reader, writer = await asyncio.open_connection("127.0.0.1", int(ssh_line[1]))
        assert (await asyncio.wait_for(reader.readline(), TIMEOUT)).startswith(b"SSH-2.0-Async")
        writer.close()
        await dana.stop()
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, check=False)
        server.stop()

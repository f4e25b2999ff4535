"""The IRC side of the comparison: ngircd started here, and a minimal client.

``Ngircd`` writes its own configuration in a temporary folder, listens on a
free port on 127.0.0.1, and is stopped by its process id. ``IrcClient`` speaks
just enough IRC for the scripted meeting: register, join, send lines, answer
the server's PINGs, count what arrives.

The meeting in IRC terms (``IRC_STEPS``): the facilitator is the channel
operator and marks the floor with voice (``MODE +v``/``-v``, one line for a
hand-over); hands are ``/me raises a hand`` and me-too is ``me too``, both
channel messages; the signal is a private message to the facilitator; the
pause and resume are channel notices.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from script import FACILITATOR, LISTENER, PEOPLE, Step

CHANNEL = "#circle"
NGIRCD_PATHS = ("ngircd", "/usr/sbin/ngircd")


def find_ngircd() -> str | None:
    """The ngircd binary, or None (Debian: ``apt-get install ngircd``)."""
    for name in NGIRCD_PATHS:
        found = shutil.which(name)
        if found:
            return found
    return None


def ngircd_version(binary: str) -> str:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.split("\n", 1)[0].split("-")[0].strip()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Ngircd:
    """An ngircd of our own: ``await start()``, then ``stop()``.

    ``ping_timeout`` is ngircd's ``PingTimeout`` (default 120 s: a client
    quiet that long gets a PING); ``None`` keeps ngircd's default.
    """

    def __init__(self, binary: str, ping_timeout: int | None = None) -> None:
        self.binary = binary
        self.ping_timeout = ping_timeout
        self.port = 0
        self._folder = tempfile.mkdtemp(prefix="circle-bench-ircd-")
        self._process: subprocess.Popen[bytes] | None = None

    async def start(self) -> Ngircd:
        self.port = free_port()
        conf = Path(self._folder) / "ngircd.conf"
        ping = f"\tPingTimeout = {self.ping_timeout}\n" if self.ping_timeout else ""
        conf.write_text(
            "[Global]\n"
            "\tName = bench.circle.local\n"
            "\tInfo = Circle benchmark\n"
            "\tAdminInfo1 = bench\n\tAdminInfo2 = bench\n\tAdminEMail = bench@localhost\n"
            "\tListen = 127.0.0.1\n"
            f"\tPorts = {self.port}\n"
            '\tMotdPhrase = "Circle benchmark"\n'
            "[Limits]\n"
            "\tMaxConnectionsIP = 0\n"
            "\tMaxJoins = 0\n"
            f"{ping}"
            "[Options]\n"
            "\tDNS = no\n\tIdent = no\n\tPAM = no\n"
        )
        self._process = subprocess.Popen(
            [self.binary, "--nodaemon", "--config", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return self
            if self._process.poll() is not None:
                raise RuntimeError(f"ngircd exited with {self._process.returncode}")
            await asyncio.sleep(0.05)
        raise RuntimeError("ngircd did not start listening")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
        shutil.rmtree(self._folder, ignore_errors=True)


class IrcClient:
    """One IRC user: ``await IrcClient.join(port, nick)``, then ``send`` lines."""

    def __init__(self, nick: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.nick = nick
        self._reader = reader
        self._writer = writer
        self.lines: list[str] = []
        self.pings = 0
        self._changed = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def join(cls, port: int, nick: str, channel: str | None = CHANNEL) -> IrcClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(nick, reader, writer)
        client.send(f"NICK {nick}", f"USER {nick.lower()} 0 * :{nick}")
        await client.wait_for(lambda line: " 001 " in line)
        if channel:
            client.send(f"JOIN {channel}")
            await client.wait_for(lambda line: " 366 " in line)  # end of NAMES
        return client

    @property
    def local_port(self) -> int:
        return int(self._writer.get_extra_info("sockname")[1])

    @property
    def server_port(self) -> int:
        return int(self._writer.get_extra_info("peername")[1])

    def send(self, *lines: str) -> None:
        self._writer.write("".join(line + "\r\n" for line in lines).encode())

    async def wait_for(self, predicate: Callable[[str], bool], timeout: float = 30.0) -> None:
        """Return once a line received so far (or later) satisfies ``predicate``."""
        seen = 0

        async def until() -> None:
            nonlocal seen
            while True:
                while seen < len(self.lines):
                    seen += 1
                    if predicate(self.lines[seen - 1]):
                        return
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(until(), timeout)

    async def wait_count(self, count: int, timeout: float = 30.0) -> None:
        """Return once ``count`` lines have arrived in all."""

        async def until() -> None:
            while len(self.lines) < count:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(until(), timeout)

    async def _read(self) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while raw := await self._reader.readline():
                line = raw.decode(errors="replace").rstrip("\r\n")
                if line.startswith("PING"):
                    self.pings += 1
                    self.send("PONG" + line[4:])
                self.lines.append(line)
                self._changed.set()

    async def close(self) -> None:
        with contextlib.suppress(OSError):
            self.send("QUIT :bye")
            self._writer.close()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


def irc_steps(steps: list[Step]) -> list[tuple[str, list[str], bool]]:
    """The script as IRC: (who sends, the lines, whether Lee receives them).

    The floor follows Circle's rules, voice standing for the stick: a yield
    hands it to the first raised hand; a hand raised when nobody holds it is
    voiced at once.
    """
    out: list[tuple[str, list[str], bool]] = []
    queue: list[str] = []
    holder = ""

    def floor(new: str) -> None:
        nonlocal holder
        if holder and new:
            out.append((FACILITATOR, [f"MODE {CHANNEL} -v+v {holder} {new}"], True))
        elif holder:
            out.append((FACILITATOR, [f"MODE {CHANNEL} -v {holder}"], True))
        elif new:
            out.append((FACILITATOR, [f"MODE {CHANNEL} +v {new}"], True))
        holder = new

    for step in steps:
        if step.action == "take":
            floor(step.who)
        elif step.action == "give":
            floor(step.target)
        elif step.action == "share":
            out.append((step.who, [f"PRIVMSG {CHANNEL} :{step.text}"], True))
        elif step.action == "yield":
            floor(queue.pop(0) if queue else "")
        elif step.action == "raise":
            out.append((step.who, [f"PRIVMSG {CHANNEL} :\x01ACTION raises a hand\x01"], True))
            queue.append(step.who)
            if not holder:
                floor(queue.pop(0))
        elif step.action == "lower":
            out.append((step.who, [f"PRIVMSG {CHANNEL} :\x01ACTION lowers a hand\x01"], True))
            queue.remove(step.who)
        elif step.action == "metoo":
            out.append((step.who, [f"PRIVMSG {CHANNEL} :me too"], True))
        elif step.action == "pause":
            out.append((step.who, [f"NOTICE {CHANNEL} :Paused: {step.text}"], True))
        elif step.action == "resume":
            out.append((step.who, [f"NOTICE {CHANNEL} :Resumed."], True))
        elif step.action == "signal":
            out.append((step.who, [f"PRIVMSG {FACILITATOR} :I need a check-in."], False))
        else:
            raise ValueError(step.action)
    return out


async def join_everyone(port: int) -> dict[str, IrcClient]:
    """Everyone joins: the facilitator first, so she is the channel operator;
    then the members together (ngircd makes each registration wait a second);
    Lee last, as in the Circle run."""
    clients = {FACILITATOR: await IrcClient.join(port, FACILITATOR)}
    members = [p for p in PEOPLE if p not in (FACILITATOR, LISTENER)]
    joined = await asyncio.gather(*(IrcClient.join(port, m) for m in members))
    clients.update(zip(members, joined, strict=True))
    clients[LISTENER] = await IrcClient.join(port, LISTENER)
    return clients


async def play(clients: dict[str, IrcClient], steps: list[Step]) -> dict[str, int]:
    """Play the script; return how many lines of each kind Lee received."""
    lee, fran = clients[LISTENER], clients[FACILITATOR]
    expected = len(lee.lines)
    modes = 0
    for who, lines, to_lee in irc_steps(steps):
        sender = clients[who]
        before_fran = len(fran.lines)
        sender.send(*lines)
        if to_lee:
            expected += len(lines)
            await lee.wait_count(expected)
        else:
            await fran.wait_count(before_fran + len(lines))
        modes += sum(line.startswith("MODE") for line in lines)
    return {"voice_changes": modes}

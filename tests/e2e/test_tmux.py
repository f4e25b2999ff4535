"""End to end: ``circle host`` and two ``circle join`` in real terminals (tmux).

The flow a real group goes through: join, raise a hand, get the stick, share,
a me-too reaches the speaker, yield to the next hand, pause and resume, leave,
and the host ending the meeting for everyone. Every wait polls the screen
with a deadline; nothing sleeps for a fixed time.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

DEADLINE = 20.0
PASSCODE = "open-sesame"
KEPT = ("PATH", "HOME", "XDG_STATE_HOME")
"""From the test's environment; XDG_STATE_HOME keeps the relays joined out of the user's."""


class Tmux:
    """One private tmux server; each window is a terminal running one command."""

    def __init__(self) -> None:
        self.socket = f"circle-e2e-{uuid.uuid4().hex[:8]}"

    def run(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        # Keep the pane after the command ends, with its exit status, to check it.
        shell = f"{shlex.join(command)}; echo EXITED $?; sleep 600"
        exports = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        self.run("new-session", "-d", "-s", name, "-x", "100", "-y", "30", *exports, shell)

    def screen(self, name: str) -> str:
        return self.run("capture-pane", "-p", "-t", name)

    def keys(self, name: str, *keys: str) -> None:
        self.run("send-keys", "-t", name, *keys)

    def type(self, name: str, text: str) -> None:
        self.run("send-keys", "-t", name, "-l", text)

    def wait_for(self, name: str, pattern: str, deadline: float = DEADLINE) -> re.Match[str]:
        """Poll the screen of ``name`` until ``pattern`` (a regex) appears."""
        end = time.monotonic() + deadline
        screen = ""
        while time.monotonic() < end:
            screen = self.screen(name)
            found = re.search(pattern, screen)
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} never appeared on {name}'s screen:\n{screen}")

    def wait_gone(self, name: str, pattern: str, deadline: float = DEADLINE) -> None:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if not re.search(pattern, self.screen(name)):
                return
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} stayed on {name}'s screen:\n{self.screen(name)}")

    def pane_pid(self, name: str) -> int:
        return int(self.run("list-panes", "-t", name, "-F", "#{pane_pid}").split()[0])

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)


def client_pid(tmux: Tmux, name: str) -> int:
    """The ``circle`` process running in the terminal ``name`` (a child of its shell)."""
    shell = tmux.pane_pid(name)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue  # Gone while we looked.
        if parent == shell and b"circle_room.tui" in argv:
            found.append(int(entry.name))
    [pid] = found
    return pid


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    server = Tmux()
    try:
        yield server
    finally:
        server.kill()


def circle(*args: str) -> list[str]:
    return [sys.executable, "-m", "circle_room.tui", *args]


def test_a_meeting_from_join_to_the_end(tmux: Tmux, tmp_path: Path) -> None:
    env = {"TERM": "xterm-256color", "COLORTERM": "truecolor"}
    env.update({k: os.environ[k] for k in KEPT if k in os.environ})
    tmux.start(
        "host",
        circle(
            "host", "--data-dir", str(tmp_path), "--port", "0", "--host", "127.0.0.1", "--no-ssh",
            "--passcode", PASSCODE, "--name", "Fay",
        ),
        env,
    )  # fmt: skip
    # The passcode is shown apart from the command (a flag would show in ps).
    # The join line pins the relay's certificate: members join over TLS, checked.
    found = tmux.wait_for(
        "host",
        rf"Join: circle join (127\.0\.0\.1:(\d+)/circle#[a-z2-7-]{{24}}) *\n *passcode: {PASSCODE}",
    )
    address = found.group(1)

    # Two members join; each reads and accepts the agreements.
    for name in ("Ana", "Ben"):
        tmux.start(name, circle("join", address, "--name", name, "--passcode", PASSCODE), env)
        tmux.wait_for(name, r"What is shared here stays here\.")
        tmux.keys(name, "Enter")
        tmux.wait_for(name, rf"you: {name} \(member\)")
    tmux.wait_for("host", r"Ben joined\.")

    # Ana raises her hand; the stick is free, so it comes to her and the box opens.
    tmux.keys("Ana", "C-r")
    tmux.wait_for("Ana", r"You hold the stick")
    tmux.wait_for("Ben", r"Ana is sharing")
    # ctrl+j (a plain line feed from a real terminal) breaks the line; Enter posts.
    tmux.type("Ana", "I felt heard today")
    tmux.keys("Ana", "C-j")
    tmux.type("Ana", "and less alone")
    tmux.keys("Ana", "Enter")
    tmux.wait_for("Ben", r"Ana: I felt heard today\s*│\n.*│ *and less alone")
    tmux.wait_for("host", r"Ana: I felt heard today")

    # Ben says "me too" silently; Ana sees the count, Ben sees that he said it.
    tmux.keys("Ben", "C-t")
    tmux.wait_for("Ana", r"1 said me too")
    tmux.wait_for("Ben", r"You said me too")

    # Ben raises his hand; Ana yields from where she types; the stick goes to Ben.
    tmux.keys("Ben", "C-r")
    tmux.wait_for("Ana", r"Ben · next")
    tmux.wait_for("Ana", r"\^Y Yield")  # The footer names the key while she types.
    tmux.keys("Ana", "C-y")
    tmux.wait_for("Ben", r"You hold the stick")
    tmux.wait_for("Ana", r"Ben is sharing")

    # The facilitator pauses with the default message; everyone sees the calm screen.
    tmux.keys("host", "C-b")
    tmux.wait_for("host", r"Pause the circle")
    tmux.keys("host", "Enter")
    for name in ("Ana", "Ben"):
        tmux.wait_for(name, r"The circle is paused")
        tmux.wait_for(name, r"Let's take a breath\.")
        tmux.wait_for(name, r"— Fay")
    tmux.keys("host", "C-b")
    for name in ("Ana", "Ben"):
        tmux.wait_for(name, r"The circle resumed\.")
        tmux.wait_gone(name, r"The circle is paused")
    tmux.wait_for("Ben", r"You hold the stick")  # Resume restores everything.

    # Ana leaves (after confirming: Enter alone would say stay); the others are told.
    tmux.keys("Ana", "C-l")
    tmux.wait_for("Ana", r"Leave the circle\?")
    tmux.keys("Ana", "Tab", "Enter")
    tmux.wait_for("Ana", r"You left the circle\. Take care\.\nEXITED 0")
    tmux.wait_for("host", r"Ana left\.")

    # The host ends the meeting; Ben's client is told and stops, not reconnecting.
    tmux.keys("host", "C-l")
    tmux.wait_for("host", r"End the meeting for everyone\?")
    tmux.keys("host", "Tab", "Enter")
    tmux.wait_for("Ben", r"The meeting has ended\.")
    screen = tmux.wait_for("host", r"EXITED 0").string
    assert f"listening on port {found.group(2)}" in screen
    assert "The meeting has ended. Thank you for hosting." in screen
    assert "Fay left." not in tmux.screen("Ben")  # The meeting ended; the host did not leave it.
    tmux.keys("Ben", "q")
    tmux.wait_for("Ben", r"The meeting has ended\. Thank you for being here\.\nEXITED 0")


def test_a_killed_circle_join_gets_its_seat_hand_and_stick_back(tmux: Tmux, tmp_path: Path) -> None:
    env = {"TERM": "xterm-256color", "COLORTERM": "truecolor"}
    env.update({k: os.environ[k] for k in KEPT if k in os.environ})
    # Kept seats go to the state directory, as they would on a member's machine.
    env["CIRCLE_STATE_DIR"] = str(tmp_path / "state")
    host = circle(
        "host", "--data-dir", str(tmp_path / "data"), "--port", "0", "--host", "127.0.0.1",
        "--no-ssh", "--passcode", PASSCODE, "--name", "Fay",
    )  # fmt: skip
    tmux.start("host", host, env)
    # The whole address as the host shows it (with the relay's fingerprint, where it has one).
    address = tmux.wait_for("host", r"Join: circle join (127\.0\.0\.1:\d+/circle\S*)").group(1)

    def join(name: str, terminal: str) -> None:
        tmux.start(terminal, circle("join", address, "--name", name, "--passcode", PASSCODE), env)

    for name in ("Ana", "Ben"):
        join(name, name)
        tmux.wait_for(name, r"What is shared here stays here\.")
        tmux.keys(name, "Enter")
        tmux.wait_for(name, rf"you: {name} \(member\)")
    tmux.keys("Ana", "C-r")
    tmux.wait_for("Ana", r"You hold the stick")
    tmux.keys("Ben", "C-r")
    tmux.wait_for("host", r"Ben · next")

    # Each client is killed outright (no clean-up runs) and the same command started again.
    for name, back in (("Ana", r"You hold the stick"), ("Ben", r"Ben \(you\) · you're next")):
        os.kill(client_pid(tmux, name), signal.SIGKILL)
        tmux.wait_for(name, r"EXITED 137")
        tmux.wait_for("host", rf"{name} ·[^│]*away")
        join(name, f"{name}-again")
        # No join screen and no "join under another name": the seat, hand and stick are back.
        tmux.wait_for(f"{name}-again", back)
        assert "What is shared here stays here." not in tmux.screen(f"{name}-again")
        tmux.wait_for(f"{name}-again", rf"you: {name} \(member\)")
    tmux.wait_for("host", r"Ben · next")
    assert "Ana is sharing" in tmux.screen("Ben-again")


def test_plain_mode_does_not_show_the_passcode_as_it_is_typed(tmux: Tmux, tmp_path: Path) -> None:
    env = {"TERM": "dumb"}
    env.update({k: os.environ[k] for k in KEPT if k in os.environ})
    subprocess.run(
        circle("room", "add", "tuesday", "--passcode", PASSCODE, "--data-dir", str(tmp_path)),
        check=True,
        capture_output=True,
    )
    tmux.start("relay", circle("serve", "--port", "0", "--data-dir", str(tmp_path)), env)
    port, pin = tmux.wait_for("relay", r"circle join HOST:(\d+)/ROOM#(\S+)").groups()
    address = f"127.0.0.1:{port}/tuesday#{pin}"
    tmux.start("ana", circle("join", "--plain", address, "--name", "Ana"), env)
    tmux.wait_for("ana", r"Type yes to accept them")
    tmux.type("ana", "yes")
    tmux.keys("ana", "Enter")
    tmux.wait_for("ana", r"What is the room's passcode\?")
    tmux.type("ana", PASSCODE)
    tmux.keys("ana", "Enter")
    tmux.wait_for("ana", r"You are in the tuesday circle as Ana")
    assert PASSCODE not in tmux.screen("ana")
    # Echo is back for everything after the passcode.
    tmux.type("ana", "/who")
    tmux.wait_for("ana", r"/who")


PARAGRAPH = (
    "hey, I was about to say something. my week was hard: quiet, mostly. "
    "yes, me too? 1 2 3 [ok] /hand ?"
)
"""Prose full of the letters that used to be keys (h, m, y, s, q, ?, [, 1)."""


def test_a_paragraph_typed_without_the_stick_does_nothing(tmux: Tmux, tmp_path: Path) -> None:
    env = {"TERM": "xterm-256color"}
    env.update({k: os.environ[k] for k in KEPT if k in os.environ})
    tmux.start(
        "host",
        circle(
            "host", "--data-dir", str(tmp_path), "--port", "0", "--host", "127.0.0.1", "--no-ssh",
            "--passcode", PASSCODE, "--name", "Fay",
        ),
        env,
    )  # fmt: skip
    address = tmux.wait_for("host", r"Join: circle join (\S+)").group(1)
    tmux.start("Ana", circle("join", address, "--name", "Ana", "--passcode", PASSCODE), env)
    tmux.wait_for("Ana", r"What is shared here stays here\.")
    tmux.keys("Ana", "Enter")
    tmux.wait_for("Ana", r"you: Ana \(member\)")
    tmux.wait_for("host", r"Ana joined\.")

    # Ana writes a paragraph while nobody has given her the stick, and presses Enter.
    tmux.type("Ana", PARAGRAPH)
    tmux.keys("Ana", "Enter")
    tmux.wait_for("Ana", r"Not shared: \^R raises your hand")
    screen = tmux.screen("Ana")
    assert "hey, I was about to say" in screen  # The draft is kept, in the box.
    assert "Leave the circle?" not in screen and "Tell the facilitators" not in screen

    # Then she raises her hand on purpose; the stick is free, so it comes to her. The
    # relay keeps order: had any letter of the paragraph acted, the host would have
    # heard it before this.
    tmux.keys("Ana", "C-r")
    tmux.wait_for("host", r"Ana has the stick\.")
    host = tmux.screen("host")
    assert "No signals yet." in host  # No private signal went out.
    assert "Ana:" not in host  # Nothing was shared.
    assert "0 said me too" in host
    assert host.count("· Ana") == 2  # "Ana joined." and "Ana has the stick.", nothing else.
    # Her draft waited for her; now Enter shares it.
    tmux.wait_for("Ana", r"You hold the stick")
    assert "hey, I was about to say" in tmux.screen("Ana")
    tmux.keys("Ana", "Enter")
    tmux.wait_for("host", r"Ana: hey, I was about to say something\.")

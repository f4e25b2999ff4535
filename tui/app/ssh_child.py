"""The full-screen client for one SSH seat, run by the SSH gateway as a child process.

``python -m circle_room.tui.app.ssh_child ws://127.0.0.1:PORT/ROOM --name=NAME``
is ``circle join`` plus what a seat behind the gateway needs:

- it takes its PTY as controlling terminal (the gateway started it in a new
  session), so window changes reach it as SIGWINCH;
- its secrets come on the pipe ``CIRCLE_SECRETS_FD`` (read once, then
  closed), never on the command line or in the environment where other
  processes could read them: a one-time join ticket that stands in for the
  passcode (sent as ``Hello.ticket``), the credentials to resume the seat,
  and the seat code;
- the name and the ticket are fixed: ssh already asked for the passcode and
  the name, so the join screen asks for neither (it shows the agreements,
  which ssh did not), and a seat taken back with its seat code goes straight
  in, as its agreements were accepted when it was first taken;
- it reports its own credentials on ``CIRCLE_REPORT_FD`` each time it is welcomed;
- the seat code is printed before the app starts and after it ends, shown on
  the join screen, and as a notification once the circle opens (not before:
  it would cover the join button);
- the mouse stays off when ``CIRCLE_NO_MOUSE=1``: mouse reporting left on by a
  dropped session garbles the member's terminal;
- it keeps its memory private (``tui.client.private_memory``): the dumpable
  flag its parent cleared does not survive ``exec``.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import sys
import termios
from dataclasses import dataclass

from circle_room.protocol.handoff import seat_code_line
from circle_room.tui.app.terminal import CLEAR_SCREEN
from circle_room.tui.client.connection import CircleClient
from circle_room.tui.client.private_memory import keep_memory_private
from circle_room.tui.client.resumable import Credentials, ResumableClient


@dataclass(frozen=True)
class Secrets:
    ticket: str = ""
    """The one-time join ticket."""
    resume: Credentials | None = None
    seat_code: str = ""


def read_secrets(fd: int) -> Secrets:
    """Everything the gateway wrote on ``fd``, which is then closed."""
    if fd < 0:
        return Secrets()
    chunks = []
    with contextlib.suppress(OSError), os.fdopen(fd, "rb") as pipe:
        chunks.append(pipe.read(65536))
    try:
        found = json.loads(b"".join(chunks) or b"{}")
    except ValueError:
        return Secrets()
    if not isinstance(found, dict):
        return Secrets()
    resume = Credentials.from_line(str(found.get("resume", "")))
    return Secrets(str(found.get("ticket", "")), resume, str(found.get("seat_code", "")))


def take_terminal() -> None:
    """Make standard input's terminal our controlling terminal (we lead a new session)."""
    if os.isatty(0):
        with contextlib.suppress(OSError):
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m circle_room.tui.app.ssh_child")
    parser.add_argument("url")
    parser.add_argument("--name", default="")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        # This process shows the member's circle, shares and all. Its parent
        # made itself non-dumpable, but exec undid that for us: do it again.
        keep_memory_private()
    args = parse_args(argv)
    take_terminal()
    secrets = read_secrets(int(os.environ.pop("CIRCLE_SECRETS_FD", "-1") or -1))
    report_fd = int(os.environ.pop("CIRCLE_REPORT_FD", "-1") or -1)
    mouse = os.environ.pop("CIRCLE_NO_MOUSE", "") != "1"
    name = args.name
    code_line = seat_code_line(name, secrets.seat_code) if secrets.seat_code else ""
    if code_line:
        sys.stdout.write(code_line + "\r\n")
        sys.stdout.flush()

    from circle_room.tui.app.app import CircleApp
    from circle_room.tui.app.link import Details, Dialer

    def report(credentials: Credentials) -> None:
        if report_fd >= 0:
            with contextlib.suppress(OSError):
                os.write(report_fd, credentials.line().encode())

    kept = secrets.resume
    resume = [kept] if kept is not None and kept.name.casefold() == name.casefold() else []

    class SeatDialer(Dialer):
        def client(self, details: Details, agreed: bool) -> CircleClient:
            # The seat is already authenticated: its name and ticket are not up for change.
            return ResumableClient(
                self.url,
                name=name,
                ticket=secrets.ticket,
                agreed=agreed,
                kept=resume.pop() if resume else None,
                on_seated=report,
            )

    details = Details(args.url, name, locked=True, agreed=bool(resume))
    app = CircleApp(details, dialer=SeatDialer(args.url), notice=code_line)
    app.run(mouse=mouse)
    if app.quiet:
        sys.stdout.write(CLEAR_SCREEN)
    elif app.farewell or code_line:
        # Over and done, a farewell; otherwise the seat is still theirs: its code.
        # The terminal is raw (no line discipline adds the \r), so say it.
        sys.stdout.write((app.farewell or code_line) + "\r\n")
    sys.stdout.flush()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())

"""The full-screen client for one SSH seat, run by the SSH gateway as a child process.

``python -m tui.ssh_seat ws://127.0.0.1:PORT/ROOM --name NAME`` is ``circle
join`` plus what a seat behind the gateway needs:

- it takes its PTY as controlling terminal (the gateway started it in a new
  session), so window changes reach it as SIGWINCH;
- the passcode comes in the environment (``CIRCLE_PASSCODE``), never on the
  command line where ``ps`` would show it;
- it resumes the seat in ``CIRCLE_RESUME`` (kept by the gateway from this
  member's last session) and reports its own credentials on the file
  descriptor ``CIRCLE_REPORT_FD`` each time it is welcomed;
- the mouse stays off unless ``CIRCLE_NO_MOUSE`` is unset: mouse reporting left
  on by a dropped session garbles the member's terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import sys
import termios

from tui.connection import CircleClient
from tui.seat import Credentials, ResumableClient

CLEAR_SCREEN = "\x1b[H\x1b[2J\x1b[3J"


def take_terminal() -> None:
    """Make standard input's terminal our controlling terminal (we lead a new session)."""
    if os.isatty(0):
        with contextlib.suppress(OSError):
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tui.ssh_seat")
    parser.add_argument("url")
    parser.add_argument("--name", default="")
    args = parser.parse_args(argv)
    take_terminal()
    passcode = os.environ.pop("CIRCLE_PASSCODE", "")
    kept = Credentials.from_line(os.environ.pop("CIRCLE_RESUME", ""))
    report_fd = int(os.environ.pop("CIRCLE_REPORT_FD", "-1") or -1)
    mouse = os.environ.pop("CIRCLE_NO_MOUSE", "") != "1"

    from tui.app import CircleApp
    from tui.link import Details, Dialer

    def report(credentials: Credentials) -> None:
        if report_fd >= 0:
            with contextlib.suppress(OSError):
                os.write(report_fd, credentials.line().encode())

    resume = [kept] if kept is not None and kept.name.casefold() == args.name.casefold() else []

    class SeatDialer(Dialer):
        def client(self, details: Details, agreed: bool) -> CircleClient:
            first = resume.pop() if resume and details.name == args.name else None
            return ResumableClient(
                self.url,
                name=details.name,
                passcode=details.passcode,
                key=details.key,
                agreed=agreed,
                resume=first,
                on_welcome=report,
            )

    app = CircleApp(Details(args.url, args.name, passcode), dialer=SeatDialer(args.url))
    app.run(mouse=mouse)
    if app.quiet:
        sys.stdout.write(CLEAR_SCREEN)
        sys.stdout.flush()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())

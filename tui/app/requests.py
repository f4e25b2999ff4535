"""What screens ask of the app. Screens post these; only the app acts on them."""

from __future__ import annotations

from textual.message import Message

from circle_room.protocol.messages import Command


class SendCommand(Message):
    """Send ``command`` to the room (the app queues it for its connection worker)."""

    def __init__(self, command: Command) -> None:
        super().__init__()
        self.command = command


class Goodbye(Message):
    """Leave the meeting and close the app; ``quiet`` leaves without an announcement."""

    def __init__(self, quiet: bool = False) -> None:
        super().__init__()
        self.quiet = quiet


class MarkRead(Message):
    """A facilitator has seen the private signals: stop marking them new (local only)."""


class ToggleBell(Message):
    """Turn the bell off, or on again (local only: it rings on this screen alone)."""

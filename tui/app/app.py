"""The Textual app: one connection worker, one ``Meeting``, and the screens.

The app owns the network (``_greet`` and ``_connect`` are its only workers,
both in one exclusive group, bodies in ``tui.app.link``). The client folds
each event into its ``Meeting``; the app only reads it: every update becomes
a fresh ``View`` set on the screens (attributes down); screens answer with
``SendCommand`` and ``Goodbye`` requests (messages up). Once a
second the app ``tick``s the screens instead: only what shows time (the share
timer, the pause length, the inbox's "new" marks) is looked at again, and a
widget repaints only if its text changed, so a quiet room sends no bytes.
Comparing each view with the last one shown is also how the app knows when
to ring the bell (``tui.app.alerts``): the stick came, or you are next.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.screen import Screen
from textual.theme import Theme

from circle_room.protocol.close_codes import CloseCode
from circle_room.protocol.messages import Error, Greeting
from circle_room.protocol.refusals import RefusalCode
from circle_room.protocol.text import clean_line
from circle_room.tui.app import keys, link
from circle_room.tui.app.alerts import alert
from circle_room.tui.app.link import Details, Dialer, Outgoing
from circle_room.tui.app.requests import Goodbye, MarkRead, SendCommand, ToggleBell
from circle_room.tui.app.screens.circle import CircleScreen
from circle_room.tui.app.screens.ended import ConnectingScreen, EndedScreen
from circle_room.tui.app.screens.join import JoinScreen
from circle_room.tui.app.screens.meeting import MeetingScreen
from circle_room.tui.app.screens.pause import PauseScreen
from circle_room.tui.client.connection import LEAVE_TIMEOUT, CircleClient
from circle_room.tui.client.model import Meeting
from circle_room.tui.client.trust import Protection, describe, plain_warning
from circle_room.tui.client.view import View

HIGH_CONTRAST = Theme(
    name="circle-high-contrast",
    primary="#ffff00",
    secondary="#00ffff",
    accent="#ffffff",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#303030",
    success="#00ff00",
    warning="#ffff00",
    error="#ff6060",
    dark=True,
    # No dim text anywhere: what is quieter elsewhere is italic here, at full brightness.
    variables={
        "text-muted": "#ffffff",
        "text-disabled": "#ffffff",
        "footer-description-foreground": "#ffffff",
        "input-placeholder-foreground": "#ffffff",
        "block-cursor-blurred-foreground": "#ffffff",
    },
)
RETRYABLE = frozenset(
    {
        RefusalCode.BAD_NAME,
        RefusalCode.NAME_TAKEN,
        RefusalCode.WRONG_PASSCODE,
        RefusalCode.TOO_MANY_ATTEMPTS,
        RefusalCode.AGREEMENTS,
        RefusalCode.REMOVED,
    }
)
"""Refusals the person can fix on the join screen."""


class CircleApp(App[None]):
    """A member's (or facilitator's) view of one circle."""

    TITLE = "Circle"
    # The palette lists the meeting's actions alone (``MeetingScreen.COMMANDS``).
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = set()
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(keys.PALETTE, "command_palette", "All actions", priority=True),
        Binding(keys.QUIET_EXIT, "quiet_exit", "Quiet exit", priority=True),
        Binding("ctrl+q", "quiet_exit", show=False, priority=True),
    ]

    def _fatal_error(self) -> None:
        """Exit after an unhandled exception, printing the traceback without locals.

        Textual's default shows local variables, which may hold share text:
        over SSH that lands on someone's screen, and a logged terminal on disk.
        """
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None)
        self._exit_renderables.append(
            Segments(self.console.render(traceback, self.console.options))
        )
        self._close_messages_no_wait()

    def __init__(
        self,
        details: Details,
        *,
        dialer: Dialer | None = None,
        clock: Callable[[], float] = time.time,
        join_hint: str = "",
        hosting: bool = False,
        high_contrast: bool = False,
        end_meeting: Callable[[], Awaitable[None]] | None = None,
        notice: str = "",
        bell: bool = True,
    ) -> None:
        """``end_meeting`` (for the host, whose process runs the relay) ends the
        meeting for everyone: leaving calls it instead of saying goodbye, so the
        members hear that the meeting ended, not that the host left. ``notice``
        is shown on the join screen and once the circle opens (an SSH seat's code).
        """
        super().__init__()
        self.details = details
        self.dialer = dialer or Dialer(details.url, clock)
        self.clock = clock
        self.join_hint = join_hint
        self.hosting = hosting
        self.high_contrast = high_contrast
        self.bell_on = bell
        """Ring the terminal's bell when the stick comes to this member or they are next."""
        self.meeting: Meeting | None = None
        """The client's model of the meeting, read here and changed only by the client."""
        self.client: CircleClient | None = None
        """The live connection (read-only for everyone but the worker)."""
        self.quiet = False
        """Set by a quiet exit: the command line clears the terminal after."""
        self.farewell = ""
        """How the meeting ended for this member, in a line for the terminal after the app."""
        self._end_meeting = end_meeting
        self._notice = notice
        self._resuming = False
        """Taking back a seat kept from an earlier run, not joining."""
        self._outbox: asyncio.Queue[Outgoing] = asyncio.Queue()
        self._circle: CircleScreen | None = None
        self._pause: PauseScreen | None = None
        self._peeking = False
        """A facilitator put the pause screen aside to act on the circle."""
        self._leaving = False
        self._shown: View | None = None
        """The last view shown, to tell what changed for the bell."""

    def on_mount(self) -> None:
        self.register_theme(HIGH_CONTRAST)
        if self.high_contrast:
            self.theme = HIGH_CONTRAST.name
        self.push_screen(ConnectingScreen(self.dialer.url))
        if warning := plain_warning(self.dialer.url):  # Before anyone types a passcode.
            self.notify(warning, title="Not encrypted", severity="warning", timeout=60)
        self.set_interval(1.0, self._tick)
        self._begin()

    def _begin(self) -> None:
        # A seat kept from an earlier run is taken back without asking anything:
        # if it is gone, the relay's refusal brings the join screen. A
        # facilitator with a name goes straight in; without one, the join
        # screen asks for it like anyone else's.
        self._resuming = self.dialer.kept is not None
        if self._resuming:
            self._connect(self.details, agreed=False)
        elif self.details.key and self.details.name:
            self._connect(self.details)
        else:
            self._greet()

    # --- the one connection worker -----------------------------------------------------

    @work(exclusive=True, exit_on_error=False, group="link")
    async def _greet(self) -> None:
        await link.greet(self, self.dialer)

    @work(exclusive=True, exit_on_error=False, group="link")
    async def _connect(self, details: Details, agreed: bool = True) -> None:
        await link.run(self, self.dialer, details, self._outbox, agreed)

    # --- joining -------------------------------------------------------------------------

    def on_greeted(self, message: link.Greeted) -> None:
        greeting, details = message.greeting, self.details
        agreed = details.agreed or not greeting.agreements
        has_passcode = details.locked or bool(details.passcode) or not greeting.needs_passcode
        if agreed and details.name and has_passcode:
            self._connect(details)
        else:
            self.push_screen(self._join_screen(greeting))

    def _join_screen(self, greeting: Greeting) -> JoinScreen:
        details = self.details
        return JoinScreen(
            greeting, details.name, details.passcode, locked=details.locked, notice=self._notice
        )

    def on_join_screen_submitted(self, message: JoinScreen.Submitted) -> None:
        self.details = replace(self.details, name=message.name, passcode=message.passcode)
        self._connect(self.details)

    def on_not_joined(self, message: link.NotJoined) -> None:
        refused, screen = message.refused, self.screen
        if self._resuming:
            # The kept seat is gone and joining afresh needs what only the
            # member can give: ask for it as on a first visit, without blame.
            self._resuming = False
            self.dialer.forget_seat()
            self._greet()
            return
        retryable = refused.refusal in RETRYABLE
        if self.details.locked:  # Only the agreements are this screen's to fix.
            retryable = refused.refusal is RefusalCode.AGREEMENTS
        if isinstance(screen, JoinScreen) and retryable:
            screen.busy = False
            screen.error = refused.message
        elif refused.greeting is not None and retryable and not self.details.key:
            join = self._join_screen(refused.greeting)
            self.push_screen(join)
            join.error = refused.message
        else:
            self._end("Could not join the circle.", refused.message)

    def on_unreachable(self, message: link.Unreachable) -> None:
        self._end("The circle cannot be reached.", message.message, can_retry=True)

    def on_ended_screen_retry(self) -> None:
        self.switch_screen(ConnectingScreen(self.dialer.url))
        self._begin()

    def on_join_screen_cancelled(self) -> None:
        self.farewell = "You did not join. Take care."
        self.exit()

    def on_joined(self, message: link.Joined) -> None:
        self._resuming = False
        self.client = message.client
        security = message.client.security
        if security is not None and security.protection is Protection.FIRST_USE:
            self.notify(describe(security), title="A relay new to you", timeout=30, markup=False)
        self.meeting = message.client.meeting
        self._shown = None
        self._circle = CircleScreen()
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(self._circle)
        self._show()
        if self._notice:  # Only now: on the join screen it would cover the button.
            self.notify(self._notice, timeout=60, markup=False)

    # --- following the meeting -----------------------------------------------------------

    def on_updated(self, message: link.Updated) -> None:
        if self.meeting is None:
            return
        update = message.update
        if isinstance(update, Error) and not self._leaving:
            self.notify(clean_line(update.message), severity="warning", markup=False, timeout=6)
        self._show()

    def _view(self, meeting: Meeting) -> View:
        return meeting.view(self.clock(), join_hint=self.join_hint, hosting=self.hosting)

    def _show(self) -> None:
        if self.meeting is None or self._circle is None:
            return
        view = self._view(self.meeting)
        if alert(self._shown, view) is not None and self.bell_on:
            self.bell()
        self._shown = view
        self._circle.view = view
        if view.paused and self._pause is None and not self._peeking:
            self._pause = PauseScreen()
            self.push_screen(self._pause)
        elif not view.paused:
            self._peeking = False
            self._close_pause()
        if self._pause is not None:
            self._pause.view = view

    def _tick(self) -> None:
        """Once a second: let the screens update what shows time, and nothing else."""
        if self.meeting is None or self._circle is None:
            return
        view = self._view(self.meeting)
        self._circle.tick(view)
        if self._pause is not None:
            self._pause.tick(view)

    def _close_pause(self) -> None:
        while self._pause is not None and self._pause in self.screen_stack:
            self.pop_screen()
        self._pause = None

    def on_pause_screen_peek(self) -> None:
        self._peeking = True
        self._close_pause()

    def on_closed(self, message: link.Closed) -> None:
        if self._leaving:
            self.exit()
            return
        self.dialer.forget_seat()  # The relay ended it for good: nothing to come back to.
        if message.status.removed:
            self._end("A facilitator removed you from this meeting.", closing="Take care.")
            return
        # A meeting that ended closes with LEFT, and the title says it all; any
        # other ending (a refused resume, a replaced seat) is worth its words.
        ended = message.status
        detail = "" if ended.close is CloseCode.LEFT else ended.detail
        self._end("The meeting has ended.", detail, closing="Thank you for being here.")

    def _end(
        self, title: str, detail: str = "", *, can_retry: bool = False, closing: str = ""
    ) -> None:
        self.meeting = None
        self._circle = self._pause = None
        self.farewell = " ".join(part for part in (title, detail, closing) if part)
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(EndedScreen(title, detail, can_retry, closing))

    # --- requests from the screens -------------------------------------------------------

    def on_send_command(self, message: SendCommand) -> None:
        self._outbox.put_nowait(message.command)

    def on_mark_read(self, message: MarkRead) -> None:
        if self.meeting is not None:
            self.meeting.mark_read()
            self._show()

    def on_toggle_bell(self, message: ToggleBell) -> None:
        self.bell_on = not self.bell_on
        self.notify("The bell is on." if self.bell_on else "The bell is off.", timeout=3)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "command_palette":
            return isinstance(self.screen, MeetingScreen)
        return True

    def on_goodbye(self, message: Goodbye) -> None:
        self._leave(message.quiet)

    def action_quiet_exit(self) -> None:
        self.push_screen(Screen())  # The meeting leaves the screen at once.
        self._leave(quiet=True)

    def _leave(self, quiet: bool) -> None:
        self.quiet = self.quiet or quiet
        self.dialer.forget_seat()  # Leaving is for good, even if the goodbye is lost.
        if self.meeting is None or self._leaving:
            self.exit()
            return
        self._leaving = True
        if self._end_meeting is not None:
            self._close_meeting()
        else:
            self.farewell = "" if quiet else "You left the circle. Take care."
            self._outbox.put_nowait(link.Depart(quiet))
        self.set_timer(LEAVE_TIMEOUT + 0.5, self.exit)

    @work(exit_on_error=False, group="ending")
    async def _close_meeting(self) -> None:
        assert self._end_meeting is not None
        await self._end_meeting()
        self.exit()

    def on_departed(self, message: link.Departed) -> None:
        self.exit()

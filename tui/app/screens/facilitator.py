"""Facilitator dialogs: what to do with one member, and the room's settings."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from circle_room.protocol.messages import (
    AckSignal,
    Admit,
    Command,
    Deny,
    GiveStick,
    LowerAllHands,
    LowerHand,
    MoveHand,
    Promote,
    ReleaseSeat,
    Remove,
    TakeStick,
)
from circle_room.protocol.model import Member, Presence, Role, Settings
from circle_room.protocol.rules import allows
from circle_room.tui.app.screens.dialogs import DIALOG_CSS
from circle_room.tui.app.widgets.safe import fit
from circle_room.tui.app.widgets.tick import Tick
from circle_room.tui.client.view import View


def member_actions(view: View, member: Member) -> list[tuple[str, str]]:
    """(action id, words) a facilitator can do with ``member`` now.

    Only what the rule book allows: a co-facilitator is not offered to remove
    another co-facilitator, because the room would refuse it.
    """
    state, me = view.state, view.me
    return [
        (key, words) for key, words, command in _menu(view, member) if allows(state, me, command)
    ]


def member_command(view: View, member: Member, action: str) -> Command | None:
    """The command behind ``action`` from ``member_actions``, built from the state now."""
    for key, _, command in _menu(view, member):
        if key == action:
            return command
    return None


def _menu(view: View, member: Member) -> list[tuple[str, str, Command]]:
    """Every entry the member menu may hold, in menu order, each with its command."""
    if member.presence is Presence.WAITING:
        # Deny is how a facilitator turns away someone waiting; they were never in.
        return [
            ("admit", "Admit to the circle", Admit(member.id)),
            ("deny", "Do not admit", Deny(member.id)),
        ]
    menu: list[tuple[str, str, Command]] = []
    if member.id == view.me:
        menu.append(("take", "Take the stick yourself", TakeStick()))
    else:
        menu.append(("give", "Give the stick", GiveStick(member.id)))
    queue = view.state.queue
    if member.id in queue:
        place = queue.index(member.id)
        menu += [
            ("lower", "Lower this hand", LowerHand(member.id)),
            ("up", "Move up the queue", MoveHand(member.id, place - 1)),
            ("down", "Move down the queue", MoveHand(member.id, place + 1)),
        ]
    menu += [
        ("seen", "Tell them their signal was seen", AckSignal(member.id)),
        ("release", "Release seat (they are away)…", ReleaseSeat(member.id)),
        ("lower_all", "Lower all hands", LowerAllHands()),
        ("promote", "Make co-facilitator", Promote(member.id, Role.COFACILITATOR)),
        ("demote", "Make a member again", Promote(member.id, Role.MEMBER)),
        ("remove", "Remove from this meeting…", Remove(member.id)),
    ]
    return menu


class MemberActionsScreen(ModalScreen[str | None]):
    """Pick one action for a member; returns its id (see ``member_actions``)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="MemberActionsScreen")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, view: View, member: Member) -> None:
        super().__init__()
        self._member = member
        self._actions = member_actions(view, member)

    def compose(self) -> ComposeResult:
        with Vertical():
            title = Text("Actions for ", style="bold")
            title.append(fit(self._member.name, 32))
            yield Static(title, classes="question")
            yield OptionList(*(Option(Text(words), id=key) for key, words in self._actions))
            yield Static(Text("Enter: do it    Esc: cancel"), classes="hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


def agreements_from(text: str) -> tuple[str, ...]:
    """The agreements typed in the settings dialog: one per non-empty line."""
    return tuple(stripped for stripped in (part.strip() for part in text.splitlines()) if stripped)


@dataclass(frozen=True)
class Chosen:
    """What the settings dialog was saved with."""

    settings: Settings | None
    """The room's settings (``None`` for a member, who has none to change)."""
    bell: bool
    """This screen rings the bell when the stick comes or you are next."""


BELL = "Bell when the stick comes to me or I am next"


class SettingsScreen(ModalScreen[Chosen | None]):
    """Your bell; for facilitators, also the room's time per share, waiting room,
    auto-pass, me-too names and agreements. Every on/off reads as ``[x] ... on``."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(name="SettingsScreen")
        + """
    SettingsScreen > Vertical { max-height: 100%; overflow-y: auto; }
    SettingsScreen .label { margin-top: 1; }
    SettingsScreen #agreements { height: 6; }
    """
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, settings: Settings | None, bell: bool = True) -> None:
        super().__init__()
        self._settings = settings
        self._bell = bell

    def compose(self) -> ComposeResult:
        settings = self._settings
        with Vertical():
            if settings is None:
                yield Static(Text("Your settings", style="bold"), classes="question")
            else:
                yield Static(Text("Room settings", style="bold"), classes="question")
                yield Static(Text("Suggested minutes per share (0: none; only a nudge):"))
                yield Input(
                    value=f"{settings.share_limit / 60:g}",
                    id="limit",
                    restrict=r"[0-9.]*",
                    compact=True,
                )
                yield Tick("Waiting room: a facilitator admits newcomers", settings.waiting_room)
                yield Tick("Pass the stick to the next hand automatically", settings.auto_pass)
                yield Tick("Show the speaker who said me too", settings.show_metoo_names)
                yield Static(
                    Text("Group agreements, one per line (shown on joining):"),
                    classes="label",
                )
                yield TextArea(
                    "\n".join(settings.agreements), id="agreements", soft_wrap=True, compact=True
                )
                yield Static(Text("On this screen only:"), classes="label")
            yield Tick(BELL, self._bell, id="bell")
            hint = "ctrl+s: save    Esc: cancel    space: turn on or off"
            yield Static(Text(hint), classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        bell = self.query_one("#bell", Tick).value
        if self._settings is None:
            self.dismiss(Chosen(None, bell))
            return
        try:
            minutes = float(self.query_one("#limit", Input).value or "0")
        except ValueError:
            self.notify("Please give the limit in minutes, like 5 or 2.5.", severity="warning")
            return
        boxes = [box for box in self.query(Tick) if box.id != "bell"]
        settings = replace(
            self._settings,
            share_limit=round(minutes * 60),
            waiting_room=boxes[0].value,
            auto_pass=boxes[1].value,
            show_metoo_names=boxes[2].value,
            agreements=agreements_from(self.query_one("#agreements", TextArea).text),
        )
        self.dismiss(Chosen(settings, bell))

    def action_cancel(self) -> None:
        self.dismiss(None)

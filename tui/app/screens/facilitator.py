"""Facilitator dialogs: what to do with one member, and the room's settings."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from circle_room.protocol.model import Member, Presence, Role, Settings
from circle_room.tui.app.screens.dialogs import DIALOG_CSS
from circle_room.tui.app.widgets.safe import fit
from circle_room.tui.client.view import View


def member_actions(view: View, member: Member) -> list[tuple[str, str]]:
    """(action id, words) a facilitator can do with ``member`` now."""
    actions: list[tuple[str, str]] = []
    if member.presence is Presence.WAITING:
        return [("admit", "Admit to the circle"), ("deny", "Do not admit")]
    if view.state.holder != member.id and member.presence is Presence.PRESENT:
        if member.id == view.me:
            actions.append(("take", "Take the stick yourself"))
        else:
            actions.append(("give", "Give the stick"))
    position = view.hand_position(member.id)
    if position is not None:
        actions.append(("lower", "Lower this hand"))
        if position > 1:
            actions.append(("up", "Move up the queue"))
        if position < len(view.state.queue):
            actions.append(("down", "Move down the queue"))
    if view.state.queue:
        actions.append(("lower_all", "Lower all hands"))
    if view.is_host and member.role is Role.MEMBER:
        actions.append(("promote", "Make co-facilitator"))
    elif view.is_host and member.role is Role.COFACILITATOR:
        actions.append(("demote", "Make a member again"))
    if member.id != view.me and member.role is not Role.FACILITATOR:
        actions.append(("remove", "Remove from this meeting…"))
    return actions


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


class SettingsScreen(ModalScreen[Settings | None]):
    """Suggested time per share, waiting room, auto-pass, me-too names and the agreements."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(name="SettingsScreen")
        + """
    SettingsScreen > Vertical { max-height: 100%; }
    SettingsScreen .label { margin-top: 1; }
    SettingsScreen #agreements { height: 6; }
    """
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self._settings = settings

    def compose(self) -> ComposeResult:
        settings = self._settings
        with Vertical():
            yield Static(Text("Room settings", style="bold"), classes="question")
            yield Static(Text("Suggested minutes per share (0: none; only a nudge):"))
            yield Input(
                value=f"{settings.share_limit / 60:g}",
                id="limit",
                restrict=r"[0-9.]*",
                compact=True,
            )
            yield Checkbox(
                "Waiting room: a facilitator admits newcomers", settings.waiting_room, compact=True
            )
            yield Checkbox(
                "Pass the stick to the next hand automatically", settings.auto_pass, compact=True
            )
            yield Checkbox(
                "Show the speaker who said me too", settings.show_metoo_names, compact=True
            )
            yield Static(
                Text("Group agreements, one per line (shown on joining):"),
                classes="label",
            )
            yield TextArea(
                "\n".join(settings.agreements), id="agreements", soft_wrap=True, compact=True
            )
            yield Static(Text("ctrl+s: save    Esc: cancel"), classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        try:
            minutes = float(self.query_one("#limit", Input).value or "0")
        except ValueError:
            self.notify("Please give the limit in minutes, like 5 or 2.5.", severity="warning")
            return
        boxes = list(self.query(Checkbox))
        self.dismiss(
            replace(
                self._settings,
                share_limit=round(minutes * 60),
                waiting_room=boxes[0].value,
                auto_pass=boxes[1].value,
                show_metoo_names=boxes[2].value,
                agreements=agreements_from(self.query_one("#agreements", TextArea).text),
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)

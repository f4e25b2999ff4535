"""Under a facilitator's list: who is picked, and what can be done with them now.

The actions are the member menu's (``member_actions``, from the rule book),
so what the panel names is what Enter offers. With nobody picked it says how
to pick someone; the panel never guesses a person.
"""

from __future__ import annotations

from rich.text import Text

from circle_room.protocol.model import Member
from circle_room.tui.app.screens.facilitator import member_actions
from circle_room.tui.app.widgets.members import describe as describe_member
from circle_room.tui.app.widgets.safe import TextPanel, fit
from circle_room.tui.client.view import View


def describe(view: View, member: Member | None, in_list: bool) -> Text:
    if member is None:
        if in_list:
            return Text("↑↓ pick someone; Enter: what you can do with them. Esc: back.")
        return Text("Tab, then ↑↓: pick someone in the circle.")
    text = Text("Picked: ", style="bold")
    text.append(fit(member.name, 24), style="bold")
    _, words = describe_member(view, member)
    if words:
        text.append(f" ({', '.join(words)})")
    actions = [words for _, words in member_actions(view, member)]
    if not in_list:
        text.append("\nTab back to the list to act on them.")
    elif actions:
        text.append("\nEnter: ", style="bold")
        text.append(", ".join(a.rstrip("…").lower() for a in actions))
        if member.id in view.state.queue:
            text.append("\n[ ] ", style="bold")
            text.append("move the hand up or down")
    else:
        text.append("\nNothing to do with them right now.")
    return text


class Selection(TextPanel):
    DEFAULT_CSS = """
    Selection { height: auto; max-height: 6; padding: 0 1; }
    """

    def show_for(self, view: View, member: Member | None, in_list: bool) -> None:
        self.show(describe(view, member, in_list))

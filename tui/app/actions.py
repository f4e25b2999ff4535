"""Every action open to this person now, in words: what the command palette lists.

Built from the same answers as the keys and the member menu (``offers`` and
``screens.facilitator.member_actions``, both asking the rule book), so the
palette never lists what the room would refuse, and a facilitator finds
"Ben: give the stick" by typing "ben". Pure: a ``View`` in, a list out.
"""

from __future__ import annotations

from dataclasses import dataclass

from circle_room.tui.app import keys
from circle_room.tui.app.keys import shown
from circle_room.tui.app.offers import key_offered
from circle_room.tui.app.screens.facilitator import member_actions
from circle_room.tui.app.widgets.safe import fit
from circle_room.tui.client.view import View

ROOM: tuple[tuple[str, str, str], ...] = (
    ("raise_hand", "Raise your hand", keys.HAND),
    ("lower_hand", "Lower your hand", keys.HAND),
    ("metoo", "Me too: silent, only the speaker sees it", keys.METOO),
    ("undo_metoo", "Take back your me too", keys.METOO),
    ("pass_stick", "Pass the stick on", keys.YIELD),
    ("yield_stick", "Yield the stick", keys.YIELD),
    ("signal", "Private signal to the facilitators", keys.SIGNAL),
    ("ack_signal", "Seen: answer the oldest private signal", keys.SIGNAL),
    ("pause", "Pause the circle", keys.PAUSE),
    ("resume", "Resume the circle", keys.PAUSE),
    ("take", "Take the stick", ""),
    ("start_round", "Start a round", ""),
    ("stop_round", "End the round", ""),
    ("lock", "Lock the room", ""),
    ("unlock", "Unlock the room", ""),
    ("lower_all", "Lower all hands", ""),
    ("mark_read", "Mark the private signals read", keys.READ),
    ("settings", "Room settings", keys.SETTINGS),
)
"""(action, words, key) for the room's own actions, in the order they are listed."""


@dataclass(frozen=True)
class Offer:
    """One line of the palette."""

    words: str
    action: str
    """The screen's action (``raise_hand``), or a member menu entry (``give``)."""
    member_id: int | None = None
    """Set for a member's entry: ``action`` is then a key of ``member_actions``."""
    key: str = ""
    """The key that does the same, if any (``^R``)."""
    help: str = ""
    """A second line, where the words need one."""


def offers(view: View, *, bell_on: bool, pause_screen: bool = False) -> list[Offer]:
    """What this person may do now, room actions first, then one line per member action.

    ``pause_screen``: only what the pause screen itself offers (it has no list).
    """
    found: list[Offer] = []
    for action, words, key in ROOM:
        if pause_screen and action not in ("signal", "resume"):
            continue
        if key_offered(action, view, None):
            found.append(Offer(words, action, key=shown(key) if key else ""))
    if not view.is_facilitator:
        found.append(Offer("Your settings: the bell", "my_settings", key=shown(keys.SETTINGS)))
    if view.is_facilitator and not pause_screen:
        for member in view.state.members.values():
            if member.id == view.me:
                continue  # Their own menu is "take the stick", listed above.
            name = fit(member.name, 32)
            for action, words in member_actions(view, member):
                found.append(Offer(f"{name}: {words[0].lower()}{words[1:]}", action, member.id))
    bell = "Turn the bell off" if bell_on else "Turn the bell on"
    leave = "End the meeting for everyone" if view.hosting else "Leave the meeting"
    found += [
        Offer(bell, "toggle_bell", help="It rings when the stick comes to you or you are next."),
        Offer("Help: keys, symbols and the agreements", "help", key=shown(keys.HELP)),
        Offer(leave, "leave", key=shown(keys.LEAVE)),
        Offer("Quiet exit: leave at once, unannounced", "quiet_exit", key=shown(keys.QUIET_EXIT)),
    ]
    return found

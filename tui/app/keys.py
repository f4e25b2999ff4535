"""Which key does what in a meeting, named once for the bindings and the words on screen.

Typing is for writing: no letter, digit or punctuation ever acts on the room,
so a sentence typed anywhere lands in the draft box and nowhere else. What
acts on the room is a control key (one press, never typed by accident, and
it works while the draft box has focus), F1, or a key of a list the person
moved into on purpose (Tab; the list's border says so). Control keys a text
box needs are left alone: ctrl+a/e/k/u/w/d (editing), ctrl+c/v/x (copy,
paste; ctrl+x is the quiet exit, as before), ctrl+z (undo), ctrl+j (a new
line), ctrl+h/i/m (backspace, tab and enter in a terminal). ctrl+y replaces
the text box's redo: yielding the stick is worth the better key.
"""

from __future__ import annotations

HAND = "ctrl+r"
"""Raise your hand, or lower it."""
METOO = "ctrl+t"
"""A silent me too on the current share, or take it back."""
YIELD = "ctrl+y"
"""Yield the stick, or pass it on if you have not shared."""
SIGNAL = "ctrl+s"
"""A private signal to the facilitators."""
HELP = "ctrl+g"
"""Help, as in nano; F1 too (some terminals keep F1 for themselves)."""
SETTINGS = "ctrl+o"
"""Your settings (the bell); for facilitators, the room's too."""
LEAVE = "ctrl+l"
"""Leave the meeting (asks first, starting on "stay")."""
QUIET_EXIT = "ctrl+x"
"""Leave at once, without a word to anyone, and clear the screen."""
PALETTE = "ctrl+p"
"""Every action open to you now, by name."""
PAUSE = "ctrl+b"
"""Facilitators: pause the circle ("break") or resume it."""
PAUSE_TOO = "f2"
"""The same, for a facilitator inside tmux, whose ctrl+b is tmux's own."""
READ = "ctrl+n"
"""Facilitators: the private signals are noted (they stop showing as new)."""
UNDO = "ctrl+z"
"""Take back what is about to happen (lowering hands), while the notice shows."""


def shown(key: str) -> str:
    """How a key is written on screen: ``^R`` for ctrl+r, as nano does."""
    if key.startswith("ctrl+") and len(key) == 6:
        return "^" + key[-1].upper()
    return key.upper() if key[:1] == "f" and key[1:].isdigit() else key

"""Make user text safe to show on someone else's terminal.

Names and shares travel from one person's keyboard to everyone's screen, so
nothing in them may drive a terminal: control characters (ESC and the rest of
C0/C1) are dropped, bidi overrides and other invisible format characters are
dropped (they can make text read differently from what was sent), and the
text is NFC-normalised so the same name always compares equal. Text that
draws nothing counts as blank: a name made only of zero-width joiners, or a
share made only of them, would otherwise look like no name or no words at
all. Nor may a character carry a pile of marks or joiners (a share of one
letter and 3,000 zero-width joiners, a name under thirty accents), nor a
share run to so many lines that it scrolls everyone's screen away. Limits
are checked after cleaning and reported as ``Refused``, never silently
truncated, so a member never loses words without being told.
"""

from __future__ import annotations

import unicodedata

from circle_room.protocol.errors import Refused
from circle_room.protocol.invisible import most_marks

MAX_NAME_CHARS = 32
MAX_SHARE_CHARS = 4000
MAX_MESSAGE_CHARS = 200
"""Limit for short facilitator texts such as a pause message."""
MAX_SHARE_LINES = 40
"""Lines in one share, after runs of blank lines are folded into one."""
MAX_MARKS = 4
"""Marks and joiners in a row on one character: enough for any script's
stacked accents and for emoji sequences, not for a tower of thirty."""

# Zero-width joiners are format characters too, but emoji sequences need them.
_KEPT_FORMAT = {"\u200c", "\u200d"}
_LINE_BREAKS = {"\n", "\r", "\u2028", "\u2029", "\x85"}
_BLANK_LOOKING = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}
"""Letters that draw nothing: dropped from one-line texts, never counted as visible."""


def _clean(text: str, *, keep_newlines: bool) -> str:
    if text.isascii() and text.isprintable():
        # Most shares: no controls, breaks, tabs or marks, already NFC. The
        # walk below would hand back the same text at a cost per character.
        return text
    return _clean_each(text, keep_newlines=keep_newlines)


def _clean_each(text: str, *, keep_newlines: bool) -> str:
    text = unicodedata.normalize("NFC", text)
    if keep_newlines:
        text = text.replace("\r\n", "\n")
    out: list[str] = []
    for ch in text:
        if ch in _LINE_BREAKS:
            out.append("\n" if keep_newlines else " ")
        elif ch == "\t":
            out.append("    " if keep_newlines else " ")
        else:
            category = unicodedata.category(ch)
            if category in ("Cc", "Cs", "Co", "Cn"):
                continue
            if ch in _BLANK_LOOKING and not keep_newlines:
                continue  # In a name, it would look empty or copy another's.
            if category == "Cf" and ch not in _KEPT_FORMAT:
                continue
            if category == "Zs":
                ch = " "
            out.append(ch)
    # Again: a dropped character may have stood between a letter and its accent.
    return unicodedata.normalize("NFC", "".join(out))


def draws_something(text: str) -> bool:
    """Whether ``text`` has a character that shows on its own.

    That is a letter, digit, punctuation mark or symbol that is not one of the
    blank-looking letters. Spaces, zero-width joiners and combining marks show
    nothing without such a character beside them.
    """
    if text.isascii() and text.isprintable():
        return not text.isspace() and text != ""  # Every other printable ASCII character shows.
    return any(unicodedata.category(ch)[0] in "LNPS" and ch not in _BLANK_LOOKING for ch in text)


def clean_line(text: str) -> str:
    """Return ``text`` as one safe line: no controls, runs of spaces folded.

    Words that draw nothing are dropped, so text that draws nothing is "".
    """
    words = _clean(text, keep_newlines=False).split()
    return " ".join(word for word in words if draws_something(word))


def clean_block(text: str) -> str:
    """Return ``text`` safe to display, keeping line breaks but no blank edges.

    A line that draws nothing is a blank line, so text that draws nothing is "".
    """
    lines = [
        line.rstrip() if draws_something(line) else ""
        for line in _clean(text, keep_newlines=True).split("\n")
    ]
    # Fold runs of blank lines so one share cannot scroll everyone's screen away.
    folded: list[str] = []
    for line in lines:
        if line or (folded and folded[-1]):
            folded.append(line)
    return "\n".join(folded).strip("\n")


def checked_name(text: str) -> str:
    """Clean a display name, or refuse it with a sentence saying why."""
    name = clean_line(text)
    if not name:
        raise Refused("bad_name", "Please choose a name with at least one visible character.")
    if len(name) > MAX_NAME_CHARS:
        raise Refused("bad_name", f"Names can be at most {MAX_NAME_CHARS} characters.")
    if most_marks(name) > MAX_MARKS:
        raise Refused(
            "bad_name", f"A letter in a name can carry at most {MAX_MARKS} accents or joiners."
        )
    return name


def checked_share(text: str) -> str:
    """Clean a share, or refuse it if it is empty or too long."""
    share = clean_block(text)
    if not share:
        raise Refused("empty_share", "There is nothing to share in that message.")
    if len(share) > MAX_SHARE_CHARS:
        raise Refused(
            "share_too_long",
            f"A share can be at most {MAX_SHARE_CHARS} characters; "
            f"this one has {len(share)}. Nothing was sent.",
        )
    lines = share.count("\n") + 1
    if lines > MAX_SHARE_LINES:
        raise Refused(
            "share_too_many_lines",
            f"A share can be at most {MAX_SHARE_LINES} lines; "
            f"this one has {lines}. Nothing was sent.",
        )
    marks = most_marks(share)
    if marks > MAX_MARKS:
        raise Refused(
            "too_many_marks",
            f"A character can carry at most {MAX_MARKS} accents or joiners; "
            f"this share has {marks} in a row. Nothing was sent.",
        )
    return share


def checked_message(text: str) -> str:
    """Clean a short facilitator text (pause message); it may be empty."""
    message = clean_line(text)
    if len(message) > MAX_MESSAGE_CHARS:
        raise Refused("message_too_long", f"Keep it to {MAX_MESSAGE_CHARS} characters at most.")
    return message

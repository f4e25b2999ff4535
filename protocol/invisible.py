"""Characters that draw nothing on their own: combining marks and default-ignorables.

An accent, a zero-width joiner, a variation selector or U+034F rides on the
character before it. Two places care: ``protocol.text`` limits how many may
pile up on one character (thirty accents make a tower, three thousand
joiners make a share that is nearly all invisible), and
``protocol.skeleton`` leaves them out when it compares names, so that
"Fac" and "Fac" with a joiner after it are one name.
"""

from __future__ import annotations

import unicodedata

_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
"""Default_Ignorable_Code_Point (Unicode's DerivedCoreProperties.txt): characters
that draw nothing where a font does not know them. Python's ``unicodedata``
does not carry the property; its ranges have not changed since Unicode 6."""


def is_default_ignorable(ch: str) -> bool:
    code = ord(ch)
    if code < _DEFAULT_IGNORABLE[0][0]:
        return False  # Most text: ASCII and Latin-1 letters.
    return any(low <= code <= high for low, high in _DEFAULT_IGNORABLE)


def unseen(ch: str) -> bool:
    """Whether ``ch`` draws nothing on its own: a combining mark (Mn, Me) or default-ignorable.

    Such characters ride on the character before them (an accent, a joiner,
    a variation selector, U+034F).
    """
    return unicodedata.category(ch) in ("Mn", "Me") or is_default_ignorable(ch)


def most_marks(text: str) -> int:
    """The longest run of ``unseen`` characters in ``text``."""
    if text.isascii():
        return 0  # No ASCII character is a mark or default-ignorable.
    longest = run = 0
    for ch in text:
        run = run + 1 if unseen(ch) else 0
        longest = max(longest, run)
    return longest

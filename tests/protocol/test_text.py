"""User text is made safe to show on someone else's terminal."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from circle_room.protocol.errors import CircleError, Refused
from circle_room.protocol.invisible import is_default_ignorable, most_marks, unseen
from circle_room.protocol.text import (
    MAX_MARKS,
    MAX_MESSAGE_CHARS,
    MAX_NAME_CHARS,
    MAX_SHARE_CHARS,
    MAX_SHARE_LINES,
    _clean,
    _clean_each,
    checked_message,
    checked_name,
    checked_share,
    clean_block,
    clean_line,
    draws_something,
)

ESC = "\x1b"
ZWJ = "\u200d"
ZWNJ = "\u200c"

# --- escape and control sequences -----------------------------------------------------


@pytest.mark.parametrize("clean", [clean_line, clean_block])
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (f"{ESC}[31mred{ESC}[0m", "[31mred[0m"),  # SGR colour
        (f"{ESC}]52;c;aGVsbG8={ESC}\\ok", "]52;c;aGVsbG8=\\ok"),  # OSC 52 with ST
        (f"{ESC}]52;c;aGVsbG8=\x07ok", "]52;c;aGVsbG8=ok"),  # OSC 52 with BEL
        (f"{ESC}[2J{ESC}[Hhi", "[2J[Hhi"),  # clear screen, cursor home
        (f"{ESC}[10A{ESC}[3;4Hup", "[10A[3;4Hup"),  # cursor moves
        ("\x9b2Jx", "2Jx"),  # 8-bit CSI
        ("\x9d0;title\x9cx", "0;titlex"),  # 8-bit OSC and ST
        (f"a\x00b\x07c\x08d{ESC}e\x7ff", "abcdef"),  # NUL, BEL, BS, ESC, DEL
    ],
)
def test_escape_and_control_sequences_cannot_reach_a_terminal(
    clean: object, raw: str, expected: str
) -> None:
    assert callable(clean)
    out = clean(raw)
    assert out == expected
    assert ESC not in out
    assert all(unicodedata.category(ch) != "Cc" for ch in out)


def test_every_c0_and_c1_control_is_dropped_except_line_breaks_and_tabs() -> None:
    line_breaks = {"\n", "\r", "\x85"}
    controls = [chr(c) for c in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0))]
    for ch in controls:
        if ch in line_breaks or ch == "\t":
            continue
        assert clean_line(f"a{ch}b") == "ab", repr(ch)
        assert clean_block(f"a{ch}b") == "ab", repr(ch)


@pytest.mark.parametrize(
    "mark",
    [
        "\u202e",  # RIGHT-TO-LEFT OVERRIDE
        "\u202d",  # LEFT-TO-RIGHT OVERRIDE
        "\u202a",  # LEFT-TO-RIGHT EMBEDDING
        "\u202c",  # POP DIRECTIONAL FORMATTING
        "\u2066",  # LEFT-TO-RIGHT ISOLATE
        "\u2067",  # RIGHT-TO-LEFT ISOLATE
        "\u2068",  # FIRST STRONG ISOLATE
        "\u2069",  # POP DIRECTIONAL ISOLATE
        "\u200e",  # LEFT-TO-RIGHT MARK
        "\u200f",  # RIGHT-TO-LEFT MARK
        "\u061c",  # ARABIC LETTER MARK
        "\u200b",  # ZERO WIDTH SPACE
        "\u2060",  # WORD JOINER
        "\ufeff",  # BYTE ORDER MARK
    ],
)
def test_bidi_and_invisible_format_characters_are_dropped(mark: str) -> None:
    assert clean_line(f"ab{mark}cd{mark}") == "abcd"
    assert clean_block(f"ab{mark}cd") == "abcd"


def test_bidi_override_cannot_reverse_a_name() -> None:
    # "Ana\u202eniamda" would show as "Anaadmain" reversed: "Ana" + "admin" backwards.
    assert checked_name("Ana\u202enimda") == "Ananimda"


def test_zero_width_joiners_are_kept_for_emoji_sequences() -> None:
    family = f"\U0001f468{ZWJ}\U0001f469{ZWJ}\U0001f467"
    assert clean_line(family) == family
    assert clean_block(f"we are {family}") == f"we are {family}"
    assert clean_line(f"a{ZWNJ}b") == f"a{ZWNJ}b"


def test_private_use_and_unassigned_characters_are_dropped() -> None:
    assert clean_line("a\ue000b\U000f0000c") == "abc"
    assert clean_line("a\U000e0001b") == "ab"  # language tag, a format character


# --- normalisation --------------------------------------------------------------------


def test_text_is_nfc_normalised() -> None:
    assert clean_line("e\u0301") == "\u00e9"
    assert clean_block("cafe\u0301\nole\u0301") == "caf\u00e9\nol\u00e9"
    assert checked_name("Zoe\u0301") == checked_name("Zo\u00e9") == "Zo\u00e9"
    assert clean_line("\u212b") == "\u00c5"  # ANGSTROM SIGN -> A WITH RING ABOVE


@pytest.mark.parametrize("dropped", ["\u200b", ESC, "\u202e", "\x07"])
def test_text_is_nfc_after_dropping_what_was_between_letter_and_accent(dropped: str) -> None:
    # A dropped character between a letter and a combining accent must not leave
    # a decomposed letter behind: "Zoe<ZWSP>\u0301" would otherwise look like "Zoé"
    # but compare unequal to it, and one person could impersonate another.
    raw = f"Zoe{dropped}\u0301"
    assert clean_line(raw) == "Zo\u00e9"
    assert clean_block(raw) == "Zo\u00e9"
    assert checked_name(raw) == checked_name("Zo\u00e9")


# --- line handling --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ana\nBell", "Ana Bell"),
        ("Ana\r\nBell", "Ana Bell"),
        ("Ana\rBell", "Ana Bell"),
        ("Ana\u2028Bell\u2029Cole\x85Dee", "Ana Bell Cole Dee"),
        ("Ana\tBell", "Ana Bell"),
        ("  Ana   \n\n  Bell  ", "Ana Bell"),
        ("Ana\u00a0\u3000\u2003Bell", "Ana Bell"),  # no-break, ideographic, em spaces
        ("\x0bAna\x0cBell\x1c", "AnaBell"),  # VT, FF, FS are controls, not spaces
    ],
)
def test_clean_line_makes_one_line(raw: str, expected: str) -> None:
    assert clean_line(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("one\ntwo", "one\ntwo"),
        ("one\r\ntwo\rthree", "one\ntwo\nthree"),
        ("one\u2028two\u2029three\x85four", "one\ntwo\nthree\nfour"),
        ("one\n\n\n\n\ntwo", "one\n\ntwo"),  # blank runs fold to one blank line
        ("one\n  \n\t\n\u00a0\ntwo", "one\n\ntwo"),  # whitespace-only lines are blank
        ("\n\n\none\ntwo\n\n\n", "one\ntwo"),  # no blank edges
        ("one   \ntwo\t", "one\ntwo"),  # no trailing spaces
        ("\tindented", "    indented"),  # tabs become spaces
        ("  keep  inner   spacing", "  keep  inner   spacing"),
        ("a\n\nb\n\nc", "a\n\nb\n\nc"),
    ],
)
def test_clean_block_keeps_lines_but_folds_blank_runs(raw: str, expected: str) -> None:
    assert clean_block(raw) == expected


# --- limits ---------------------------------------------------------------------------


def _refusal(call: object, text: str) -> Refused:
    assert callable(call)
    with pytest.raises(Refused) as info:
        call(text)
    assert isinstance(info.value, CircleError)
    assert info.value.message
    return info.value


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "\n\t",
        f"{ESC}\u202e\u200b",
        "\x00\x07",
        ZWJ,
        ZWJ * 5,
        ZWNJ * 3,
        f"{ZWJ} {ZWNJ}",
        f"{ZWJ}\u3164{ZWNJ}\u2800",
        "\ufe0f",  # a variation selector alone
        "\u0301\u0327",  # combining marks with nothing to sit on
        "\u034f",  # Issue 11: COMBINING GRAPHEME JOINER alone
        "\u0301" * 30,  # Issue 11: thirty combining marks
    ],
)
def test_a_name_needs_a_visible_character(name: str) -> None:
    assert _refusal(checked_name, name).code == "bad_name"


def test_name_length_is_counted_after_cleaning() -> None:
    assert checked_name("a" * MAX_NAME_CHARS) == "a" * MAX_NAME_CHARS
    assert checked_name(f"  {'a' * MAX_NAME_CHARS}{ESC}\u202e  ") == "a" * MAX_NAME_CHARS
    assert checked_name("e\u0301" * MAX_NAME_CHARS) == "\u00e9" * MAX_NAME_CHARS
    refusal = _refusal(checked_name, "a" * (MAX_NAME_CHARS + 1))
    assert refusal.code == "bad_name"
    assert str(MAX_NAME_CHARS) in refusal.message


@pytest.mark.parametrize(
    "share",
    [
        "",
        "  \n\n \t ",
        f"{ESC}[31m"[:1],
        "\u202e\u200b",
        ZWJ,
        f"{ZWJ}\n{ZWNJ}\n  {ZWJ}",
        "\u2800\u3164",
    ],
)
def test_an_empty_share_is_refused(share: str) -> None:
    assert _refusal(checked_share, share).code == "empty_share"


def test_share_length_is_counted_after_cleaning() -> None:
    assert checked_share("a" * MAX_SHARE_CHARS) == "a" * MAX_SHARE_CHARS
    assert checked_share("a" * MAX_SHARE_CHARS + ESC * 100 + "\n\n\n") == "a" * MAX_SHARE_CHARS
    refusal = _refusal(checked_share, "a" * (MAX_SHARE_CHARS + 1))
    assert refusal.code == "share_too_long"
    assert str(MAX_SHARE_CHARS) in refusal.message
    # A tab is four spaces on screen, so it counts as four.
    tabbed = "x" + "\t" * (MAX_SHARE_CHARS // 4) + "y"
    assert _refusal(checked_share, tabbed).code == "share_too_long"


def test_a_share_that_would_scroll_everyone_away_is_refused() -> None:
    lines = "\n".join(f"line {n}" for n in range(MAX_SHARE_LINES))
    assert checked_share(lines) == lines
    # A run of blank lines is folded to one first, and that one takes a row too.
    half = "\n".join(f"line {n}" for n in range((MAX_SHARE_LINES + 1) // 2))
    assert checked_share(half.replace("\n", "\n\n\n\n")) == half.replace("\n", "\n\n")
    refusal = _refusal(checked_share, lines + "\none more")
    assert refusal.code == "share_too_many_lines"
    assert str(MAX_SHARE_LINES) in refusal.message and str(MAX_SHARE_LINES + 1) in refusal.message
    # Issue 11: one of 1,990 short lines was accepted.
    assert _refusal(checked_share, "a\n" * 1990).code == "share_too_many_lines"


@pytest.mark.parametrize(
    "pile",
    [
        ZWJ * 3000,  # Issue 11: a letter and 3,000 zero-width joiners.
        "\u0301" * 30,  # Thirty accents on one letter.
        "\u034f" * (MAX_MARKS + 1),  # COMBINING GRAPHEME JOINER
        "\u0301\u0302\ufe0f\u200c\u0303",  # Mixed, one more than allowed.
    ],
)
def test_a_pile_of_marks_on_one_character_is_refused(pile: str) -> None:
    refusal = _refusal(checked_share, f"I felt x{pile} too")
    assert refusal.code == "too_many_marks"
    assert str(MAX_MARKS) in refusal.message
    assert _refusal(checked_name, f"Max{pile}").code == "bad_name"


@pytest.mark.parametrize(
    "text",
    [
        "Ti\u1ebfng Vi\u1ec7t",  # Vietnamese, precomposed
        "Tie\u0302\u0301ng",  # ... and as a letter with two marks
        "\u05e9\u05c1\u05b8\u0591",  # Hebrew: shin dot, qamats and a cantillation mark
        "\u0f56\u0f66\u0f92\u0fb2\u0f74\u0f56",  # Tibetan stacks three
        "\U0001f469\U0001f3fd\u200d\u2764\ufe0f\u200d\U0001f48b\u200d\U0001f468",  # kiss emoji
        "1\ufe0f\u20e3",  # keycap
    ],
)
def test_real_scripts_and_emoji_keep_their_marks(text: str) -> None:
    assert most_marks(text) <= MAX_MARKS
    assert checked_share(text) == clean_block(text)
    assert checked_name(text) == clean_line(text)


def test_unseen_characters_are_marks_and_default_ignorables() -> None:
    for ch in (ZWJ, ZWNJ, "\u034f", "\ufe0f", "\u0301", "\u20dd", "\u00ad", "\U000e0001"):
        assert unseen(ch), repr(ch)
    for ch in ("a", " ", "\u0e32", "\u0903", "\U0001f33b", "\u3164"[:0] or "\u00e9"):
        assert not unseen(ch), repr(ch)
    # The property's own ranges hold exactly the characters that Python calls format
    # characters there (and variation selectors, fillers, and a few Unicode reserves).
    assert is_default_ignorable("\u3164") and is_default_ignorable("\ufff0")
    assert not is_default_ignorable("\u00ac") and not is_default_ignorable("\u00ae")


@given(st.text(max_size=60))
def test_most_marks_is_the_longest_run_of_unseen_characters(text: str) -> None:
    runs = "".join("x" if unseen(ch) else " " for ch in text).split()
    assert most_marks(text) == max((len(run) for run in runs), default=0)


def test_a_share_keeps_its_lines() -> None:
    assert checked_share("  I felt that.\r\n\r\n\r\nThanks.  \n") == "  I felt that.\n\nThanks."


def test_lines_that_draw_nothing_are_blank_lines() -> None:
    # Otherwise a column of joiners would scroll everyone's screen past the folding.
    assert clean_block(f"one\n{ZWJ}\n{ZWJ}\n{ZWNJ}\ntwo\n{ZWJ}") == "one\n\ntwo"


def test_words_that_draw_nothing_are_dropped_from_a_line() -> None:
    assert clean_line(f"Ana {ZWJ}{ZWJ} Bell") == "Ana Bell"
    assert checked_message(ZWJ * 3) == ""  # So the relay's default pause message is used.


def test_facilitator_messages() -> None:
    assert checked_message("") == ""
    assert checked_message(f" Let's {ESC}[5mtake\na breath ") == "Let's [5mtake a breath"
    assert checked_message("m" * MAX_MESSAGE_CHARS) == "m" * MAX_MESSAGE_CHARS
    assert _refusal(checked_message, "m" * (MAX_MESSAGE_CHARS + 1)).code == "message_too_long"


# --- properties -----------------------------------------------------------------------

NASTY = [
    ESC,
    "\x9b",
    "\x07",
    "\x00",
    "\r",
    "\n",
    "\t",
    "\x85",
    "\u2028",
    "\u2029",
    "\u202e",
    "\u2066",
    "\u200b",
    ZWJ,
    ZWNJ,
    "\u00a0",
    " ",
    "e",
    "\u0301",
    "\u0327",
    "\u1100",
    "\u1161",
    "\u11a8",
    "\ue000",
    "\U000e0001",
    "\u212b",
    "\u0958",  # a composition exclusion
]
BLANK_LOOKING = ["\u3164", "\u115f", "\u1160", "\uffa0", "\u2800"]
INVISIBLE = [ZWJ, ZWNJ, " ", "\u00a0", "\ufe0f", "\u0301", "\u20e3", "\u200b", *BLANK_LOOKING]
texts = st.lists(st.sampled_from([*NASTY, "\r\n"]) | st.characters(), max_size=60).map(
    "".join
) | st.text(max_size=60)


def _shows(ch: str) -> bool:
    """Draws something by itself: a letter, digit, punctuation or symbol that is not blank."""
    return unicodedata.category(ch)[0] in "LNPS" and ch not in BLANK_LOOKING


def _assert_safe(out: str, *, newlines: bool) -> None:
    for ch in out:
        category = unicodedata.category(ch)
        if ch == "\n" and newlines:
            continue
        assert category != "Cc", repr(ch)
        assert category != "Cf" or ch in (ZWJ, ZWNJ), repr(ch)
        assert category not in ("Cs", "Co", "Cn"), repr(ch)
    assert unicodedata.is_normalized("NFC", out), repr(out)


@settings(max_examples=400)
@given(texts)
@example("e\u200b\u0301")
@example("\u1100\x1b\u1161")
@example("e\u115f\u0301")  # A blank-looking letter between a letter and its accent.
def test_clean_line_output_is_safe_normalised_and_stable(text: str) -> None:
    out = clean_line(text)
    _assert_safe(out, newlines=False)
    assert "\n" not in out
    assert out == out.strip()
    assert "  " not in out
    assert clean_line(out) == out


@settings(max_examples=400)
@given(texts)
@example("e\u200b\u0301")
@example("a\n\u200b\u0301")
def test_clean_block_output_is_safe_normalised_and_stable(text: str) -> None:
    out = clean_block(text)
    _assert_safe(out, newlines=True)
    assert "\n\n\n" not in out
    assert not out.startswith("\n")
    assert not out.endswith("\n")
    assert all(line == line.rstrip() for line in out.split("\n"))
    assert clean_block(out) == out


@settings(max_examples=200)
@given(texts)
def test_checked_texts_either_refuse_or_return_their_clean_form(text: str) -> None:
    for checked, clean in (
        (checked_name, clean_line),
        (checked_share, clean_block),
        (checked_message, clean_line),
    ):
        try:
            out = checked(text)
        except Refused as refusal:
            assert refusal.code in {
                "bad_name",
                "empty_share",
                "share_too_long",
                "share_too_many_lines",
                "too_many_marks",
                "message_too_long",
            }
        else:
            assert out == clean(text)


@settings(max_examples=300)
@given(texts | st.lists(st.sampled_from(INVISIBLE), max_size=12).map("".join))
@example(ZWJ)
@example(f"{ZWJ}\n{ZWNJ}")
def test_text_whose_clean_form_draws_nothing_is_refused(text: str) -> None:
    line, block = clean_line(text), clean_block(text)
    if not any(_shows(ch) for ch in line):
        assert _refusal(checked_name, text).code == "bad_name"
    # Whatever is kept draws something, word by word and line by line.
    assert all(any(_shows(ch) for ch in word) for word in line.split(" ") if line)
    if not any(_shows(ch) for ch in block):
        assert _refusal(checked_share, text).code == "empty_share"
    assert all(any(_shows(ch) for ch in row) for row in block.split("\n") if row)


@given(texts)
def test_draws_something_agrees_with_the_definition(text: str) -> None:
    assert draws_something(text) == any(_shows(ch) for ch in text)


@pytest.mark.parametrize("blank", BLANK_LOOKING)
def test_names_of_letters_that_draw_nothing_are_refused(blank: str) -> None:
    with pytest.raises(Refused) as refused:
        checked_name(blank * 3)
    assert refused.value.code == "bad_name"
    # Nor can they make a copy of someone else's name.
    assert checked_name(f"Ana{blank}") == "Ana"


ASCII = st.text(st.characters(max_codepoint=127), max_size=80)


@given(ASCII, st.booleans())
def test_plain_ascii_skips_only_a_walk_that_would_change_nothing(text: str, newlines: bool) -> None:
    # The short cut for printable ASCII hands back what the full walk would.
    assert _clean(text, keep_newlines=newlines) == _clean_each(text, keep_newlines=newlines)


@given(ASCII)
def test_ascii_short_cuts_agree_with_the_definitions(text: str) -> None:
    assert draws_something(text) == any(_shows(ch) for ch in text)
    assert most_marks(text) == 0 == sum(unseen(ch) for ch in text)

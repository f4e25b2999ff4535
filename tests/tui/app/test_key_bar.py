"""The footer packs every key into lines that fit, and never splits a key from its words."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from circle_room.tui.app.widgets.key_bar import key_name, pack

items = st.lists(
    st.tuples(
        st.sampled_from(["^R", "^T", "Enter", "F1", "[", "Esc"]),
        st.text(alphabet="abcdefgh ", min_size=1, max_size=14)
        .map(str.strip)
        .filter(lambda words: bool(words) and "  " not in words),
    ),
    max_size=14,
    unique_by=lambda item: item[1],
)


@given(items, st.integers(min_value=20, max_value=200))
def test_every_key_is_shown_whole_within_the_width(keys: list[tuple[str, str]], width: int) -> None:
    lines = pack(keys, width).plain.split("\n")
    assert all(len(line) <= width for line in lines)
    found = [item for line in lines for item in line.split("  ")]
    assert found == [f"{key} {words}" for key, words in keys] or not keys


def test_keys_are_written_as_nano_writes_them() -> None:
    assert key_name("ctrl+r") == "^R"
    assert key_name("f1") == "F1"
    assert key_name("enter") == "Enter"
    assert key_name("left_square_bracket") == "["


def test_sixty_columns_take_every_member_key_in_two_lines() -> None:
    member = [
        ("^R", "Raise hand"),
        ("^T", "Me too"),
        ("^S", "Signal"),
        ("^O", "Settings"),
        ("^G", "Help"),
        ("^L", "Leave"),
        ("^P", "All actions"),
        ("^X", "Quiet exit"),
    ]
    assert len(pack(member, 58).plain.split("\n")) == 2

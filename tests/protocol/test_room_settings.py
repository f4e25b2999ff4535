"""Settings as a room may hold them: cleaned, then checked against the limits."""

from __future__ import annotations

import pytest

from circle_room.protocol.errors import Refused
from circle_room.protocol.model import Settings
from circle_room.protocol.refusals import RefusalCode
from circle_room.protocol.room_settings import (
    MAX_AGREEMENT_CHARS,
    MAX_AGREEMENTS,
    MAX_SHARE_LIMIT,
    checked_settings,
)

LIMIT = "The share limit must be between 0 and 3 hours."


def test_agreements_are_cleaned_and_empty_ones_dropped() -> None:
    raw = Settings(share_limit=MAX_SHARE_LIMIT, agreements=("  Be\x1b kind. ", "\u202e", "Ok."))
    expected = Settings(share_limit=MAX_SHARE_LIMIT, agreements=("Be kind.", "Ok."))
    assert checked_settings(raw) == expected
    assert checked_settings(expected) == expected
    assert checked_settings(Settings()) == Settings()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (Settings(share_limit=-1), LIMIT),
        (Settings(share_limit=MAX_SHARE_LIMIT + 1), LIMIT),
        (
            Settings(agreements=tuple(f"Agreement {i}" for i in range(MAX_AGREEMENTS + 1))),
            "Keep to 12 agreements of at most 300 characters.",
        ),
        (
            Settings(agreements=("x" * (MAX_AGREEMENT_CHARS + 1),)),
            "Keep to 12 agreements of at most 300 characters.",
        ),
    ],
)
def test_out_of_bounds_is_refused_not_trimmed(settings: Settings, message: str) -> None:
    with pytest.raises(Refused) as refused:
        checked_settings(settings)
    assert refused.value.code is RefusalCode.BAD_SETTING
    assert refused.value.message == message


def test_limits_are_checked_after_cleaning() -> None:
    # Twelve real agreements and blank-looking ones: the blank ones do not count.
    many = (*(f"Agreement {i}" for i in range(MAX_AGREEMENTS)), "\x1b", "   ")
    assert len(checked_settings(Settings(agreements=many)).agreements) == MAX_AGREEMENTS

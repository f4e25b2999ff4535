"""Frames on their way in: rate limits, strikes and decoding, on a clock the test owns."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from circle_room.protocol.codec import encode
from circle_room.protocol.messages import (
    Command,
    CommandFrame,
    Error,
    Hello,
    Lock,
    MeToo,
    RaiseHand,
    Share,
)
from circle_room.server.config import Rate, RelayConfig
from circle_room.server.intake import Intake, Rejected, bucket_name

NOW = 100.0
CONFIG = RelayConfig(
    frame_rate=Rate(burst=4, per_second=1),
    share_rate=Rate(burst=2, per_second=0.5),
    max_strikes=3,
)


def frame(command: Command, ref: int = 1) -> bytes:
    return encode(CommandFrame(ref, command))


def test_a_command_comes_through() -> None:
    intake = Intake(CONFIG)
    assert intake.take(frame(RaiseHand(), ref=7), NOW) == CommandFrame(7, RaiseHand())
    assert intake.strikes == 0


def test_what_is_not_a_command_is_refused_with_ref_0() -> None:
    intake = Intake(RelayConfig())
    hello = encode(Hello(1, "Ana", "", "", True, None))
    for data in ("text", b"\xc1", hello):
        taken = intake.take(data, NOW)
        assert isinstance(taken, Rejected)
        assert (taken.error.ref, taken.error.code) == (0, "bad_frame")
    assert intake.strikes == 3


def test_every_frame_counts_against_the_frame_rate() -> None:
    intake = Intake(RelayConfig(frame_rate=Rate(burst=2, per_second=1), max_strikes=100))
    assert isinstance(intake.take(b"junk", NOW), Rejected)
    assert isinstance(intake.take(frame(RaiseHand()), NOW), CommandFrame)
    taken = intake.take(frame(RaiseHand()), NOW)
    assert taken == Rejected(Error(0, "rate_limited", "Too many messages; slow down.", 1.0), False)
    assert isinstance(intake.take(frame(RaiseHand()), NOW + 1), CommandFrame)


def test_each_kind_of_command_has_its_own_limit() -> None:
    intake = Intake(CONFIG)
    assert [isinstance(intake.take(frame(Share("hi"), n), NOW), CommandFrame) for n in (1, 2)] == [
        True,
        True,
    ]
    limited = intake.take(frame(Share("again"), 3), NOW)
    assert isinstance(limited, Rejected)
    assert (limited.error.ref, limited.error.code) == (3, "rate_limited")
    assert limited.error.retry_after == 2.0
    assert "try again in 2 s" in limited.error.message
    # Hands are counted apart from shares.
    assert isinstance(intake.take(frame(RaiseHand(), 4), NOW), CommandFrame)


def test_past_max_strikes_in_a_row_it_says_hang_up() -> None:
    intake = Intake(RelayConfig(max_strikes=3))
    verdicts = [intake.take(b"junk", NOW) for _ in range(4)]
    assert [v.hang_up for v in verdicts if isinstance(v, Rejected)] == [False, False, False, True]


def test_an_accepted_command_wipes_the_strikes() -> None:
    intake = Intake(RelayConfig(max_strikes=3))
    for _ in range(3):
        intake.take(b"junk", NOW)
    intake.accepted()
    taken = intake.take(b"junk", NOW)
    assert isinstance(taken, Rejected) and not taken.hang_up
    assert intake.strikes == 1


def test_bucket_names_are_rates_in_the_config() -> None:
    for command in (Share("x"), RaiseHand(), MeToo(1, True), Lock(True)):
        assert isinstance(getattr(RelayConfig(), f"{bucket_name(command)}_rate"), Rate)


@given(st.binary(max_size=64) | st.text(max_size=16))
def test_any_frame_is_a_command_or_a_refusal(data: bytes | str) -> None:
    taken = Intake(RelayConfig()).take(data, NOW)
    assert isinstance(taken, (CommandFrame, Rejected))

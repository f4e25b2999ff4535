"""Token buckets, driven by a clock the test owns."""

from __future__ import annotations

import pytest

from circle_room.server.config import Rate
from circle_room.server.limits import TokenBucket


def test_a_burst_then_a_wait() -> None:
    bucket = TokenBucket(Rate(burst=3, per_second=0.5), now=100.0)
    assert [bucket.take(100.0) for _ in range(3)] == [None, None, None]
    assert bucket.take(100.0) == pytest.approx(2.0)
    assert bucket.take(101.0) == pytest.approx(1.0)  # half a token came back
    assert bucket.take(102.0) is None
    assert bucket.take(102.0) == pytest.approx(2.0)


def test_refill_stops_at_the_burst() -> None:
    bucket = TokenBucket(Rate(burst=2, per_second=10), now=0.0)
    assert bucket.take(1000.0) is None
    assert bucket.take(1000.0) is None
    assert bucket.take(1000.0) == pytest.approx(0.1)


def test_peek_does_not_spend() -> None:
    bucket = TokenBucket(Rate(burst=1, per_second=1), now=0.0)
    assert bucket.peek(0.0) is None
    assert bucket.peek(0.0) is None
    assert bucket.take(0.0) is None
    assert bucket.peek(0.0) == pytest.approx(1.0)
    assert bucket.peek(0.5) == pytest.approx(0.5)


def test_a_clock_going_backwards_refills_nothing() -> None:
    bucket = TokenBucket(Rate(burst=1, per_second=1), now=10.0)
    assert bucket.take(10.0) is None
    assert bucket.take(5.0) is not None
    assert bucket.take(10.5) is not None


def test_a_bucket_short_of_a_token_never_says_retry_now() -> None:
    bucket = TokenBucket(Rate(burst=1, per_second=1), now=0.0)
    assert bucket.take(0.0) is None
    wait = bucket.take(0.9999)
    assert wait is not None and round(wait, 2) > 0
    peeked = bucket.peek(0.9999)
    assert peeked is not None and round(peeked, 2) > 0

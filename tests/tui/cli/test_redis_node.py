"""``circle serve --redis`` with Redis out of reach: one sentence, status 2, no traceback.

Run through the real CLI. The sentence names the address and never the
password that came with it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.server.redis_support import RELAY_PASSWORD, start_redis
from tests.tui.cli.test_main import circle, free_port, said_once


def said_once_quietly(tmp_path: Path, url: str, *wanted: str) -> None:
    result = circle("serve", "--port", "0", "--data-dir", str(tmp_path), "--redis", url)
    said_once(result, *wanted)
    assert "sekrit" not in result.stderr and RELAY_PASSWORD not in result.stderr


def test_nothing_listening_at_the_redis_address_is_said_plainly(tmp_path: Path) -> None:
    port = free_port()
    said_once_quietly(
        tmp_path,
        f"redis://circle:sekrit@127.0.0.1:{port}",
        f"cannot reach Redis at 127.0.0.1:{port}",
        "nothing listens there",
        "redis-server",
    )


def test_an_address_that_is_not_redis_is_said_plainly(tmp_path: Path) -> None:
    said_once_quietly(tmp_path, "http://circle:sekrit@example.org", "is not a Redis address")
    said_once_quietly(tmp_path, "127.0.0.1:6379", "is not a Redis address", "redis://HOST")


def test_a_wrong_password_is_said_plainly(tmp_path: Path) -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (.ci/run installs it)")
    server = start_redis(tmp_path / "redis")
    try:
        url = f"redis://circle:sekrit@127.0.0.1:{server.port}"
        said_once_quietly(tmp_path / "data", url, "refused the user name or password")
    finally:
        server.stop()

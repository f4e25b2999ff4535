"""The command line's TLS: on by default, --tls-cert/--tls-key, --no-tls and its warning."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme

from circle_room.server.tls import TLSSetupError, certificate_files, own_certificate
from circle_room.tui.cli import tls
from circle_room.tui.cli.main import build_parser, main
from circle_room.tui.client.connection import CircleClient
from circle_room.tui.client.trust import Protection

WAIT = 20.0


def args(*argv: str) -> object:
    return build_parser().parse_args(["serve", *argv])


def test_tls_is_the_default_with_the_relays_own_certificate(tmp_path: Path) -> None:
    chosen = tls.choose(args(), tmp_path)  # type: ignore[arg-type]
    assert chosen is not None and chosen.self_signed
    assert chosen.fingerprint == own_certificate(tmp_path).fingerprint


def test_no_tls_warns_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tls.choose(args("--no-tls"), tmp_path) is None  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert "warning: --no-tls" in err and "unencrypted" in err and "proxy" in err


@pytest.mark.parametrize(
    ("argv", "why"),
    [
        (["--no-tls", "--tls-cert", "c.pem", "--tls-key", "k.pem"], "leave out --tls-cert"),
        (["--tls-cert", "c.pem"], "go together"),
        (["--tls-key", "k.pem"], "go together"),
        (["--tls-cert", "missing.pem", "--tls-key", "missing.pem"], "Cannot use the certificate"),
    ],
)
def test_options_that_do_not_fit_are_said_plainly(
    tmp_path: Path, argv: list[str], why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(TLSSetupError, match=why):
        tls.choose(args(*argv), tmp_path)  # type: ignore[arg-type]
    # ``circle host`` stops with the sentence before opening anything.
    assert main(["host", "--data-dir", str(tmp_path), "--port", "0", "--no-ssh", *argv]) == 2
    assert why in capsys.readouterr().err


def test_what_members_type(tmp_path: Path) -> None:
    own = own_certificate(tmp_path)
    assert tls.member_address("192.168.1.20", 8765, "circle", own) == (
        f"192.168.1.20:8765/circle#{own.fingerprint}"
    )
    assert tls.member_address("192.168.1.20", 8765, "circle", None) == (
        "ws://192.168.1.20:8765/circle"
    )
    vouched = _issued(tmp_path, "circle.example.org", "*.example.org")
    # A certificate from an authority needs no fingerprint, and its own name.
    assert tls.member_address("203.0.113.9", 8765, "circle", vouched) == (
        "circle.example.org:8765/circle"
    )
    assert tls.local_url("127.0.0.1", 8765, own) == f"wss://127.0.0.1:8765#{own.fingerprint}"
    assert tls.room_url(tls.local_url("127.0.0.1", 8765, own), "circle") == (
        f"wss://127.0.0.1:8765/circle#{own.fingerprint}"
    )


def test_the_fingerprints_side_by_side(tmp_path: Path) -> None:
    own = own_certificate(tmp_path)
    lines = tls.fingerprint_lines(own, "SHA256:abc")
    assert lines[1].split()[:2] == ["TLS", own.fingerprint]
    assert lines[2].split()[:2] == ["SSH", "SHA256:abc"]
    assert lines[1].index(own.fingerprint) == lines[2].index("SHA256:abc")  # one column


def test_room_add_prints_the_pinned_join_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["room", "add", "tuesday", "--data-dir", str(tmp_path)]) == 0
    pin = own_certificate(tmp_path).fingerprint
    assert f"circle join HOST:8765/tuesday#{pin}" in capsys.readouterr().out


# --- circle serve, the real command -----------------------------------------------------------


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[object]:
    started: list[asyncio.subprocess.Process] = []

    async def run(*argv: str) -> tuple[list[str], asyncio.subprocess.Process]:
        data = tmp_path / "data"
        assert main(["room", "add", "tuesday", "--data-dir", str(data)]) == 0
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "circle_room.tui", "serve", "--port", "0"),
            *("--data-dir", str(data), *argv),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        started.append(process)
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or not lines[-1].startswith("    TLS"):
            raw = await asyncio.wait_for(process.stdout.readline(), WAIT)
            assert raw, lines
            lines.append(raw.decode().rstrip("\n"))
        return lines, process

    yield run
    for process in started:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), WAIT)


async def test_serve_no_tls_warns_and_members_join_with_ws(serve: object) -> None:
    lines, _ = await serve("--no-tls")  # type: ignore[operator]
    assert any("warning: --no-tls" in line for line in lines)
    found = re.search(r"circle join (ws://HOST:(\d+)/ROOM)", "\n".join(lines))
    assert found, lines
    member = CircleClient(f"ws://127.0.0.1:{found[2]}/tuesday", name="Ana")
    await member.connect()
    assert member.security is not None and member.security.protection is Protection.PLAIN
    await member.close()


async def test_serve_with_a_certificate_from_an_authority(
    serve: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = trustme.CA()
    issued = ca.issue_cert("localhost")
    cert, key, authority = tmp_path / "c.pem", tmp_path / "k.pem", tmp_path / "ca.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(authority))
    lines, _ = await serve("--tls-cert", str(cert), "--tls-key", str(key))  # type: ignore[operator]
    # The join line names the certificate's host and carries no fingerprint.
    found = re.search(r"circle join localhost:(\d+)/ROOM$", "\n".join(lines), re.MULTILINE)
    assert found, lines
    monkeypatch.setenv("SSL_CERT_FILE", str(authority))
    member = CircleClient(f"localhost:{found[1]}/tuesday", name="Ana")
    await member.connect()
    assert member.security is not None and member.security.protection is Protection.VOUCHED
    await member.close()


def _issued(tmp_path: Path, *names: str) -> tls.RelayTLS:
    issued = trustme.CA().issue_cert(*names)
    cert, key = tmp_path / "vouched-cert.pem", tmp_path / "vouched-key.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    return certificate_files(cert, key)

"""The side-by-side benchmark starts, runs each section on a tiny configuration,
writes its results and stops, leaving no server behind.

The figures themselves are not checked (a tiny run on a busy machine says
nothing); that the bench runs is. The IRC side needs ngircd from Debian
(``apt-get install ngircd``) and is skipped without it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPARE = ROOT / "bench" / "compare.py"
NGIRCD = shutil.which("ngircd") or shutil.which("/usr/sbin/ngircd")

pytestmark = pytest.mark.skipif(
    shutil.which("ss") is None or not Path("/proc").is_dir(),
    reason="the bench reads sockets with ss (iproute2) and processes from /proc: Linux only",
)


def run_bench(out: Path, *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, str(COMPARE), "--smoke", "--quiet", "--out-dir", str(out), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (out / "RESULTS.md").is_file()
    results: dict[str, Any] = json.loads((out / "results.json").read_text())
    return results


def ngircd_processes() -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "circle-bench-ircd" in text:
            found.append(text)
    return found


def test_every_section_runs_and_is_written_up(tmp_path: Path) -> None:
    results = run_bench(tmp_path, "--no-irc")

    sections = results["sections"]
    assert set(sections) == {"fanout", "meeting", "idle", "joins"}
    fanout = sections["fanout"]["rows"]
    assert {(r["relay"], r["compression"]) for r in fanout} == {
        (relay, compression) for relay in ("bare", "circle") for compression in (False, True)
    }
    for row in fanout:
        assert row["paced"]["samples"] == row["paced"]["expected"] > 0, row
        assert row["saturation"]["deliveries"] > 0, row
    meeting = sections["meeting"]
    assert meeting["irc"] is None
    assert meeting["circle_deflate"]["meeting"]["bytes_received"] > 0
    assert [r["system"] for r in sections["idle"]["rows"]] == [
        "Circle",
        "websockets keepalive (Circle before)",
    ]
    assert [r["joined"] for r in sections["joins"]["rows"]] == [5, 10]
    text = (tmp_path / "RESULTS.md").read_text()
    for heading in ("## Fan-out", "## The scripted meeting", "## Keepalive", "## Joins"):
        assert heading in text
    assert "ngircd was not installed" in text
    if results["chart"]:
        assert (tmp_path / "results.png").stat().st_size > 0


@pytest.mark.skipif(NGIRCD is None, reason="ngircd is not installed (apt-get install ngircd)")
def test_the_irc_side_runs_and_ngircd_is_stopped(tmp_path: Path) -> None:
    # Only the ngircd this run starts: another run on the machine may have its own.
    before = set(ngircd_processes())
    results = run_bench(tmp_path, "--only", "meeting,idle")

    irc = results["sections"]["meeting"]["irc"]
    assert irc["meeting"]["bytes_received"] > 0
    assert irc["voice_changes"] > 0
    (row,) = [r for r in results["sections"]["idle"]["rows"] if r["system"] == "ngircd"]
    assert row["pings"] > 0
    assert not set(ngircd_processes()) - before

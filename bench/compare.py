"""Circle side by side with its peers, in one run, on loopback: writes bench/RESULTS.md.

Sections (``--only`` picks some):

- ``fanout``: a bare websockets broadcast relay vs Circle's relay, compression
  off and on: deliveries per relay CPU-second at saturation, p50/p99 at a
  steady rate, relay memory per idle connection (``fanout.py``);
- ``meeting``: the scripted 12-member meeting through Circle, through ngircd,
  as JSON, and the zlib floor: bytes per pure listener (``meeting.py``);
- ``idle``: keepalive TCP segments per idle member-hour, Circle vs websockets'
  own keepalive vs ngircd (``idle.py``);
- ``joins``: joins per second at 100, 200, 400, 800 members (``joins.py``).

Run ``python bench/compare.py`` from the repository (about ten minutes);
``--smoke`` runs every section on a tiny configuration in seconds. ngircd comes
from Debian (``apt-get install ngircd``); without it the IRC figures are left
out and the results say so. The chart needs ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import fanout
import idle
import joins
import meeting
import report
import websockets
from irc import find_ngircd, ngircd_version
from script import meeting as script

SECTIONS = ("fanout", "meeting", "idle", "joins")
HERE = Path(__file__).resolve().parent


def load_average() -> str:
    path = Path("/proc/loadavg")
    return " ".join(path.read_text().split()[:3]) if path.exists() else "unknown"


def machine(ngircd: str | None) -> dict[str, Any]:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "websockets": websockets.__version__,
        "ngircd": ngircd_version(ngircd) if ngircd else None,
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help=f"comma-separated sections of {', '.join(SECTIONS)}")
    parser.add_argument("--smoke", action="store_true", help="a tiny configuration, in seconds")
    parser.add_argument("--no-irc", action="store_true", help="leave ngircd out")
    parser.add_argument("--out-dir", default=str(HERE), help="where RESULTS.md etc. go")
    parser.add_argument("--members", type=int, default=500, help="listeners in the fan-out")
    parser.add_argument("--rate", type=float, default=100.0, help="shares per second, steady")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds at that rate")
    parser.add_argument("--saturation", type=float, default=5.0, help="seconds at saturation")
    parser.add_argument("--settle", type=float, default=2.0, help="idle seconds before RSS")
    parser.add_argument("--drain-timeout", type=float, default=30.0)
    parser.add_argument("--connect-timeout", type=float, default=300.0)
    parser.add_argument("--connect-concurrency", type=int, default=50)
    parser.add_argument("--listener-procs", type=int, default=2)
    parser.add_argument(
        "--probes", type=int, default=50, help="listeners that time every share (listeners.py)"
    )
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="no CPU pinning")
    parser.add_argument("--joins", default="100,200,400,800", help="room sizes to join")
    parser.add_argument("--idle-members", type=int, default=5)
    parser.add_argument(
        "--idle-scale", type=float, default=50.0, help="keepalive times divided by this"
    )
    parser.add_argument(
        "--idle-periods", type=float, default=10.0, help="Circle keepalive periods to count"
    )
    parser.add_argument("--irc-ping", type=int, default=idle.IRC_PING, help="ngircd PingTimeout")
    parser.add_argument("--meeting-steps", type=int, help="play only the first N script steps")
    parser.add_argument("--quiet", action="store_true")
    return parser


SMOKE = {
    "members": 6,
    "rate": 20.0,
    "duration": 0.5,
    "saturation": 0.5,
    "settle": 0.2,
    "joins": "5,10",
    "idle_members": 2,
    "idle_scale": 1000.0,
    "idle_periods": 4.0,
    "meeting_steps": 12,
    "irc_ping": 1,
    "connect_concurrency": 5,
    "listener_procs": 1,
    "probes": 2,
}


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    ngircd = None if args.no_irc else find_ngircd()
    wanted = args.only.split(",") if args.only else list(SECTIONS)
    unknown = set(wanted) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown sections: {', '.join(sorted(unknown))}")
    say = (lambda *a: None) if args.quiet else print
    sections: dict[str, Any] = {}
    load_before = load_average()
    began = time.monotonic()
    if "fanout" in wanted:
        sections["fanout"] = await fanout.run(args)
    if "meeting" in wanted:
        say("[meeting] Circle, ngircd, JSON ...")
        steps = script()
        if args.meeting_steps:
            steps = steps[: args.meeting_steps]
        sections["meeting"] = await meeting.run(ngircd, steps)
    if "idle" in wanted:
        say("[idle] keepalive segments ...")
        sections["idle"] = await idle.run(
            ngircd, args.idle_members, args.idle_scale, args.idle_periods, args.irc_ping
        )
    if "joins" in wanted:
        sizes = tuple(int(n) for n in args.joins.split(","))
        sections["joins"] = await joins.run(args, sizes)
    say(f"[done] {time.monotonic() - began:.0f} s")
    about = machine(ngircd) | {"load_before": load_before, "load_after": load_average()}
    return {"machine": about, "sections": sections}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if args.smoke:
        for name, value in SMOKE.items():
            setattr(args, name, value)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results = asyncio.run(main_async(args))
    results["command"] = " ".join(["python bench/compare.py", *argv])
    results["date"] = time.strftime("%Y-%m-%d %H:%M %Z")
    results["seconds"] = time.monotonic() - started
    results["chart"] = "results.png" if report.chart(results, out / "results.png") else None
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    report.write(results, out / "RESULTS.md")
    if not args.quiet:
        print((out / "RESULTS.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())

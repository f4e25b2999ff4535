"""bench/RESULTS.md and the chart, from the results of ``compare.py``.

Every figure sits beside its peer from the same run and the ratio between
them, so a reader never compares numbers from different machines or days.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _ratio(value: float | None, peer: float | None) -> str:
    if value is None or peer is None or peer == 0:
        return "-"
    return f"{value / peer:.2f}x"


def _n(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def fanout_section(fanout: dict[str, Any]) -> list[str]:
    by = {(r["relay"], r["compression"]): r for r in fanout["rows"]}
    out = [
        "## Fan-out: a bare websockets broadcast relay vs Circle's relay",
        "",
        "One speaker, the listeners in their own processes, the relay alone on one CPU. "
        "Latency: shares at a steady rate, speaker's send to each listener's receive. "
        "Saturation: as fast as the listeners drain (a bounded window in flight); "
        "deliveries per CPU-second of the relay process.",
        "",
    ]
    rows = []
    for compression in (False, True):
        bare, circle = by.get(("bare", compression)), by.get(("circle", compression))
        if not bare or not circle:
            continue
        label = "deflate" if compression else "off"
        figures: list[tuple[str, float, float, int]] = [
            (
                "deliveries per relay CPU-second",
                bare["saturation"]["deliveries_per_relay_cpu_s"],
                circle["saturation"]["deliveries_per_relay_cpu_s"],
                0,
            ),
            (
                "deliveries per second",
                bare["saturation"]["deliveries_per_s"],
                circle["saturation"]["deliveries_per_s"],
                0,
            ),
            (
                "relay CPU % at saturation",
                bare["saturation"]["relay_cpu_percent"],
                circle["saturation"]["relay_cpu_percent"],
                1,
            ),
            (
                f"relay CPU % at {bare['paced']['achieved_rate']:g} shares/s",
                bare["paced"]["relay_cpu_percent"],
                circle["paced"]["relay_cpu_percent"],
                1,
            ),
            (
                f"p50 latency, {bare['paced']['achieved_rate']:g} shares/s (ms)",
                bare["paced"]["p50_ms"],
                circle["paced"]["p50_ms"],
                2,
            ),
            (
                f"p99 latency, {bare['paced']['achieved_rate']:g} shares/s (ms)",
                bare["paced"]["p99_ms"],
                circle["paced"]["p99_ms"],
                2,
            ),
        ]
        for name, b, c, digits in figures:
            rows.append([label, name, _n(b, digits), _n(c, digits), _ratio(c, b)])
    out += _table(["compression", "figure", "bare", "Circle", "Circle / bare"], rows)
    members = fanout["rows"][0]["connected"] if fanout["rows"] else 0
    out += [f"{members} listeners. Delivered/expected at the steady rate: "]
    out[-1] += ", ".join(
        f"{r['relay']} {'deflate' if r['compression'] else 'off'} "
        f"{r['paced']['samples']}/{r['paced']['expected']}"
        for r in fanout["rows"]
    )
    return [*out, ""]


def memory_section(fanout: dict[str, Any]) -> list[str]:
    by = {(r["relay"], r["compression"]): r for r in fanout["rows"]}
    rows = []
    for compression in (False, True):
        bare, circle = by.get(("bare", compression)), by.get(("circle", compression))
        if bare and circle:
            b, c = bare["kib_per_connection"], circle["kib_per_connection"]
            rows.append(["deflate" if compression else "off", _n(b, 1), _n(c, 1), _ratio(c, b)])
    return [
        "## Relay memory per idle connection",
        "",
        "Relay RSS after the listeners joined and sat idle, minus before, per listener (KiB).",
        "",
        *_table(["compression", "bare", "Circle", "Circle / bare"], rows),
    ]


def meeting_section(meeting: dict[str, Any]) -> list[str]:
    floor = meeting["floor_bytes"]
    deflate = meeting["circle_deflate"]["meeting"]["bytes_received"]
    rows: list[tuple[str, int | None, int | None, str]] = [
        (
            "Circle, deflate (the default)",
            deflate,
            meeting["circle_deflate"]["meeting"]["segs_in"],
            "measured",
        ),
        (
            "Circle, no compression",
            meeting["circle_plain"]["meeting"]["bytes_received"],
            meeting["circle_plain"]["meeting"]["segs_in"],
            "measured",
        ),
    ]
    # Results from before the version-1 and TLS rows existed lack them.
    for key, name in (
        ("circle_deflate_gapless", "Circle, deflate, asking for every seq (the reference client)"),
        ("circle_v1_deflate", "Circle, deflate, protocol version 1 (before)"),
        ("circle_deflate_tls", "Circle, deflate, TLS (the default transport)"),
        ("circle_v1_deflate_tls", "Circle, deflate, TLS, protocol version 1 (before)"),
    ):
        if key in meeting:
            figures = meeting[key]["meeting"]
            rows.append((name, figures["bytes_received"], figures["segs_in"], "measured"))
    if meeting.get("irc"):
        irc = meeting["irc"]
        rows.append(
            (
                "IRC (ngircd)",
                irc["meeting"]["bytes_received"],
                irc["meeting"]["segs_in"],
                "measured",
            )
        )
    rows += [
        ("same events as JSON", meeting["json"]["bytes"], None, "computed"),
        ("same events as JSON, deflate", meeting["json"]["deflate_bytes"], None, "computed"),
        ("floor: share texts, zlib -9", floor, None, "computed"),
    ]
    table = [
        [name, _n(size), _ratio(size, deflate), _ratio(size, floor), _n(segs), how]
        for name, size, segs, how in rows
    ]
    kinds = meeting["circle_plain"]["payload_bytes_by_kind"]
    counts = meeting["circle_plain"]["frames_by_kind"]
    breakdown = [
        [kind, str(counts[kind]), _n(size)]
        for kind, size in sorted(kinds.items(), key=lambda kv: -kv[1])
    ]
    irc_note = (
        ""
        if meeting.get("irc")
        else " (ngircd was not installed: `apt-get install ngircd`, then run again.)"
    )
    return [
        "## The scripted meeting: bytes per pure listener",
        "",
        f"{meeting['steps']} steps of `bench/script.py` ({meeting['shares']} shares of real "
        "sentences, hands, me-too, a pause, a private signal), twelve people, played through "
        "Circle and through ngircd; a member who only listens, counted on their socket "
        "(TCP payload received, from after everyone joined to the last event). The facilitator "
        "marks the floor with voice in IRC; hands and me-too are channel messages; the signal "
        f"a private message; the pause a notice.{irc_note} Circle's listener speaks protocol "
        "version 3 (as the reference client does) unless the row says version 1; over plain "
        "ws:// (as IRC) unless it says TLS, where the bytes include every TLS record's overhead.",
        "",
        *_table(
            ["", "bytes", "vs Circle deflate", "vs floor", "TCP segments in", ""],
            table,
        ),
        "Where Circle's bytes go (no compression, one listener):",
        "",
        *_table(["event", "frames", "bytes"], breakdown),
    ]


def idle_section(idle: dict[str, Any]) -> list[str]:
    rows = idle["rows"]
    circle = next((r for r in rows if r["system"] == "Circle"), None)
    peer = circle["segments_per_idle_member_hour"] if circle else None
    table = [
        [
            r["system"],
            r["how"],
            _n(r["segments_per_idle_member_hour"], 1),
            _ratio(r["segments_per_idle_member_hour"], peer),
        ]
        for r in rows
    ]
    how = "; ".join(
        f"{r['system']}: {r['segments']} segments on {r['members']} sockets in "
        f"{r['window_s']:g} s at times /{r.get('scale', '-')}"
        + (
            f", {r['pings']} PINGs ({r['segments_per_exchange']} segments each)"
            if "pings" in r
            else ""
        )
        for r in rows
    )
    return [
        "## Keepalive: TCP segments per idle member-hour",
        "",
        "Segments in and out on each idle member's socket (`ss -tin` segs_in + segs_out), "
        "scaled from a short run with the keepalive times divided by a factor (see "
        "`bench/idle.py`).",
        "",
        *_table(["", "keepalive", "segments per idle member-hour", "vs Circle"], table),
        f"Raw counts: {how}.",
        "",
    ]


def joins_section(joins: dict[str, Any]) -> list[str]:
    rows = joins["rows"]
    base = rows[0]["joins_per_s"] if rows else None
    table = [
        [
            str(r["members"]),
            _n(r["seconds"], 2),
            _n(r["joins_per_s"], 1),
            _ratio(r["joins_per_s"], base),
            _n(r["relay_cpu_ms_per_join"], 2),
        ]
        for r in rows
    ]
    first = rows[0]["members"] if rows else "-"
    return [
        "## Joins per second",
        "",
        "Members joining one room, first connection to last welcome (see `bench/joins.py`). "
        f"The peer of each rate is the rate at {first} members.",
        "",
        *_table(
            [
                "members",
                "seconds",
                "joins/s",
                f"vs {rows[0]['members'] if rows else '-'}",
                "relay CPU ms per join",
            ],
            table,
        ),
    ]


def write(results: dict[str, Any], path: Path) -> None:
    machine = results["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"`{results['command']}`, {results['date']}, {results['seconds']:.0f} s.",
        "",
        f"Machine: {machine['cpu']}, {machine['cpus']} CPUs, Linux {machine['kernel']}, "
        f"Python {machine['python']}, websockets {machine['websockets']}, "
        f"{machine['ngircd'] or 'no ngircd'}. Load average {machine['load_before']} before "
        f"the run, {machine['load_after']} after. Loopback only. A busy machine shows in the "
        "latency: when the relay gets less CPU than a steady rate needs, shares queue and "
        "latency grows to seconds (the relay CPU % rows say how much it got). Compare "
        "figures within one run, never across runs.",
        "",
    ]
    sections = results["sections"]
    if "fanout" in sections:
        lines += fanout_section(sections["fanout"])
    if "meeting" in sections:
        lines += meeting_section(sections["meeting"])
    if "idle" in sections:
        lines += idle_section(sections["idle"])
    if "joins" in sections:
        lines += joins_section(sections["joins"])
    if "fanout" in sections:
        lines += memory_section(sections["fanout"])
    if results.get("chart"):
        lines += [f"![bytes per member and latency]({results['chart']})", ""]
    lines += _kept_nodes_section(path)
    path.write_text("\n".join(lines).rstrip() + "\n")


def _kept_nodes_section(path: Path) -> list[str]:
    """The section ``bench/nodes.py`` wrote into ``path`` (it needs Redis): kept as it is."""
    text = path.read_text() if path.exists() else ""
    start = text.find("\n## Several relay nodes\n")
    if start < 0:
        return []
    end = text.find("\n## ", start + 1)
    return ["", text[start + 1 : end if end >= 0 else None].rstrip(), ""]


def chart(results: dict[str, Any], path: Path) -> bool:
    """A PNG of bytes per pure listener and of latency; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    sections = results["sections"]
    panels = [name for name in ("meeting", "fanout") if name in sections]
    if not panels:
        return False
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.2), squeeze=False)
    for ax, name in zip(axes[0], panels, strict=True):
        if name == "meeting":
            m = sections["meeting"]
            bars = [
                ("Circle\ndeflate", m["circle_deflate"]["meeting"]["bytes_received"]),
                ("Circle\nplain", m["circle_plain"]["meeting"]["bytes_received"]),
            ]
            if m.get("irc"):
                bars.append(("IRC\n(ngircd)", m["irc"]["meeting"]["bytes_received"]))
            bars += [
                ("JSON", m["json"]["bytes"]),
                ("JSON\ndeflate", m["json"]["deflate_bytes"]),
                ("floor\n(zlib -9)", m["floor_bytes"]),
            ]
            ax.bar([b[0] for b in bars], [b[1] / 1024 for b in bars], color="#4c72b0")
            ax.set_ylabel("KiB received by a pure listener")
            ax.set_title("The scripted 12-member meeting")
        else:
            rows = sections["fanout"]["rows"]
            labels = [f"{r['relay']}\n{'deflate' if r['compression'] else 'off'}" for r in rows]
            x = range(len(rows))
            ax.bar([i - 0.2 for i in x], [r["paced"]["p50_ms"] for r in rows], 0.4, label="p50")
            ax.bar([i + 0.2 for i in x], [r["paced"]["p99_ms"] for r in rows], 0.4, label="p99")
            ax.set_xticks(list(x), labels)
            ax.set_yscale("log")  # milliseconds when the relay keeps up, seconds when starved
            ax.set_ylabel("ms, speaker send to listener receive (log)")
            ax.set_title(f"Latency, {rows[0]['connected'] if rows else 0} listeners")
            ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True

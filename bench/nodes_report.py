"""``bench/nodes.py``'s results as Markdown: its own page, and its section of ``RESULTS.md``.

``RESULTS.md`` is ``bench/compare.py``'s; this bench replaces only the section
under its own heading (``SECTION``) and leaves the others as they are, and
``bench/report.py`` keeps that section when it writes the page anew.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def report(result: dict[str, Any]) -> str:
    """The run as a Markdown page: the tables, the machine, its load."""
    a = result["args"]
    lines = [
        "# Several relay nodes: results",
        "",
        f"`python bench/nodes.py` on {result['cpus']} CPUs, loopback; load average "
        f"{result['load_before'][0]:.2f} before, {result['load_after'][0]:.2f} after. "
        f"{a['nodes']} nodes x {a['members']} members; {a['shares']} shares at "
        f"{a['rate']:g}/s from a speaker on B.",
        "",
        "| delivery, send to receive | deliveries | p50 ms | p99 ms |",
        "|---|---|---|---|",
    ]
    for node, got in result["delivery"].items():
        lines.append(f"| members on {node} | {got['n']} | {got['p50_ms']} | {got['p99_ms']} |")
    lines += ["", timing_line(result)]
    rt, mem, fo = result["append_round_trip"], result["memory_per_room"], result["failover"]
    lines += [
        "",
        f"Append round trip (one event, one script): p50 {rt['p50_ms']} ms, "
        f"p99 {rt['p99_ms']} ms over {rt['n']}.",
        "",
        f"Redis memory per room at {mem['entries']} share events: "
        f"{mem['keys_bytes'] / 1e6:.2f} MB in its keys (`MEMORY USAGE`), "
        f"`used_memory` grew {mem['used_memory_delta'] / 1e6:.2f} MB.",
        "",
        "| failover: owner node SIGKILLed mid-meeting | |",
        "|---|---|",
        f"| lease | {fo['lease_ms'] / 1000:g} s |",
        f"| kill to the first event appended after it | {fo['to_first_accepted_event_s']} s |",
        f"| kill to the last of its {fo['killed_node_members']} members resumed "
        f"| {fo['to_last_member_resumed_s']} s |",
        f"| shares sent across the kill | {fo['shares_sent']} |",
        f"| shares lost / duplicated (all members) "
        f"| {fo['shares_lost_total']} / {fo['shares_duplicated_total']} |",
        f"| resumes `resumed=true` / `resumed=false` "
        f"| {fo['resumed_true']} / {fo['resumed_false']} |",
        "",
    ]
    tp = result.get("throughput", {})
    if tp:
        one = next(iter(tp.values()))
        lines += [
            f"Deliveries a second: {one['members']} members in all, spread evenly over the "
            f"nodes, a speaker (on B; on A alone) sending {one['shares']} shares back to back; "
            "from the first send to the last member's last share. The members run in the "
            "bench's own process, on the same CPUs as the nodes and Redis.",
            "",
            "| nodes | deliveries | seconds | deliveries/s |",
            "|---|---|---|---|",
        ]
        for n, got in tp.items():
            lines.append(f"| {n} | {got['deliveries']} | {got['seconds']} | {got['per_second']} |")
        lines.append("")
    return "\n".join(lines)


def timing_line(result: dict[str, Any]) -> str:
    """How the latency was timed: which members, and how many read elsewhere."""
    timing = result.get("latency_timing")
    if timing is None:  # a run from before the probes: every member timed here
        return (
            "Latency is timed on every member, all read in the bench's own process "
            "(one event loop, so a share's frames queue behind each other there)."
        )
    away = timing["read_elsewhere"]
    per_node = ", ".join(f"{n} on {node}" for node, n in away.items())
    return (
        f"Latency is timed on {timing['timed_per_node']} members a node in the bench's own "
        "process (on A the first member, who opened the room; on B not the speaker). The "
        f"other {sum(away.values())} ({per_node}) are real members too, joined and sent every "
        f"share, but read in {timing['listener_procs']} listener processes of their own "
        "(`bench/listeners.py`, in batches) and are not timed: "
        f"{timing['shares_delivered_elsewhere']} of {timing['shares_expected_elsewhere']} "
        "deliveries of a share reached them. For the failover they rejoin in the bench's process."
    )


SECTION = "## Several relay nodes"
"""The heading of this bench's section in ``RESULTS.md``: ``bench/report.py`` keeps it."""


def results_section(page: str) -> str:
    """``page`` (``RESULTS-nodes.md``) as a section of ``RESULTS.md``."""
    body = page.split("\n", 1)[1] if page.startswith("# ") else page
    return f"{SECTION}\n{body.rstrip()}\n"


def put_section(results: Path, section: str) -> None:
    """Replace this bench's section in ``results`` (or add it at the end); leave the rest."""
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    start = text.find(SECTION + "\n")
    if start < 0:
        text = text.rstrip() + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(SECTION))
        rest = text[end + 1 :] if end >= 0 else ""
        text = text[:start] + section + ("\n" + rest if rest else "")
    results.write_text(text)

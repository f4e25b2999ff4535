"""The README says what the program does: every option, and the set-up lines CI runs."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from circle_room.tui.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _commands(parser: argparse.ArgumentParser, prefix: str = "circle") -> dict[str, set[str]]:
    """Each command (``circle host``, ``circle room add``...) and its ``--options``."""
    found = {prefix: set()}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.update(_commands(sub, f"{prefix} {name}"))
        else:
            found[prefix] |= {o for o in action.option_strings if o.startswith("--")}
    found[prefix].discard("--help")
    return found


def test_every_option_of_every_command_is_in_the_readme() -> None:
    commands = _commands(build_parser())
    assert {"circle host", "circle join", "circle demo", "circle serve"} <= set(commands)
    missing = {
        command: sorted(o for o in options if not re.search(rf"(?<![\w-]){o}\b", README))
        for command, options in commands.items()
    }
    assert not {c: o for c, o in missing.items() if o}, "options the README does not show"
    for command in commands:
        assert f"`{command}" in README or f"{command} " in README, command


def test_the_readme_set_up_lines_are_one_line_each_and_ci_runs_the_test_line() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    host, test = blocks[0].strip(), blocks[1].strip()
    assert "\n" not in host and "\n" not in test
    # PEP 668 systems refuse a system-wide pip install: both lines make a venv first.
    assert host.startswith("python3 -m venv ") and host.endswith("circle host")
    assert test.startswith("python3 -m venv .venv && ")
    assert test.endswith("python -m pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.rstrip().splitlines()[-1] == test

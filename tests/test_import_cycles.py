"""No two of our modules import each other, even only for type checking.

An import cycle hidden behind ``if TYPE_CHECKING:`` still ties the modules
together: neither can be read, tested or moved without the other. Read from
the code itself, every import counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _modules() -> dict[str, Path]:
    found = {}
    for folder in ("protocol", "server", "tui"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[module.removesuffix(".__init__")] = path
    return found


def _graph() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (``from pkg import module`` included)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        wanted: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                base = node.module.removeprefix("circle_room.")
                for alias in node.names:
                    inner = f"{base}.{alias.name}"
                    wanted.add(inner if inner in modules else base)
            elif isinstance(node, ast.Import):
                wanted.update(alias.name.removeprefix("circle_room.") for alias in node.names)
        graph[module] = {name for name in wanted if name in modules and name != module}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_the_check_finds_a_cycle() -> None:
    graph = _graph()
    assert "server.ssh_session" in graph["server.ssh_gateway"]
    graph["server.ssh_session"] = graph["server.ssh_session"] | {"server.ssh_gateway"}
    [group] = _cycles(graph)
    assert {"server.ssh_gateway", "server.ssh_session"} <= set(group)

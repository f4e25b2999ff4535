"""The footer: every key this screen offers now, all of it visible at any width.

Textual's ``Footer`` is one row that scrolls sideways, so at 80 columns the
last keys fell off the edge. This one packs the same bindings into as many
lines as the width needs, never breaking a key from its words. Keys are
written the way nano writes them (``^R`` is ctrl+r), and the help legend
says so.
"""

from __future__ import annotations

from rich.text import Text
from textual.screen import Screen

from circle_room.tui.app.keys import shown
from circle_room.tui.app.widgets.safe import TextPanel

GAP = "  "
NAMES = {
    "enter": "Enter",
    "escape": "Esc",
    "tab": "Tab",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
}


def key_name(key: str) -> str:
    """``ctrl+r`` -> ``^R``, ``f1`` -> ``F1``, ``enter`` -> ``Enter``."""
    return NAMES.get(key, shown(key))


def pack(items: list[tuple[str, str]], width: int) -> Text:
    """``(key, words)`` pairs in lines of at most ``width`` cells, each pair kept whole."""
    lines: list[Text] = []
    current = Text()
    for key, words in items:
        item = Text.assemble((key, "bold reverse"), " ", words)
        if current.cell_len and current.cell_len + len(GAP) + item.cell_len > width:
            lines.append(current)
            current = Text()
        if current.cell_len:
            current.append(GAP)
        current.append_text(item)
    if current.cell_len or not lines:
        lines.append(current)
    return Text("\n").join(lines)


def offered(screen: Screen[object]) -> list[tuple[str, str]]:
    """The keys ``screen`` shows now, in the order its bindings name them."""
    items: list[tuple[str, str]] = []
    last: list[tuple[str, str]] = []
    seen: set[str] = set()
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.show or not active.enabled or binding.action in seen:
            continue
        seen.add(binding.action)
        # The app's own keys (all actions, quiet exit) come after the screen's.
        (last if active.node is screen.app else items).append(
            (binding.key_display or key_name(key), binding.description)
        )
    return items + last


class KeyBar(TextPanel):
    """What the keys do, right now; repainted only when the offer or the width changes."""

    DEFAULT_CSS = """
    KeyBar { height: auto; padding: 0 1; background: $panel; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._items: list[tuple[str, str]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._changed)
        self._changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _changed(self, screen: Screen[object]) -> None:
        if screen is not self.screen:
            return
        self._items = offered(screen)
        self._paint()

    def on_resize(self) -> None:
        self._paint()

    def _paint(self) -> None:
        width = self.content_size.width or self.app.size.width - 2
        self.show(pack(self._items, max(10, width)))

    @property
    def items(self) -> list[tuple[str, str]]:
        """The (key, words) pairs shown now."""
        return list(self._items)

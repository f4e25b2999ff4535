"""A checkbox whose state reads without colour: ``[x] ... on`` or ``[ ] ... off``.

Textual's checkbox draws the same mark for on and off and tells them apart
by colour alone, which ``NO_COLOR`` (and many eyes) cannot see.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox


class Tick(Checkbox):
    """A ``Checkbox`` drawn as ``[x]``/``[ ]`` with the word "on" or "off" after its label."""

    def __init__(self, label: str, value: bool = False, *, id: str | None = None) -> None:
        self._words = label
        super().__init__(f"{label}: {'on' if value else 'off'}", value, id=id, compact=True)

    @property
    def _button(self) -> Content:
        return Content("[x]" if self.value else "[ ]")

    def watch_value(self) -> None:
        super().watch_value()
        self.label = f"{self._words}: {'on' if self.value else 'off'}"

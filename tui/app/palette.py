"""The command palette (ctrl+p): every action open to you now, found by typing its name.

Textual's own entries (themes, screenshots, a quit that skips saying goodbye)
are left out: the palette holds the meeting's actions alone, listed by
``actions.offers`` from the rule book. Choosing one runs it exactly as its
key or menu would, confirmations and all.
"""

from __future__ import annotations

from functools import partial
from typing import Protocol, runtime_checkable

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from circle_room.tui.app.actions import Offer


@runtime_checkable
class Offering(Protocol):
    """A screen whose actions the palette lists."""

    def offers(self) -> list[Offer]: ...

    def act(self, offer: Offer) -> None: ...


def _shown(offer: Offer) -> Text:
    text = Text(offer.words)  # Names are user text: a Text, never markup.
    if offer.key:
        text.append(f"  {offer.key}", style="bold")
    return text


class RoomActions(Provider):
    """The palette's one source: the screen's ``offers()``, asked when the palette opens."""

    def _offering(self) -> Offering | None:
        screen = self.screen
        return screen if isinstance(screen, Offering) else None

    async def discover(self) -> Hits:
        screen = self._offering()
        if screen is None:
            return
        for offer in screen.offers():
            yield DiscoveryHit(
                _shown(offer), partial(screen.act, offer), text=offer.words, help=offer.help or None
            )

    async def search(self, query: str) -> Hits:
        screen = self._offering()
        if screen is None:
            return
        matcher = self.matcher(query)
        for offer in screen.offers():
            score, offsets = matcher.fuzzy_search.match(matcher.query, offer.words)
            if score > 0:
                # Not ``matcher.highlight``: it reads the words as markup, and names are user text.
                shown = Content(offer.words)
                for offset in offsets:
                    shown = shown.stylize(matcher.match_style, offset, offset + 1)
                command = partial(screen.act, offer)
                yield Hit(score, shown, command, text=offer.words, help=offer.help or None)

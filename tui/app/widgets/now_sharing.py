"""The current share: who holds the stick, for how long, and the silent me-toos."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import var

from circle_room.protocol.model import Via
from circle_room.tui.app import keys
from circle_room.tui.app.keys import shown
from circle_room.tui.app.widgets.members import ICON_HOLDER, ordinal
from circle_room.tui.app.widgets.safe import TextPanel, fit
from circle_room.tui.client.view import View, clock_text

BANNER = "bold reverse"
"""Who holds the stick: the most prominent line on the screen, in every theme, without colour."""


def _place(position: int) -> str:
    return "you're next" if position == 1 else f"{ordinal(position)} in line"


def _next_up(view: View) -> str:
    names = [view.name(m) if m != view.me else "you" for m in view.state.queue[:3]]
    if not names:
        return ""
    more = len(view.state.queue) - len(names)
    # During a round the stick follows the round first: the hands wait after it.
    label = "Hands: " if view.state.round is not None else "Next: "
    text = label + ", then ".join(fit(n, 16) for n in names)
    return text + (f" (+{more} more)" if more > 0 else "")


def _round_order(view: View) -> str:
    """Who is still to go in the round, in order; the order is the circle's, kept by the room."""
    assert view.state.round is not None
    remaining = view.state.round.remaining
    if not remaining:
        return "Round: this is the last turn."
    names = [view.name(m) if m != view.me else "you" for m in remaining[:3]]
    more = len(remaining) - len(names)
    text = "Round: " + ", then ".join(fit(n, 16) for n in names)
    return text + (f" (+{more} more)" if more > 0 else "") + "."


def _timer(view: View) -> Text:
    """Elapsed against the soft limit, and the me-too count: for speaker and facilitators."""
    turn = view.state.turn
    assert turn is not None
    limit = view.state.settings.share_limit
    elapsed = view.elapsed()
    text = Text(clock_text(elapsed))
    if limit:
        text.append(f" of {clock_text(limit)} suggested")
    if view.paused:
        text.append(" (paused)")
    count = turn.metoo_count
    text.append(" · ")
    text.append(f"{count} said me too" if count != 1 else "1 said me too", style="bold")
    return text


NAMES_SHOWN = 4
"""Me-too names listed before "and N more"."""


def metoo_names(view: View) -> Text | None:
    """Who said me too, for the speaker and facilitators when the room shows names.

    ``None`` when the room hides names, when nobody said it yet, or for a
    listener (a listener only ever sees whether they said it themselves).
    """
    turn = view.state.turn
    if turn is None or not view.state.settings.show_metoo_names:
        return None
    if not (view.holding or view.is_facilitator) or turn.metoo_count == 0:
        return None
    # Circle order, so the list does not jump around as people add themselves.
    names = [fit(m.name, 16) for m in view.state.members.values() if m.id in turn.metoo]
    # Names said before the room showed them never reached this client: count them.
    unknown = max(0, turn.metoo_count - len(names))
    if not names:
        return None
    shown = names[:NAMES_SHOWN]
    more = len(names) - len(shown) + unknown
    text = Text("♥ Me too: ", style="bold")
    text.append(", ".join(shown))
    if more:
        text.append(f" and {more} more")
    return text


def _nudge(view: View) -> Text | None:
    limit = view.state.settings.share_limit
    if not limit or view.elapsed() < limit:
        return None
    if view.holding:
        return Text("Past the suggested time; no rush to finish.", style="italic")
    return Text("Past the suggested time.", style="italic")


def parts(view: View) -> tuple[Text, Text, Text]:
    """The panel's text in three parts: what is happening, the clock, and what is next.

    Only the middle part (the share timer, for the speaker and facilitators)
    changes as seconds pass, so it is a widget of its own: a tick repaints that
    one line and nothing else. An empty part is not shown.
    """
    state = view.state
    turn = state.turn
    head: list[Text] = []
    tail: list[Text] = []
    clock = Text()
    if view.waiting:
        head.append(Text("You are in the waiting room.", style=BANNER))
        head.append(Text("A facilitator will let you in shortly. Thank you for waiting."))
        return Text("\n").join(head), clock, Text()
    hand, metoo, give = shown(keys.HAND), shown(keys.METOO), shown(keys.YIELD)
    how = " (round)" if turn is not None and turn.via is Via.ROUND else ""
    if turn is None:
        if state.round is not None:
            head.append(Text("A round is going; the stick moves on in a moment.", style=BANNER))
        else:
            head.append(Text("The stick is free.", style=BANNER))
        mine = view.my_hand
        if mine is not None:
            head.append(Text(f"Your hand is up: {_place(mine)}. {hand} lowers it."))
        elif not view.paused:
            head.append(Text(f"{hand} raises your hand to ask for the stick."))
    elif view.holding:
        head.append(Text(f"{ICON_HOLDER} You hold the stick{how}.", style=BANNER))
        if view.can_pass:
            head.append(Text(f"Enter shares what you write. {give} passes, no reason needed."))
        else:
            head.append(Text(f"Enter shares more. {give} yields the stick when you are done."))
        clock = _timer(view)
    else:
        speaker = Text(style=BANNER)
        speaker.append(f"{ICON_HOLDER} ")
        speaker.append(fit(view.name(turn.holder), 32))
        speaker.append(f" is sharing{how}.")
        head.append(speaker)
        if view.my_metoo:
            head.append(Text(f"\N{BLACK HEART SUIT} You said me too ({metoo} takes it back)."))
        else:
            head.append(Text(f"{metoo}: a silent me too; only the speaker sees it."))
        mine = view.my_hand
        if mine is not None:
            head.append(Text(f"Your hand is up: {_place(mine)}. {hand} lowers it."))
        elif not view.paused and not view.is_facilitator:
            head.append(Text(f"{hand} raises your hand to share next."))
        if view.is_facilitator:
            clock = _timer(view)
    names = metoo_names(view)
    if names is not None:
        tail.append(names)
    nudge = _nudge(view) if turn is not None and (view.holding or view.is_facilitator) else None
    if nudge is not None:
        tail.append(nudge)
    if state.round is not None:
        tail.append(Text(_round_order(view)))
    queue = _next_up(view)
    # A member whose hand is up has read their place above; facilitators steer by the line.
    if queue and (view.is_facilitator or view.my_hand is None):
        tail.append(Text(queue))
    return Text("\n").join(head), clock, Text("\n").join(tail)


def stick_line(view: View) -> Text:
    """Who holds the stick, in one line, for screens that show nothing else of the circle."""
    turn = view.state.turn
    if turn is None:
        return Text("The stick is free.", style=BANNER)
    if view.holding:
        return Text(f"{ICON_HOLDER} You hold the stick.", style=BANNER)
    text = Text(f"{ICON_HOLDER} ", style=BANNER)
    text.append(fit(view.name(turn.holder), 32))
    text.append(" has the stick.")
    return text


def describe(view: View) -> Text:
    """The panel's whole text for this member at this moment."""
    return Text("\n").join(part for part in parts(view) if part.plain)


class NowSharing(Vertical):
    """The current share, as three ``TextPanel``s (see ``parts``) inside one border."""

    DEFAULT_CSS = """
    NowSharing {
        height: auto;
        max-height: 8;
        border: round $primary;
        padding: 0 1;
    }
    NowSharing.-mine { border: double $accent; }
    NowSharing > TextPanel { height: auto; }
    """

    view: var[View | None] = var(None, always_update=True, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Now"
        self.head = TextPanel(id="now-head")
        self.clock = TextPanel(id="now-clock")
        self.tail = TextPanel(id="now-tail")

    def compose(self) -> ComposeResult:
        yield self.head
        yield self.clock
        yield self.tail

    @property
    def text(self) -> str:
        """What the panel shows now, as plain text."""
        shown = (p.shown for p in (self.head, self.clock, self.tail) if p.display)
        return "\n".join(text.plain for text in shown if text is not None)

    def on_mount(self) -> None:
        self.watch_view(self.view)

    def watch_view(self, view: View | None) -> None:
        if view is None or not self.is_mounted:
            return
        self.set_class(view.holding, "-mine")
        for panel, text in zip((self.head, self.clock, self.tail), parts(view), strict=True):
            panel.display = bool(text.plain)
            panel.show(text)

    def tick(self, view: View) -> None:
        """A second passed: only the clock (and the nudge, once) can have changed."""
        self.set_reactive(NowSharing.view, view)
        if self.is_mounted:
            self.watch_view(view)

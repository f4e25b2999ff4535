"""The current share: who holds the stick, for how long, and the silent me-toos."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive

from protocol.model import Via
from tui.view import View, clock_text
from tui.widgets.safe import TextPanel, fit


def _next_up(view: View) -> str:
    names = [view.name(m) if m != view.me else "you" for m in view.state.queue[:3]]
    if not names:
        return ""
    more = len(view.state.queue) - len(names)
    text = "Next: " + ", then ".join(fit(n, 16) for n in names)
    return text + (f" (+{more} more)" if more > 0 else "")


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


def _nudge(view: View) -> Text | None:
    limit = view.state.settings.share_limit
    if not limit or view.elapsed() < limit:
        return None
    if view.holding:
        return Text("Past the suggested time; no rush to finish.", style="italic")
    return Text("Past the suggested time.", style="italic")


def describe(view: View) -> Text:
    """The panel's text for this member at this moment."""
    state = view.state
    turn = state.turn
    lines: list[Text] = []
    if view.waiting:
        lines.append(Text("You are in the waiting room.", style="bold"))
        lines.append(Text("A facilitator will let you in shortly. Thank you for waiting."))
        return Text("\n").join(lines)
    if turn is None:
        if state.round is not None:
            lines.append(Text("A round is going; the stick moves on in a moment.", style="bold"))
        else:
            lines.append(Text("The stick is free.", style="bold"))
        mine = view.my_hand
        if mine is not None:
            lines.append(Text(f"Your hand is up: number {mine} in line. (h lowers it)"))
        elif not view.paused:
            lines.append(Text("Press h to raise your hand."))
    elif view.holding:
        how = " (round)" if turn.via is Via.ROUND else ""
        lines.append(Text(f"You hold the stick{how}.", style="bold"))
        if view.can_pass:
            lines.append(Text("Type, then Enter shares. Esc, then y: pass."))
        else:
            lines.append(Text("Enter posts more. Esc, then y: yield."))
        lines.append(_timer(view))
    else:
        how = " (round)" if turn.via is Via.ROUND else ""
        speaker = Text()
        speaker.append(fit(view.name(turn.holder), 32), style="bold")
        speaker.append(f" is sharing{how}.")
        lines.append(speaker)
        if view.my_metoo:
            lines.append(Text("♥ You said me too (m takes it back)."))
        else:
            lines.append(Text("m: silent me too; only the speaker sees it."))
        if view.is_facilitator:
            lines.append(_timer(view))
    nudge = _nudge(view) if turn is not None and (view.holding or view.is_facilitator) else None
    if nudge is not None:
        lines.append(nudge)
    if state.round is not None:
        left = len(state.round.remaining)
        lines.append(Text(f"Round: {left} still to go." if left else "Round: the last turn."))
    queue = _next_up(view)
    if queue:
        lines.append(Text(queue))
    return Text("\n").join(lines)


class NowSharing(TextPanel):
    DEFAULT_CSS = """
    NowSharing {
        height: auto;
        max-height: 8;
        border: round $primary;
        padding: 0 1;
    }
    NowSharing.-mine { border: double $accent; }
    """

    view: reactive[View | None] = reactive(None, always_update=True, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Now"

    def watch_view(self, view: View | None) -> None:
        if view is None:
            return
        self.set_class(view.holding, "-mine")
        self.show(describe(view))

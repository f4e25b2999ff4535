"""What the screens show, from the client's meeting model: pure, so tested without a terminal."""

from __future__ import annotations

from dataclasses import replace

from rich.console import Console, RenderableType

from circle_room.protocol.messages import (
    HandRaised,
    MemberJoined,
    MemberLeft,
    MeTooCount,
    Paused,
    Shared,
    SignalSeen,
    SignalSent,
    StickGiven,
    StickReleased,
)
from circle_room.protocol.model import (
    LeaveReason,
    Member,
    Presence,
    Release,
    Role,
    RoomState,
    SignalKind,
    Via,
)
from circle_room.tui.app.screens.help import help_text
from circle_room.tui.app.widgets import inbox, members, now_sharing, status_line
from circle_room.tui.app.widgets.share_log import render_line
from circle_room.tui.client.model import Meeting
from circle_room.tui.client.narrator import Kind
from circle_room.tui.client.updates import Status, StatusChanged
from circle_room.tui.client.view import calm_duration, clock_text

FAY, ANA, BEN = 1, 2, 3


def plain(renderable: RenderableType, width: int = 100) -> str:
    """What ``renderable`` shows on a terminal ``width`` cells wide, as plain text."""
    console = Console(width=width, color_system=None, force_terminal=False)
    with console.capture() as captured:
        console.print(renderable)
    return captured.get()


def state() -> RoomState:
    return RoomState(
        members={
            FAY: Member(FAY, "Fay", Role.FACILITATOR),
            ANA: Member(ANA, "Ana"),
            BEN: Member(BEN, "Ben"),
        },
        next_member_id=4,
    )


def meeting(me: int = ANA) -> Meeting:
    return Meeting("tuesday", me, state())


def feed(m: Meeting, *events: object, at: float = 100.0) -> None:
    for event in events:
        assert m.fold(m.seq + 1, event, at) is not None  # type: ignore[arg-type]


def test_shares_and_notes_are_logged_in_order() -> None:
    m = meeting()
    feed(m, StickGiven(BEN, 1, Via.QUEUE, 100.0), Shared(1, BEN, "hello\n\n\nthere"))
    log = [entry.line for entry in m.view(100.0).log]
    assert [line.kind for line in log][-2:] == [Kind.NOTE, Kind.SHARE]
    assert log[-2].text == "Ben has the stick."
    assert (log[-1].who, log[-1].text) == ("Ben", "hello\n\nthere")


def test_quiet_exit_is_not_announced_but_leaving_is() -> None:
    m = meeting()
    feed(m, MemberLeft(BEN, LeaveReason.QUIET))
    assert "Ben" not in " ".join(entry.line.text for entry in m.view(0).log)
    m2 = meeting()
    feed(m2, MemberLeft(BEN, LeaveReason.LEFT))
    assert m2.view(0).log[-1].line.text == "Ben left."


def test_private_signals_go_to_the_inbox_of_facilitators_only() -> None:
    fay = meeting(FAY)
    feed(fay, SignalSent(ANA, SignalKind.CHECK_IN, 100.0))
    view = fay.view(100.0)
    assert [(s.name, s.kind) for s in view.inbox] == [("Ana", SignalKind.CHECK_IN)]
    assert view.unread() == 1
    assert fay.view(100.0 + 3600).unread() == 0  # Marked new for a while, then not.
    ana = meeting(ANA)
    feed(ana, SignalSent(ANA, SignalKind.CHECK_IN, 100.0))
    assert ana.view(100.0).inbox == ()
    assert "Sent to the facilitators only" in ana.view(100.0).log[-1].line.text


def test_a_quiet_exit_is_filed_in_the_facilitators_inbox_only() -> None:
    fay = meeting(FAY)
    feed(fay, MemberLeft(BEN, LeaveReason.QUIET))
    view = fay.view(100.0)
    assert [(s.name, s.kind, s.tag) for s in view.inbox] == [("Ben", None, "left quietly")]
    assert view.unread() == 1
    assert "Ben: left quietly · new" in inbox.describe(view).plain
    assert all("Ben" not in entry.line.text for entry in view.log)  # Not in the share log.
    ana = meeting(ANA)
    feed(ana, MemberLeft(BEN, LeaveReason.QUIET))
    assert ana.view(100.0).inbox == ()


def test_an_answered_signal_shows_as_seen_and_the_member_is_told() -> None:
    fay = meeting(FAY)
    feed(fay, SignalSent(ANA, SignalKind.CHECK_IN, 100.0), SignalSent(BEN, SignalKind.OK, 100.0))
    assert fay.state.signals == (ANA, BEN)
    feed(fay, SignalSeen(ANA, FAY))
    view = fay.view(100.0)
    assert [(s.name, s.seen_by) for s in view.inbox] == [("Ana", "You"), ("Ben", "")]
    assert view.unread() == 1  # An answered signal is no longer new.
    shown = inbox.describe(view).plain
    assert "Ana: check-in · seen" in shown and "Ben: OK · new" in shown
    assert fay.state.signals == (BEN,)
    ana = meeting(ANA)
    feed(ana, SignalSent(ANA, SignalKind.CHECK_IN, 100.0), SignalSeen(ANA, FAY))
    assert ana.view(100.0).log[-1].line.text == "A facilitator has seen your signal."
    assert ana.state.signals == ()


def test_clock_follows_the_relay_not_the_local_machine() -> None:
    m = meeting()
    # The relay's clock is 50 s ahead of ours: elapsed time must not be off by 50 s.
    feed(m, StickGiven(BEN, 1, Via.QUEUE, 1050.0), at=1000.0)
    assert m.view(1010.0).elapsed() == 10.0


def test_status_and_resync() -> None:
    m = meeting()
    m.link_changed(StatusChanged(Status.RECONNECTING, 3, "connection lost"))
    assert m.view(0).link.attempt == 3
    assert "Reconnecting (attempt 3)" in str(status_line.describe(m.view(0).link, "tuesday"))
    fresh = state()
    m.resync(fresh, 9, gap=True)
    assert "was not kept" in m.view(0).log[-1].line.text


def test_member_entries_use_words_as_well_as_icons() -> None:
    m = meeting()
    feed(m, StickGiven(BEN, 1, Via.QUEUE, 0.0), HandRaised(ANA))
    view = m.view(0)
    entries = {mid: str(members.entry(view, view.state.members[mid], 40)) for mid in (1, 2, 3)}
    assert entries[BEN] == "▶ Ben · sharing"
    assert entries[ANA] == "↑ Ana (you) · you're next"
    assert entries[FAY] == "★ Fay · facilitator"
    feed(m, MemberJoined(Member(9, "Eve", presence=Presence.WAITING)))
    eve = m.view(0).state.members[9]
    assert str(members.entry(m.view(0), eve, 40)) == "◔ Eve · waiting"


def test_long_names_are_cut_not_wrapped() -> None:
    m = meeting()
    feed(m, MemberJoined(Member(9, "A" * 32)))
    view = m.view(0)
    entry = members.entry(view, view.state.members[9], 20)
    assert entry.cell_len <= 20 and "…" in str(entry)


def test_speaker_sees_count_and_gentle_nudge_listeners_do_not() -> None:

    m = meeting(BEN)
    m.state = replace(m.state, settings=replace(m.state.settings, share_limit=60))
    feed(m, StickGiven(BEN, 1, Via.QUEUE, 0.0), MeTooCount(1, 2), at=0.0)
    speaker = str(now_sharing.describe(m.view(90.0)))
    assert "1:30 of 1:00 suggested" in speaker and "2 said me too" in speaker
    assert "no rush" in speaker
    listener = meeting(ANA)
    listener.state = m.state
    assert "said me too" not in str(now_sharing.describe(listener.view(90.0)))


def test_paused_time_stops_the_timer() -> None:
    m = meeting(BEN)
    feed(m, StickGiven(BEN, 1, Via.QUEUE, 0.0), at=0.0)
    feed(m, Paused(FAY, "breathe", 30.0), at=30.0)
    assert clock_text(m.view(500.0).elapsed()) == "0:30"
    assert calm_duration(m.view(500.0).pause_length()) == "7 minutes"


def test_user_text_is_never_markup_nor_control() -> None:
    m = meeting()
    feed(m, Shared(1, BEN, "[red]x[/red] \x1b[2J\u202eok"))
    shown = plain(render_line(m.view(0).log[-1]))
    assert "[red]x[/red]" in shown
    assert "\x1b" not in shown and "\u202e" not in shown


def test_help_lists_every_key_and_the_agreements() -> None:
    text = plain(help_text(("Be kind.",), facilitator=True))
    for key in ("^R", "^T", "^Y", "^S", "^O", "^P", "^G", "^L", "^X", "^B", "^N", "^Z", "[ ]"):
        assert f" {key} " in text, key
    assert "Be kind." in text
    member_only = plain(help_text((), facilitator=False))
    assert "give the stick" not in member_only
    assert "^B" not in member_only


def test_passing_is_noted_once() -> None:
    m = meeting()
    feed(m, StickGiven(BEN, 1, Via.ROUND, 0.0), StickReleased(BEN, 1, Release.PASSED, 1.0))
    assert [entry.line.text for entry in m.view(0).log][-2:] == [
        "Ben has the stick in the round.",
        "Ben passed.",
    ]


def test_metoo_names_show_to_the_speaker_only_when_the_room_allows() -> None:

    from circle_room.protocol.messages import MeTooSet

    m = meeting(BEN)
    feed(m, StickGiven(BEN, 1, Via.QUEUE, 0.0), MeTooSet(1, ANA, True), MeTooCount(1, 1))
    hidden = str(now_sharing.describe(m.view(10.0)))
    assert "1 said me too" in hidden and "Ana" not in hidden
    m.state = replace(m.state, settings=replace(m.state.settings, show_metoo_names=True))
    shown = str(now_sharing.describe(m.view(10.0)))
    assert "♥ Me too: Ana" in shown
    # One more said it before names were shown: counted, not named.
    feed(m, MeTooCount(1, 2))
    assert "♥ Me too: Ana and 1 more" in str(now_sharing.describe(m.view(10.0)))
    listener = meeting(ANA)
    listener.state = m.state
    heard = str(now_sharing.describe(listener.view(10.0)))
    assert "You said me too" in heard and "Me too:" not in heard

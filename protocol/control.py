"""Control frames (tags 1-9): the handshake and the replies outside the event stream.

A control frame is ``[tag, field...]``: no ``ref``, no ``seq`` in its header
(``Error.ref`` and ``Snapshot.seq`` are ordinary fields). docs/protocol.md,
"Handshake" and "Control frames", is the reference; ``protocol.messages``
gathers these with the commands and events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from circle_room.protocol.model import Release, RoomState, Via


@dataclass(frozen=True)
class Greeting:
    """Relay -> client, the first frame after the websocket opens.

    Everything a client needs before it asks the person anything: which
    versions to choose from, the agreements to show, whether to ask for a
    passcode.
    """

    TAG: ClassVar[int] = 1
    versions: tuple[int, ...]
    """Protocol versions the relay speaks, oldest first."""
    room: str
    """The room's name (the URL path)."""
    agreements: tuple[str, ...]
    """Group agreements to show and have accepted before sending ``Hello``."""
    needs_passcode: bool
    """Members must send the passcode; a facilitator's key does instead."""
    waiting_room: bool = False
    """Newcomers who join as members wait until a facilitator admits them."""
    locked: bool = False
    """No new members are being let in right now (facilitators still may join)."""


@dataclass(frozen=True)
class Resume:
    """Credentials to take back one's place after a dropped connection (in ``Hello``)."""

    token: str
    """The ``token`` from the last ``Welcome``."""
    epoch: str
    """The ``epoch`` from the last ``Welcome``."""
    seq: int
    """The last event ``seq`` this client applied (or of its last ``Welcome``/``Snapshot``)."""


@dataclass(frozen=True)
class Hello:
    """Client -> relay, answers ``Greeting``; must arrive within the handshake timeout.

    A member sends ``name`` (and ``passcode`` if the room needs one); a
    facilitator sends ``key``, which is checked first and stands in for the
    passcode (a seat of the relay's SSH gateway sends its ``ticket`` instead).
    When resuming, send every field again as well as ``resume``:
    if the seat is gone, the relay joins the client afresh with them.
    """

    TAG: ClassVar[int] = 2
    version: int
    """Chosen from ``Greeting.versions``."""
    name: str = ""
    """Display name; the relay cleans it (``protocol.text``) and may refuse it."""
    passcode: str = ""
    """The room's passcode, or ""; never cleaned."""
    key: str = ""
    """The room's facilitator key; empty for members."""
    agreed: bool = False
    """The person accepted the group agreements shown from ``Greeting``."""
    resume: Resume | None = None
    """Take back a seat after a drop; None for a new join."""
    ticket: str = ""
    """A one-time join ticket from the relay's own SSH gateway, or "" (``server.tickets``).

    It stands in for the passcode for the one name it was minted for. Other
    clients never have one and leave it out.
    """
    gapless: bool = False
    """Send a ``Hidden`` in place of each event not addressed to this member, so
    that a gap in ``seq`` always means something was lost (and calls for a resume)."""


@dataclass(frozen=True)
class Welcome:
    """Relay -> client: you are in. Events follow, starting after ``seq``."""

    TAG: ClassVar[int] = 3
    version: int
    """The version chosen in ``Hello.version``; everything after speaks it."""
    member_id: int
    """Your id in this room, for as long as the seat lasts; never reused."""
    token: str
    """Secret for ``Resume``; keep it for this meeting only."""
    epoch: str
    """Identifies this room's event history; changes when history is lost."""
    seq: int
    """Sequence number of the last event folded into ``state`` (or, resumed, into yours).

    After a resume this is ``Resume.seq``, or the seq at which you entered the
    circle if that is later: nothing from before you entered is replayed.
    """
    resumed: bool
    """True: the missed events follow and ``state`` is None; keep your own state.
    False: ``state`` is the room now; anything missed before it is gone for good."""
    state: RoomState | None = None
    """The room as you may see it (``server.audience.view_for``), when not resumed.

    A waiting member's holds only the settings and themself.
    """
    gapless: bool = False
    """The relay will send a ``Hidden`` for each event not addressed to you (you
    asked, with ``Hello.gapless``): from now on a gap in ``seq`` is a loss."""


@dataclass(frozen=True)
class Error:
    """Relay -> client: a command was refused or a frame was not understood."""

    TAG: ClassVar[int] = 4
    ref: int
    """The ``ref`` of the command refused, or 0 when not about a command.

    0 also when the frame could not be read, so its ``ref`` is unknown.
    """
    code: str
    """Stable, for programs (``protocol.refusals.RefusalCode``); match on this."""
    message: str
    """A sentence for the person; programs never match on it."""
    retry_after: float | None = None
    """Seconds until the same thing can succeed (rate limits), else None."""


@dataclass(frozen=True)
class Snapshot:
    """Relay -> client: replace your state with ``state`` and your seq with ``seq``.

    Sent to a member right after the ``MemberAdmitted`` that lets them in from
    the waiting room; both carry the same ``seq``.
    """

    TAG: ClassVar[int] = 5
    seq: int
    """The seq of the event ``state`` includes last."""
    state: RoomState
    """The room as this member may see it."""


@dataclass(frozen=True)
class Hidden:
    """Relay -> client: event ``seq`` happened but is not for you (a private one).

    Sent only to a member who asked with ``Hello.gapless``, in place of each
    event that goes to others only, while they are in the circle. It carries
    nothing of the event: only that the seq is taken, so a gap is never normal.
    """

    TAG: ClassVar[int] = 6
    seq: int
    """The seq of the event this stands in for: set your seq to it."""


@dataclass(frozen=True)
class HandOver:
    """Relay -> client, protocol version 3 only: a hand-over's two events in one frame.

    Stands for ``StickReleased`` at ``seq - 1`` followed by ``StickGiven`` at
    ``seq``, both at relay time ``at``: apply both, in that order
    (``protocol.handover.split`` makes the two event frames). One frame in
    place of two, with the time once, because a yield that hands the stick
    straight on is the commonest moment of a meeting after a share.

    What the receiver's room already holds is left out: the released member
    and turn are the holder and the id of its current turn, and the new turn's
    id is its ``next_turn_id``. The relay sends this frame only when that is so.
    """

    TAG: ClassVar[int] = 7
    seq: int
    """The seq of the ``StickGiven``; the ``StickReleased`` has the one before."""
    member_id: int
    """Who holds it now (``StickGiven.member_id``)."""
    reason: Release
    """Why the last turn ended (``StickReleased.reason``)."""
    via: Via
    """``StickGiven.via``."""
    at: int
    """Relay time of both events in whole seconds (rounded down): a float64 is nine
    bytes no compressor shortens, and a share clock needs no finer time."""
    by: int | None = None
    """``StickGiven.by``: the facilitator who gave it, when ``via`` is ``FACILITATOR``."""


@dataclass(frozen=True)
class HiddenRun:
    """Relay -> client, protocol version 3 only: like ``Hidden``, for several seqs in a row.

    Events ``seq - span + 1`` to ``seq`` happened but are not for you: the
    private events of one moment (a "me too" and its count) in one frame.
    Sent only to a member who asked with ``Hello.gapless``.
    """

    TAG: ClassVar[int] = 8
    seq: int
    """The last seq it stands in for: set your seq to it."""
    span: int
    """How many seqs it stands in for, ending at ``seq``."""


@dataclass(frozen=True)
class Said:
    """Relay -> client, protocol version 3 only: a ``Shared`` with only what is new in it.

    Stands for ``Shared`` at ``seq`` by the holder of the receiver's current
    turn, in that turn: only the holder shares, and only in their own turn, so
    the rest is known (``protocol.handover.expand`` makes the event frame).
    """

    TAG: ClassVar[int] = 9
    seq: int
    """The seq of the ``Shared``."""
    text: str
    """``Shared.text``."""


Control = Greeting | Hello | Welcome | Error | Snapshot | Hidden | HandOver | HiddenRun | Said
CONTROL_TYPES: tuple[type, ...] = (
    Greeting,
    Hello,
    Welcome,
    Error,
    Snapshot,
    Hidden,
    HandOver,
    HiddenRun,
    Said,
)

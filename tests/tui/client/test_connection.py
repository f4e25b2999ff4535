"""``CircleClient``, the headless connection, against a real relay on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest
from websockets.exceptions import ConnectionClosed

from circle_room.protocol.close_codes import CloseCode
from circle_room.protocol.errors import ClientClosed, JoinRefused
from circle_room.protocol.messages import MemberLeft, Share
from circle_room.protocol.model import LeaveReason, Presence, Role
from circle_room.protocol.refusals import RefusalCode
from circle_room.tui.client import connection
from circle_room.tui.client.address import DEFAULT_PORT, normalise_url
from circle_room.tui.client.connection import CircleClient, backoff
from circle_room.tui.client.outbox import Outbox
from circle_room.tui.client.updates import Received, Status, StatusChanged
from tests.server.support import JoinFn, MakeRelay, RunningRelay, all_see, assert_same_room, settle


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("ws://example.org:9000/tuesday", "ws://example.org:9000/tuesday"),
        ("wss://example.org/tuesday/", "wss://example.org/tuesday"),
        ("wss://example.org:8443/tuesday", "wss://example.org:8443/tuesday"),
        ("ws://example.org/tuesday", f"ws://example.org:{DEFAULT_PORT}/tuesday"),
        # Written bare, an address means TLS to a relay, on its port unless given.
        ("localhost/tuesday", f"wss://localhost:{DEFAULT_PORT}/tuesday"),
        ("127.0.0.1:1234/tuesday", "wss://127.0.0.1:1234/tuesday"),
        # A fingerprint after # is kept, in its usual form, however it was typed.
        ("h:1/tuesday#ab2c-d3ef-gh4i-jk5l-mn6o", "wss://h:1/tuesday#ab2c-d3ef-gh4i-jk5l-mn6o"),
        (
            "h/tuesday#AB2CD3EFGH4IJK5LMN6O",
            f"wss://h:{DEFAULT_PORT}/tuesday#ab2c-d3ef-gh4i-jk5l-mn6o",
        ),
        ("wss://h/tuesday#ab2c-d3ef-gh4i-jk5l-mn6o", "wss://h/tuesday#ab2c-d3ef-gh4i-jk5l-mn6o"),
    ],
)
def test_normalise_url(given: str, expected: str) -> None:
    assert normalise_url(given) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "http://example.org/tuesday",
        "ws:///tuesday",
        "example.org",
        "example.org/a/b",
        "example.org/tuesday#not-a-fingerprint",
        "example.org/tuesday#ab2c-d3ef-gh4i-jk5l-mn6",  # a letter short
        "example.org/tuesday#ab2c-d3ef-gh4i-jk5l-mn60",  # 0 is not in the alphabet
    ],
)
def test_normalise_url_refuses(bad: str) -> None:
    with pytest.raises(ValueError):
        normalise_url(bad)


def test_backoff_grows_and_is_capped() -> None:
    for attempt in range(1, 30):
        delay = backoff(attempt, cap=10.0)
        base = min(10.0, 0.2 * 2 ** (attempt - 1))
        assert base / 2 <= delay <= base
    assert backoff(30, cap=10.0) <= 10.0


async def test_connect_gives_the_room_and_a_seat(relay: RunningRelay, join: JoinFn) -> None:
    fran = await join(relay.url, "Fran", key=relay.key)
    alice = await join(relay.url, "alice")
    assert alice.client.status is Status.CONNECTED
    assert alice.client.greeting is not None and alice.client.greeting.room == "tuesday"
    assert not alice.welcome.resumed and alice.welcome.member_id == alice.id
    assert alice.state.members[alice.id].name == "alice"
    assert alice.state.members[fran.id].role is Role.FACILITATOR
    await alice.wait(lambda: bool(alice.updates), "the first update")
    assert alice.updates[0] == StatusChanged(Status.CONNECTED)
    await settle(relay.room, [fran, alice])
    assert_same_room(alice, relay.room)
    assert_same_room(fran, relay.room)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"passcode": "wrong"}, RefusalCode.WRONG_PASSCODE),
        ({"passcode": "sesame", "agreed": False}, RefusalCode.AGREEMENTS),
        ({"key": "not the key"}, RefusalCode.WRONG_KEY),
        ({"passcode": "sesame", "name": "\x1b\x1b"}, RefusalCode.BAD_NAME),
    ],
)
async def test_refusals_raise_join_refused(
    make_relay: MakeRelay, kwargs: dict[str, object], code: RefusalCode
) -> None:
    relay = await make_relay(passcode="sesame")
    options: dict[str, object] = {"name": "alice", **kwargs}
    client = CircleClient(relay.url, **options)  # type: ignore[arg-type]
    with pytest.raises(JoinRefused) as refused:
        await client.connect()
    assert refused.value.refusal is code
    assert refused.value.code == code.value and refused.value.close is None
    assert refused.value.message
    assert refused.value.greeting is not None and refused.value.greeting.needs_passcode


async def test_an_unknown_room_is_refused(relay: RunningRelay) -> None:
    client = CircleClient(relay.url.replace("/tuesday", "/friday"), name="alice")
    with pytest.raises(JoinRefused) as refused:
        await client.connect()
    assert refused.value.close is CloseCode.NO_ROOM and refused.value.refusal is None


async def test_nothing_listening_raises_oserror(relay: RunningRelay) -> None:
    port = relay.port
    await relay.relay.close()
    with pytest.raises(OSError):
        await CircleClient(f"ws://127.0.0.1:{port}/tuesday", name="alice").connect()


async def test_close_keeps_the_seat_leave_gives_it_up(relay: RunningRelay, join: JoinFn) -> None:
    fran = await join(relay.url, "Fran", key=relay.key)
    alice = await join(relay.url, "alice")
    bob = await join(relay.url, "bob")
    carol = await join(relay.url, "carol")

    await alice.client.close()
    await fran.wait(
        lambda: fran.state.members[alice.id].presence is Presence.AWAY, "alice away after close"
    )
    assert alice.client.status is Status.CLOSED

    await bob.client.leave()
    await carol.client.leave(quiet=True)
    await fran.wait(
        lambda: bob.id not in fran.state.members and carol.id not in fran.state.members, "leaves"
    )
    reasons = {e.member_id: e.reason for e in fran.events(MemberLeft)}
    assert reasons == {bob.id: LeaveReason.LEFT, carol.id: LeaveReason.QUIET}
    assert bob.client.status is Status.CLOSED
    with pytest.raises(ClientClosed):
        await bob.client.share("anyone there?")


async def test_updates_report_events_in_order_and_errors_by_ref(
    relay: RunningRelay, join: JoinFn
) -> None:
    alice = await join(relay.url, "alice")
    bob = await join(relay.url, "bob")
    ref = await bob.client.share("not my turn")
    error = await bob.error(ref)
    assert error.code == "not_holder"
    await alice.client.raise_hand()
    await alice.client.send(Share("one"))
    await alice.client.send(Share("two"))
    await alice.client.send(Share("three"))
    await bob.wait(lambda: len(bob.shares()) == 3, "three shares")
    assert bob.shares() == ["one", "two", "three"]
    seqs = [u.seq for u in bob.updates if isinstance(u, Received)]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    assert seqs[-1] == bob.client.seq == relay.room.seq


async def test_wait_until_times_out_when_nothing_happens(relay: RunningRelay, join: JoinFn) -> None:
    alice = await join(relay.url, "alice")
    with pytest.raises(asyncio.TimeoutError):
        await alice.client.wait_until(lambda c: c.state.locked, timeout=0.2)
    fran = await join(relay.url, "Fran", key=relay.key)
    await fran.client.lock()
    await alice.client.wait_until(lambda c: c.state.locked, timeout=5)


async def test_a_removed_member_is_closed_for_good(relay: RunningRelay, join: JoinFn) -> None:
    fran = await join(relay.url, "Fran", key=relay.key)
    alice = await join(relay.url, "alice")
    await fran.client.remove(alice.id)
    await alice.wait(lambda: alice.client.status is Status.CLOSED, "closed")
    statuses = [u for u in alice.updates if isinstance(u, StatusChanged)]
    assert Status.RECONNECTING not in [u.status for u in statuses]
    assert statuses[-1].close is CloseCode.REMOVED and statuses[-1].removed
    await all_see([fran], lambda p: alice.id not in p.state.members, "alice removed")


async def test_close_while_reconnecting_does_not_wait_out_the_backoff(
    relay: RunningRelay, join: JoinFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A long backoff, as after a few failed attempts against the default 10 s cap.
    monkeypatch.setattr(connection, "backoff", lambda attempt, cap: 60.0)
    alice = await join(relay.url, "alice")
    await relay.relay.close()
    await alice.wait(lambda: alice.client.status is Status.RECONNECTING, "reconnecting")
    await asyncio.wait_for(alice.client.close(), 2)
    assert alice.client.status is Status.CLOSED


class _DropsOnSecondSend:
    """A connection that goes down while the queued commands are going out."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    async def send(self, data: bytes) -> None:
        if self.sent:
            raise ConnectionClosed(None, None)
        self.sent.append(data)


async def test_a_drop_while_catching_up_keeps_the_unsent_commands() -> None:
    outbox = Outbox()
    for data in (b"first", b"second", b"third"):
        outbox.keep(data)
    fake = _DropsOnSecondSend()
    assert await outbox.flush(fake) is False
    assert fake.sent == [b"first"]
    # Kept in order for the next attempt, instead of ending the reader for good.
    assert outbox.frames == [b"second", b"third"]


def test_a_long_outage_keeps_only_the_newest_commands() -> None:
    outbox = Outbox(limit=2)
    for data in (b"first", b"second", b"third"):
        outbox.keep(data)
    assert outbox.frames == [b"second", b"third"]


async def test_pending_updates_counts_what_updates_has_not_yet_given(
    make_relay: MakeRelay,
) -> None:
    running = await make_relay()
    client = CircleClient(running.url, name="Ana")
    await client.connect()
    try:
        made = client.pending_updates
        assert made > 0  # At least the status change of connecting, not yet taken.
        updates = client.updates()
        await anext(updates)
        assert client.pending_updates == made - 1
    finally:
        await client.close()

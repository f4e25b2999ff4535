"""``circle host``, ``circle join`` and ``circle demo``: the pieces around the app."""

from __future__ import annotations

import asyncio
import ipaddress
import shlex
from pathlib import Path

import pytest

from circle_room.protocol.messages import Shared
from circle_room.server.config import RelayConfig
from circle_room.server.relay import Relay
from circle_room.server.store import Store, check_passcode, check_secret, hash_secret
from circle_room.server.tls import own_certificate
from circle_room.tui.cli import hosting, proxy
from circle_room.tui.cli.demo import Demo
from circle_room.tui.cli.main import build_parser, main
from circle_room.tui.client.connection import CircleClient, Received, Status

WAIT = 5.0


def test_passcodes_are_three_short_words() -> None:
    words = hosting.new_passcode().split("-")
    assert len(words) == 3 and all(w in hosting.WORDS for w in words)
    assert len({hosting.new_passcode() for _ in range(20)}) > 1


def test_addresses_members_can_use() -> None:
    address = hosting.lan_address()
    assert ipaddress.ip_address(address).version == 4
    assert hosting.public_address("0.0.0.0") == address
    assert hosting.public_address("192.0.2.7") == "192.0.2.7"
    assert (
        hosting.join_command("192.0.2.7:8765/circle", "oak-fern-tide")
        == "circle join 192.0.2.7:8765/circle --passcode oak-fern-tide"
    )
    assert hosting.join_command("192.0.2.7:8765/circle", "") == "circle join 192.0.2.7:8765/circle"


def test_the_passcode_and_the_join_line_paste_whole_into_a_shell() -> None:
    assert hosting.said_passcode("maple-river-stone") == "maple-river-stone"
    assert hosting.said_passcode("blue kettle") == "'blue kettle'"
    line = hosting.join_command("192.0.2.7:8765/circle", "blue kettle")
    assert line == "circle join 192.0.2.7:8765/circle --passcode 'blue kettle'"
    assert shlex.split(line)[-1] == "blue kettle"
    assert shlex.split(hosting.said_passcode("it's 'odd'")) == ["it's 'odd'"]


async def test_the_meeting_ends_once_however_often_it_is_asked(tmp_path: Path) -> None:
    store = Store(tmp_path)
    hosting.prepare_room(store, "circle", "")
    relay = Relay(store, RelayConfig(ping_interval=None))
    await relay.start("127.0.0.1", 0)
    ends: list[str] = []
    real = relay.end_meeting

    async def counted(reason: str = "") -> None:
        ends.append(reason)
        await real(reason)

    relay.end_meeting = counted  # type: ignore[method-assign]
    # The host's app as it leaves, and the command line's clean-up, at once and after.
    await asyncio.gather(hosting.end_meeting(relay), hosting.end_meeting(relay))
    await hosting.end_meeting(relay)
    assert ends == [hosting.END_REASON]
    store.close()


def test_hosting_reuses_the_room_with_a_fresh_key_and_passcode(tmp_path: Path) -> None:
    store = Store(tmp_path)
    first = hosting.prepare_room(store, "circle", None)
    record = store.room("circle")
    assert record is not None and check_passcode(first.passcode, record.passcode_hash)
    second = hosting.prepare_room(store, "circle", "")
    record = store.room("circle")
    assert record is not None
    assert not record.needs_passcode  # '' means an open room.
    assert record.key_hash == hash_secret(second.key)
    assert not check_secret(first.key, record.key_hash)  # The old key no longer works.
    store.close()


async def test_ending_the_meeting_stops_members_from_reconnecting(tmp_path: Path) -> None:
    store = Store(tmp_path)
    hosted = hosting.prepare_room(store, "circle", "")
    relay = Relay(store, RelayConfig(ping_interval=None))
    tls = own_certificate(tmp_path)
    await relay.start("127.0.0.1", 0, tls.context)
    ana = CircleClient(f"127.0.0.1:{relay.port}/circle#{tls.fingerprint}", name="Ana")
    await ana.connect()
    await hosting.end_meeting(relay)
    await ana.wait_until(lambda c: c.status is Status.CLOSED, WAIT)
    assert store.load_circle(hosted.room) is None  # Nothing left to restore.
    details = [u.detail async for u in ana.updates() if getattr(u, "status", None) is Status.CLOSED]
    assert details == [hosting.END_REASON]
    store.close()


def test_command_line_has_host_join_and_demo() -> None:
    parser = build_parser()
    host = parser.parse_args(["host"])
    assert (host.room, host.passcode, host.port, host.host) == ("circle", None, 8765, "0.0.0.0")
    join = parser.parse_args(["join", "h:1/r", "--name", "Ana", "--key", "k"])
    assert (join.url, join.name, join.passcode, join.key) == ("h:1/r", "Ana", None, "k")
    demo = parser.parse_args(["demo", "--facilitator", "--high-contrast"])
    assert demo.facilitator and demo.high_contrast
    # The commands that were there before are unchanged.
    assert parser.parse_args(["serve", "--port", "0"]).port == 0
    assert parser.parse_args(["room", "add", "tuesday"]).name == "tuesday"


@pytest.mark.parametrize("command", ["serve", "host"])
def test_trust_proxy_names_proxies_and_refuses_what_is_no_address(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = build_parser().parse_args(
        [command, "--trust-proxy", "10.0.0.5", "--trust-proxy", "2001:db8::/48"]
    )
    assert args.trust_proxy == ["10.0.0.5", "2001:db8::/48"]
    trusted = proxy.trusting(RelayConfig(), args).trusted_proxies
    assert trusted == ("10.0.0.5", "2001:db8::/48")
    assert build_parser().parse_args([command]).trust_proxy == []
    with pytest.raises(SystemExit) as usage:
        main([command, "--data-dir", str(tmp_path), "--trust-proxy", "the proxy"])
    assert usage.value.code == 2
    assert "--trust-proxy: not an address or network: 'the proxy'" in capsys.readouterr().err


def test_join_rejects_an_address_it_cannot_use(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["join", "http://example.org/tuesday"]) == 2
    assert "ws://" in capsys.readouterr().err


def test_host_reports_a_port_it_cannot_listen_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["host", "--data-dir", str(tmp_path), "--host", "192.0.2.1", "--port", "1"]) == 2
    assert "cannot listen" in capsys.readouterr().err


async def test_demo_is_a_live_circle_within_seconds(tmp_path: Path) -> None:
    demo = Demo(tmp_path, speed=0.05)
    await demo.start()
    try:
        me = CircleClient(demo.url, name="Newcomer")
        await me.connect()
        heard: list[Shared] = []

        async def listen() -> None:
            async for update in me.updates():
                if isinstance(update, Received) and isinstance(update.event, Shared):
                    heard.append(update.event)

        task = asyncio.get_running_loop().create_task(listen())
        # The facilitator bot opens a round; the stick reaches the newcomer in turn.
        await me.wait_until(lambda c: c.state.holder == c.member_id, 3 * WAIT)
        while me.pending_updates:  # The client's state is ahead of what ``listen`` took.
            await asyncio.sleep(0)  # A turn of the loop: ``listen`` is ready to run.
        assert len({s.member_id for s in heard}) >= 2  # Others have shared already.
        await me.share("Hello, I am new.")
        await me.wait_until(
            lambda c: c.state.turn is not None and c.state.turn.metoo_count > 0, 3 * WAIT
        )
        await me.leave()
        task.cancel()
    finally:
        await demo.stop()

"""How many wrong guesses the relay checks: from one address at every door, and in total.

Runs a relay (TLS off: the guessing limits do not depend on it) and its SSH
gateway in-process on 127.0.0.1, port 0, with the default limits, and two
guessers for ``--seconds`` of real time, each as fast as the relay answers:

- **one address** (127.0.0.1) at room ``one``, taking the doors in turn: a
  websocket passcode, a facilitator key, an SSH passcode;
- **many addresses** (127.0.1.1 to 127.0.1.N, each its own address on the
  loopback) at room ``many``, passcodes only, one address after another.

A guess counts as *checked* when the answer says it was wrong
(``wrong_passcode``, ``wrong_key``, or the SSH passcode asked again); a
``too_many_attempts`` (or SSH's "Too many wrong passcodes") means the relay
refused to check it. Afterwards, 20 members with the right passcode join at
once from one fresh address: at ``one`` all get in (the same guess is
checked once); at ``many``, whose budget the guessers have just spent, they
get in only if a token has come back meanwhile (one every 6 s), and then all
of them, being one guess.

    python bench/guess_bench.py [--seconds 60] [--addresses 50]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import asyncssh
from websockets.asyncio.client import connect

from circle_room.protocol.codec import decode, encode
from circle_room.protocol.messages import Error, Hello, Welcome
from circle_room.server.relay import Relay
from circle_room.server.ssh_gateway import SSHGateway, load_host_key
from circle_room.server.store import Store
from circle_room.tui.plain.session import serve_ssh

PASSCODE = "blue kettle"


async def ws_guess(port: int, room: str, source: str, *, passcode: str = "", key: str = "") -> str:
    """``"checked"``, ``"limited"`` or ``"welcome"``."""
    url = f"ws://127.0.0.1:{port}/{room}"
    async with connect(url, local_addr=(source, 0), compression=None) as ws:
        await ws.recv()  # the greeting
        await ws.send(encode(Hello(1, f"guesser {time.monotonic_ns()}", passcode, key, True)))
        answer = decode(await ws.recv())  # type: ignore[arg-type]
    if isinstance(answer, Welcome):
        return "welcome"
    assert isinstance(answer, Error), answer
    return "limited" if answer.code == "too_many_attempts" else "checked"


class _Guess(asyncssh.SSHClient):
    def __init__(self, passcode: str) -> None:
        self.passcode = passcode
        self.said: list[str] = []
        self.guessed = False

    def kbdint_auth_requested(self) -> str:
        return ""

    def kbdint_challenge_received(
        self, name: str, instructions: str, lang: str, prompts: Sequence[tuple[str, bool]]
    ) -> list[str] | None:
        self.said.append(instructions)
        if not prompts or self.guessed:
            return None  # One guess per connection, then give up.
        self.guessed = True
        return [self.passcode]


async def ssh_guess(port: int, room: str, source: str, passcode: str) -> str:
    client = _Guess(passcode)
    try:
        conn, _ = await asyncssh.create_connection(
            lambda: client,
            "127.0.0.1",
            port,
            username=room,
            known_hosts=None,
            client_keys=None,
            preferred_auth="keyboard-interactive",
            config=None,
            local_addr=(source, 0),
        )
        conn.close()
    except (asyncssh.Error, OSError):
        pass
    # The gateway asks for a passcode only when the budget allows a guess; after a
    # wrong one it may say "Too many" for the next: this one was checked all the same.
    if client.guessed:
        return "checked"
    return "limited" if any("Too many" in said for said in client.said) else "other"


async def one_address(relay: Relay, gateway: SSHGateway, until: float) -> Counter[str]:
    counts: Counter[str] = Counter()
    n = 0
    while time.monotonic() < until:
        door = ("websocket passcode", "facilitator key", "ssh passcode")[n % 3]
        if door == "websocket passcode":
            answer = await ws_guess(relay.port, "one", "127.0.0.1", passcode=f"guess {n}")
        elif door == "facilitator key":
            answer = await ws_guess(relay.port, "one", "127.0.0.1", key=f"guess {n}")
        else:
            answer = await ssh_guess(gateway.port, "one", "127.0.0.1", f"guess {n}")
        counts[f"{door} {answer}"] += 1
        counts[answer] += 1
        n += 1
    return counts


async def many_addresses(relay: Relay, addresses: int, until: float) -> Counter[str]:
    counts: Counter[str] = Counter()
    n = 0
    while time.monotonic() < until:
        source = f"127.0.1.{1 + n % addresses}"
        counts[await ws_guess(relay.port, "many", source, passcode=f"guess {n}")] += 1
        n += 1
    return counts


async def main(seconds: float, addresses: int) -> None:
    with tempfile.TemporaryDirectory() as data:
        store = Store(Path(data))
        for room in ("one", "many"):
            store.add_room(room, PASSCODE)
        relay = Relay(store)
        await relay.start("127.0.0.1", 0)
        gateway = SSHGateway(relay, load_host_key(Path(data)), serve_ssh)
        await gateway.start("127.0.0.1", 0)
        try:
            until = time.monotonic() + seconds
            one, many = await asyncio.gather(
                one_address(relay, gateway, until), many_addresses(relay, addresses, until)
            )
            # Right passcodes at once from one new address, at a room with budget left,
            # then at the room the many addresses have just spent.
            together = [
                await asyncio.gather(
                    *(ws_guess(relay.port, room, "127.0.2.1", passcode=PASSCODE) for _ in range(20))
                )
                for room in ("one", "many")
            ]
        finally:
            await gateway.close()
            await relay.close()
            store.close()
    minutes = seconds / 60
    print(f"{seconds:.0f} s of guessing, default limits")
    print(
        f"one address, three doors in turn: {one['checked']} wrong guesses checked "
        f"({one['checked'] / minutes:.1f} a minute), {one['limited']} refused unchecked"
    )
    for door in ("websocket passcode", "facilitator key", "ssh passcode"):
        print(f"  {door}: {one[door + ' checked']} checked, {one[door + ' limited']} refused")
    print(
        f"{addresses} addresses, one room: {many['checked']} wrong guesses checked "
        f"({many['checked'] / minutes:.1f} a minute), {many['limited']} refused unchecked"
    )
    for room, answers in zip(("one", "many"), together, strict=True):
        print(f"then 20 right passcodes at once from one new address at {room}: {Counter(answers)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--addresses", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.addresses))

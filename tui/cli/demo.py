"""``circle demo``: a local circle with a few simulated members.

A relay on a free loopback port in a throwaway data directory, and bots that
are ordinary ``CircleClient``s: they raise hands, share a line or two when the
stick reaches them, yield, and send a silent me-too now and then. A
facilitator bot opens with a check-in round so a newcomer sees (and takes
part in) the whole rhythm within seconds. Nothing leaves this machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from circle_room.protocol.messages import MemberJoined, RoundEnded, Shared, StickGiven
from circle_room.protocol.model import Presence, Settings
from circle_room.server.config import RelayConfig
from circle_room.server.relay import Relay
from circle_room.server.store import Store
from circle_room.server.tls import own_certificate
from circle_room.tui.client.connection import CircleClient, Received

ROOM = "demo"
FACILITATOR = "Sam"
SCRIPTS: dict[str, tuple[str, ...]] = {
    "Ana": (
        "This week was heavy. I kept showing up anyway, and that counts for something.",
        "I noticed I apologise a lot when I ask for help. Working on that.",
        "Thank you all for listening last time. It stayed with me.",
    ),
    "Ben": (
        "I slept badly, but I went for a walk every morning. Small wins.",
        "Mostly I'm here to listen today.",
        "Hearing the others makes me feel less strange about my own week.",
    ),
    "Chidi": (
        "I called my sister for the first time in months. It was awkward and good.",
        "Some days I just need to say out loud that it's hard.",
        "I'm grateful this group exists.",
    ),
}
CHECK_IN = "Welcome, everyone. Let's begin with a check-in round: a word or two, or pass."


def _is_bot(name: str) -> bool:
    return name in SCRIPTS or name == FACILITATOR


def _wait(rng: random.Random, low: float, high: float, speed: float) -> float:
    return rng.uniform(low, high) * speed


class Bot:
    """One simulated member, reacting to the room it sees through its client."""

    def __init__(
        self,
        client: CircleClient,
        lines: tuple[str, ...],
        rng: random.Random,
        speed: float,
        *,
        may_pass: bool = True,
    ) -> None:
        self.client = client
        self.lines = lines
        self.rng = rng
        self.speed = speed
        self.may_pass = may_pass
        self._said = 0
        self._answered: set[int] = set()
        """Turns this bot has already decided about saying "me too" to."""
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run(self) -> None:
        self.spawn(self._raise_hands())
        async for update in self.client.updates():
            if not isinstance(update, Received):
                continue
            event = update.event
            if isinstance(event, StickGiven) and event.member_id == self.client.member_id:
                self.spawn(self.take_turn(event.turn_id))
            elif isinstance(event, Shared) and self._listening(event):
                self._answered.add(event.turn_id)
                # A newcomer's first words always find someone who felt that too.
                if not _is_bot(self._name(event.member_id)) or self.rng.random() < 0.7:
                    self.spawn(self._metoo(event.turn_id))

    def _name(self, member_id: int) -> str:
        member = self.client.state.members.get(member_id)
        return member.name if member else ""

    def _listening(self, event: Shared) -> bool:
        """A share by someone else, in a turn not yet answered."""
        return event.member_id != self.client.member_id and event.turn_id not in self._answered

    async def _holding(self, turn_id: int) -> bool:
        turn = self.client.state.turn
        return turn is not None and turn.id == turn_id

    async def take_turn(self, turn_id: int) -> None:
        await asyncio.sleep(_wait(self.rng, 2.0, 4.0, self.speed))
        while self.client.state.pause is not None:
            await asyncio.sleep(0.5)
        if not await self._holding(turn_id):
            return
        if self.may_pass and self.rng.random() < 0.15:
            await self.client.pass_stick()
            return
        await self.client.share(self.lines[self._said % len(self.lines)])
        self._said += 1
        await asyncio.sleep(_wait(self.rng, 4.0, 8.0, self.speed))
        while self.client.state.pause is not None:
            await asyncio.sleep(0.5)
        if await self._holding(turn_id):
            await self.client.yield_stick()

    async def _metoo(self, turn_id: int) -> None:
        await asyncio.sleep(_wait(self.rng, 1.5, 5.0, self.speed))
        turn = self.client.state.turn
        if turn is not None and turn.id == turn_id and self.client.state.pause is None:
            await self.client.me_too()

    async def _raise_hands(self) -> None:
        while True:
            await asyncio.sleep(_wait(self.rng, 8.0, 20.0, self.speed))
            state = self.client.state
            me = self.client.member_id
            busy = state.round is not None or state.pause is not None
            if not busy and state.holder != me and me not in state.queue and len(state.queue) < 2:
                await self.client.raise_hand()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await self.client.leave(quiet=True)


class Demo:
    """The relay and the bots; ``start`` them, point an app at ``url``, then ``stop``."""

    def __init__(self, data_dir: Path, *, facilitator: bool = False, speed: float = 0.7) -> None:
        self.data_dir = data_dir
        self.store = Store(data_dir)
        self.key = self.store.add_room(ROOM, "", Settings(share_limit=120))
        self.relay = Relay(self.store, RelayConfig())
        self.facilitator = facilitator
        self.speed = speed
        self.rng = random.Random()
        self.url = ""
        self.bots: list[Bot] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        tls = own_certificate(self.data_dir)  # Even on loopback: every client path speaks TLS.
        await self.relay.start("127.0.0.1", 0, tls.context)
        self.url = f"wss://127.0.0.1:{self.relay.port}/{ROOM}#{tls.fingerprint}"
        if not self.facilitator:
            host = CircleClient(self.url, name=FACILITATOR, key=self.key)
            await host.connect()
            self._tasks.append(asyncio.get_running_loop().create_task(self._facilitate(host)))
        for name, lines in SCRIPTS.items():
            client = CircleClient(self.url, name=name)
            await client.connect()
            bot = Bot(client, lines, random.Random(self.rng.random()), self.speed)
            self.bots.append(bot)
            self._tasks.append(asyncio.get_running_loop().create_task(bot.run()))

    async def _facilitate(self, host: CircleClient) -> None:
        """Open with a round once a person arrives; later, one gentle pause."""
        lines = (CHECK_IN, "Thank you, everyone. The floor is open: raise a hand to share.")
        bot = Bot(host, lines, self.rng, self.speed, may_pass=False)
        self.bots.append(bot)
        started = False
        async for update in host.updates():
            if not isinstance(update, Received):
                continue
            event = update.event
            if isinstance(event, MemberJoined) and not started and not _is_bot(event.member.name):
                started = True
                bot.spawn(self._open_round(host))
            elif isinstance(event, StickGiven) and event.member_id == host.member_id:
                bot.spawn(bot.take_turn(event.turn_id))
            elif isinstance(event, RoundEnded) and event.by is None:
                bot.spawn(self._breathe(host))

    async def _open_round(self, host: CircleClient) -> None:
        await asyncio.sleep(3.0 * self.speed)
        present = [m for m in host.state.members.values() if m.presence is Presence.PRESENT]
        if len(present) > 1 and host.state.round is None:
            await host.start_round()

    async def _breathe(self, host: CircleClient) -> None:
        await asyncio.sleep(40.0 * self.speed)
        if host.state.pause is None:
            await host.pause("Let's take a breath together.")
            await asyncio.sleep(12.0 * self.speed)
            await host.resume()

    async def stop(self) -> None:
        for bot in self.bots:
            await bot.stop()
        for task in self._tasks:
            task.cancel()
        await self.relay.close()
        self.store.close()

"""One method per command a member can send, for code that drives a client.

``CircleClient`` inherits these; each builds the command and hands it to
``send``, which returns the command's ``ref``.
"""

from __future__ import annotations

from circle_room.protocol.messages import (
    AckSignal,
    Admit,
    ChangeSettings,
    Command,
    GiveStick,
    Lock,
    LowerAllHands,
    MeToo,
    Pass,
    PauseCircle,
    Promote,
    RaiseHand,
    ReleaseSeat,
    Remove,
    ResumeCircle,
    SendSignal,
    Share,
    StartRound,
    TakeStick,
    Yield,
)
from circle_room.protocol.model import Role, RoomState, Settings, SignalKind


class Commands:
    """The commands as methods; a subclass provides ``send`` and ``state``."""

    async def send(self, command: Command) -> int:
        raise NotImplementedError

    @property
    def state(self) -> RoomState:
        raise NotImplementedError

    async def share(self, text: str) -> int:
        return await self.send(Share(text))

    async def yield_stick(self) -> int:
        return await self.send(Yield())

    async def pass_stick(self) -> int:
        return await self.send(Pass())

    async def raise_hand(self) -> int:
        return await self.send(RaiseHand())

    async def lower_all_hands(self) -> int:
        return await self.send(LowerAllHands())

    async def me_too(self, on: bool = True) -> int:
        turn = self.state.turn
        return await self.send(MeToo(turn.id if turn else 0, on))

    async def pause(self, message: str = "") -> int:
        return await self.send(PauseCircle(message))

    async def resume(self) -> int:
        return await self.send(ResumeCircle())

    async def give_stick(self, member_id: int) -> int:
        return await self.send(GiveStick(member_id))

    async def take_stick(self) -> int:
        return await self.send(TakeStick())

    async def start_round(self) -> int:
        return await self.send(StartRound())

    async def signal(self, kind: SignalKind) -> int:
        return await self.send(SendSignal(kind))

    async def remove(self, member_id: int) -> int:
        return await self.send(Remove(member_id))

    async def lock(self, locked: bool = True) -> int:
        return await self.send(Lock(locked))

    async def admit(self, member_id: int) -> int:
        return await self.send(Admit(member_id))

    async def promote(self, member_id: int, role: Role = Role.COFACILITATOR) -> int:
        return await self.send(Promote(member_id, role))

    async def change_settings(self, settings: Settings) -> int:
        return await self.send(ChangeSettings(settings))

    async def ack_signal(self, member_id: int) -> int:
        return await self.send(AckSignal(member_id))

    async def release_seat(self, member_id: int) -> int:
        return await self.send(ReleaseSeat(member_id))

"""Fakes of the domain's ports, for domain tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.incidents.ports import ChannelNameTaken, ChannelRef, ChatError, IncidentCard, MessageRef


@dataclass
class FakeChat:
    """Records what the domain asked of chat; told which names are taken and who is unknown."""

    taken: set[str] = field(default_factory=set)
    unknown_users: set[str] = field(default_factory=set)
    fail_announce: str | None = None
    channels: list[ChannelRef] = field(default_factory=list)
    invites: list[tuple[str, list[str]]] = field(default_factory=list)
    announcements: list[tuple[str, IncidentCard]] = field(default_factory=list)
    said: list[tuple[str, str]] = field(default_factory=list)
    _ts: int = 0

    async def create_channel(self, *, name: str) -> ChannelRef:
        if name in self.taken:
            raise ChannelNameTaken(name)
        self.taken.add(name)
        ref = ChannelRef(id=f"C{len(self.channels) + 1:010d}", name=name)
        self.channels.append(ref)
        return ref

    async def invite(self, *, channel_id: str, user_ids: Sequence[str]) -> None:
        self.invites.append((channel_id, list(user_ids)))
        if self.unknown_users & set(user_ids):
            raise ChatError("user_not_found")

    async def announce(self, *, channel: str, card: IncidentCard) -> MessageRef:
        if self.fail_announce:
            raise ChatError(self.fail_announce)
        self.announcements.append((channel, card))
        return self._message(channel)

    async def say(self, *, channel: str, text: str) -> MessageRef:
        self.said.append((channel, text))
        return self._message(channel)

    def _message(self, channel: str) -> MessageRef:
        self._ts += 1
        return MessageRef(channel_id=channel, ts=f"1764200000.{self._ts:06d}")


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 27, 3, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)

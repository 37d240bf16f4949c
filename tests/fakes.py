"""Fakes of the domain's ports, for domain tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.incidents.ports import (
    ChannelNameTaken,
    ChannelRef,
    ChatError,
    ChatMessage,
    HandoffOffer,
    IncidentCard,
    MessageRef,
    Reminder,
    StatusUpdate,
)


@dataclass
class FakeChat:
    """Records what the domain asked of chat; told which names are taken and who is unknown."""

    taken: set[str] = field(default_factory=set)
    unknown_users: set[str] = field(default_factory=set)
    fail_announce: str | None = None
    fail_create: str | None = None
    channel_members: dict[str, set[str]] = field(default_factory=dict)
    stored_messages: dict[tuple[str, str], ChatMessage] = field(default_factory=dict)
    channels: list[ChannelRef] = field(default_factory=list)
    invites: list[tuple[str, list[str]]] = field(default_factory=list)
    announcements: list[tuple[str, IncidentCard]] = field(default_factory=list)
    refreshed: list[tuple[MessageRef, IncidentCard]] = field(default_factory=list)
    topics: list[tuple[str, str]] = field(default_factory=list)
    said: list[tuple[str, str]] = field(default_factory=list)
    whispered: list[tuple[str, str, str]] = field(default_factory=list)
    direct: list[tuple[str, str]] = field(default_factory=list)
    offers: list[tuple[str, HandoffOffer]] = field(default_factory=list)
    updates: list[tuple[str, StatusUpdate]] = field(default_factory=list)
    reminded: list[tuple[str, Reminder]] = field(default_factory=list)
    _ts: int = 0

    async def create_channel(self, *, name: str) -> ChannelRef:
        if self.fail_create:
            raise ChatError(self.fail_create, "conversations.create")
        if name in self.taken:
            raise ChannelNameTaken(name)
        self.taken.add(name)
        ref = ChannelRef(id=f"C{len(self.channels) + 1:010d}", name=name)
        self.channels.append(ref)
        self.channel_members[ref.id] = {"U0FIREBOT"}
        return ref

    async def invite(self, *, channel_id: str, user_ids: Sequence[str]) -> None:
        self.invites.append((channel_id, list(user_ids)))
        if self.unknown_users & set(user_ids):
            raise ChatError("user_not_found")
        self.channel_members.setdefault(channel_id, set()).update(user_ids)

    async def members(self, *, channel_id: str) -> set[str]:
        return set(self.channel_members.get(channel_id, set()))

    async def set_topic(self, *, channel_id: str, topic: str) -> None:
        self.topics.append((channel_id, topic))

    async def announce(self, *, channel: str, card: IncidentCard) -> MessageRef:
        if self.fail_announce:
            raise ChatError(self.fail_announce)
        self.announcements.append((channel, card))
        return self._message(channel)

    async def refresh_announcement(self, *, message: MessageRef, card: IncidentCard) -> None:
        self.refreshed.append((message, card))

    async def say(self, *, channel: str, text: str) -> MessageRef:
        self.said.append((channel, text))
        return self._message(channel)

    async def whisper(self, *, channel: str, user: str, text: str) -> None:
        self.whispered.append((channel, user, text))

    async def direct_message(self, *, user: str, text: str) -> MessageRef:
        self.direct.append((user, text))
        return self._message(f"D{user}")

    async def offer_handoff(self, *, channel: str, offer: HandoffOffer) -> MessageRef:
        self.offers.append((channel, offer))
        return self._message(channel)

    async def post_update(self, *, channel: str, update: StatusUpdate) -> MessageRef:
        self.updates.append((channel, update))
        return self._message(channel)

    async def remind(self, *, channel: str, reminder: Reminder) -> MessageRef:
        self.reminded.append((channel, reminder))
        return self._message(channel)

    async def message(self, *, channel_id: str, ts: str) -> ChatMessage | None:
        return self.stored_messages.get((channel_id, ts))

    def texts(self, channel: str) -> list[str]:
        return [text for where, text in self.said if where == channel]

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


@dataclass
class FakeReminders:
    """The Reminders port in memory: what is scheduled now, under which key."""

    jobs: dict[str, tuple[int, str, datetime, timedelta | None]] = field(default_factory=dict)

    async def schedule(
        self, *, key: str, incident_id: int, kind: str, at: datetime, every: timedelta | None = None
    ) -> None:
        self.jobs[key] = (incident_id, kind, at, every)

    async def cancel(self, *, key: str) -> None:
        self.jobs.pop(key, None)

"""Ports the incident domain needs from the outside world, and the shapes they exchange."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ChannelRef:
    id: str
    name: str


@dataclass(frozen=True)
class MessageRef:
    channel_id: str
    ts: str


@dataclass(frozen=True)
class IncidentCard:
    """What an announcement shows; the chat adapter decides how it looks."""

    ref: str
    title: str
    severity: str
    status: str
    service: str | None
    summary: str | None
    description: str | None
    source_url: str | None
    runbook_url: str | None
    channel_id: str | None
    channel_name: str | None
    declared_by: str | None
    alerts_firing: int


class ChatError(Exception):
    """The chat platform refused a call; `code` is its error code (Slack's "not_in_channel")."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


class ChannelNameTaken(ChatError):
    def __init__(self, name: str) -> None:
        super().__init__("name_taken", name)


class Chat(Protocol):
    """Where incidents are worked: a channel per incident, plus a broadcast channel."""

    async def create_channel(self, *, name: str) -> ChannelRef:
        """Raises ChannelNameTaken when the name is in use, ChatError otherwise."""
        ...

    async def invite(self, *, channel_id: str, user_ids: Sequence[str]) -> None: ...

    async def announce(self, *, channel: str, card: IncidentCard) -> MessageRef: ...

    async def say(self, *, channel: str, text: str) -> MessageRef: ...

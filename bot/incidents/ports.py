"""What the incident domain needs from the chat platform, in small capability ports, and the
shapes they exchange. Playbooks (bot.playbooks.ports) and postmortems (bot.postmortem.ports)
declare the few more they need; the Slack adapter implements them all.

Text conventions (bot.mrkdwn): the shapes (cards, updates, change lines, messages read back)
carry plain text, as it was sent, which the chat adapter escapes when it renders them; a
`text`, `topic` or `comment` argument of a port, and a Reminder's text, are mrkdwn the domain
wrote, with every outside value passed through bot.mrkdwn.escape and people mentioned through
bot.people.mention.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from bot.context import Context

if TYPE_CHECKING:
    from bot.incidents.ledger import ServiceBudget


@dataclass(frozen=True)
class ChannelRef:
    id: str
    name: str


@dataclass(frozen=True)
class MessageRef:
    channel_id: str
    ts: str


@dataclass(frozen=True)
class ChatMessage:
    """A message responders wrote, as the chat platform has it."""

    channel_id: str
    ts: str
    at: datetime
    author: str | None
    text: str  # plain: what the author typed (mentions of people as <@U123>)
    permalink: str | None


@dataclass(frozen=True)
class ChangeLine:
    """A change an announcement lists under "What changed"."""

    change_id: int
    kind: str
    service: str
    version: str | None
    previous_version: str | None
    author: str | None
    link: str | None
    at: datetime
    during_freeze: bool = False


@dataclass(frozen=True)
class ModelCard:
    """The affected service's deployment as its target reported it when the incident opened
    (bot.incidents.model_card): the live version, the one before it and since when it is live,
    or why it could not be read (`unread`). Versions and reasons are outside text."""

    service: str
    read_at: datetime
    live: str | None = None
    previous: str | None = None
    live_since: datetime | None = None  # from the change feed, when a change names `live`
    since_kind: str | None = None  # that change's kind ("deploy", "model_promotion" …)
    unread: str | None = None


@dataclass(frozen=True)
class IncidentCard:
    """What an announcement shows; the chat adapter decides how it looks."""

    incident_id: int
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
    commander: str | None = None
    scribe: str | None = None
    acknowledged: bool = False  # the commander (if any) is known to be on it
    handoff_to: str | None = None
    drill: bool = False
    changes: Sequence[ChangeLine] = ()  # newest first, within the look-back window
    in_progress: Sequence[ChangeLine] = ()  # canaries and shadows not yet ended
    changes_lookback: timedelta | None = None
    model: ModelCard | None = None  # services with a deployment target, once it was read


@dataclass(frozen=True)
class StatusUpdate:
    card: IncidentCard
    text: str  # what we know, in the commander's words
    author: str
    next_update_at: datetime | None


@dataclass(frozen=True)
class HandoffOffer:
    incident_id: int
    ref: str
    from_user: str | None
    to_user: str


@dataclass(frozen=True)
class Reminder:
    incident_id: int
    ref: str
    text: str  # mrkdwn, outside values escaped
    snooze: Sequence[timedelta] = ()  # offered as buttons; empty: nothing to snooze


# ChatError code: the bot is shutting down; the call is stored and sent after the next start.
STOPPING = "stopping"


class ChatError(Exception):
    """The chat platform refused a call; `code` is its error code (Slack's "not_in_channel")."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


class ChannelNameTaken(ChatError):
    def __init__(self, name: str) -> None:
        super().__init__("name_taken", name)


class Channels(Protocol):
    """A channel per incident."""

    async def create_channel(self, *, name: str) -> ChannelRef:
        """Raises ChannelNameTaken when the name is in use, ChatError otherwise."""
        ...

    async def invite(self, *, channel_id: str, user_ids: Sequence[str]) -> None: ...

    async def members(self, *, channel_id: str) -> set[str]: ...

    async def set_topic(self, *, channel_id: str, topic: str) -> None: ...


class Conversation(Protocol):
    """Plain messages, and reading one back. `text` is mrkdwn, outside values escaped."""

    async def say(self, *, channel: str, text: str) -> None: ...

    async def whisper(self, *, channel: str, user: str, text: str) -> None:
        """A message only `user` sees."""
        ...

    async def direct_message(self, *, user: str, text: str) -> None: ...

    async def message(self, *, channel_id: str, ts: str) -> ChatMessage | None:
        """A message by its ts, with a permalink; None if it does not exist."""
        ...


class Announcements(Protocol):
    """The incident's cards and prompts: the announcement (in its channel and the broadcast
    channel), status updates, hand-over offers, reminders and playbook offers."""

    async def announce(self, *, channel: str, card: IncidentCard) -> MessageRef: ...

    async def refresh_announcement(self, *, message: MessageRef, card: IncidentCard) -> None: ...

    async def post_update(self, *, channel: str, update: StatusUpdate) -> None: ...

    async def offer_handoff(self, *, channel: str, offer: HandoffOffer) -> None: ...

    async def remind(self, *, channel: str, reminder: Reminder) -> None: ...

    async def offer_playbook(
        self, *, channel: str, incident_id: int, playbook: str, text: str
    ) -> None:
        """A message with a button that starts the playbook (approval rules apply)."""
        ...


class BudgetClock(Protocol):
    async def show_budget(
        self, *, channel: str, ref: str, budget: ServiceBudget, message: MessageRef | None
    ) -> MessageRef:
        """The budget clock: posted and pinned the first time, updated in place after."""
        ...


class IncidentChat(Channels, Conversation, Announcements, BudgetClock, Protocol):
    """Everything the incident flows ask of the chat platform."""


# What the incident flows are given: the context with a chat that can do the above.
IncidentContext = Context[IncidentChat]

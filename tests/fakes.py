"""Fakes of the domain's ports, for domain tests."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.context import Planned
from bot.deploy.ports import (
    Action,
    DeployError,
    Prepared,
    ProbeResponse,
    Request,
    Response,
    Result,
    State,
)
from bot.incidents.ledger import ServiceBudget
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
from bot.playbooks.ports import RunView
from bot.postmortem.ports import Upload


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
    runs: list[tuple[MessageRef, RunView]] = field(default_factory=list)  # posts and updates
    offered_playbooks: list[tuple[str, str, str]] = field(default_factory=list)
    files: list[tuple[str, str, bytes]] = field(default_factory=list)
    budget_messages: list[tuple[MessageRef, timedelta]] = field(default_factory=list)
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

    async def say(self, *, channel: str, text: str) -> None:
        self.said.append((channel, text))

    async def whisper(self, *, channel: str, user: str, text: str) -> None:
        self.whispered.append((channel, user, text))

    async def direct_message(self, *, user: str, text: str) -> None:
        self.direct.append((user, text))

    async def offer_handoff(self, *, channel: str, offer: HandoffOffer) -> None:
        self.offers.append((channel, offer))

    async def post_update(self, *, channel: str, update: StatusUpdate) -> None:
        self.updates.append((channel, update))

    async def remind(self, *, channel: str, reminder: Reminder) -> None:
        self.reminded.append((channel, reminder))

    async def offer_playbook(
        self, *, channel: str, incident_id: int, playbook: str, text: str
    ) -> None:
        self.offered_playbooks.append((channel, playbook, text))

    async def share_files(
        self, *, channel: str, files: Sequence[Upload], comment: str
    ) -> str | None:
        self.files.extend((channel, f.filename, f.content) for f in files)
        return f"https://slack.test/files/{files[0].filename}"

    async def show_budget(
        self, *, channel: str, ref: str, budget: ServiceBudget, message: MessageRef | None
    ) -> MessageRef:
        shown = message or self._message(channel)
        self.budget_messages.append((shown, budget.report.remaining))
        return shown

    async def post_run(self, *, channel: str, run: RunView) -> MessageRef:
        ref = self._message(channel)
        self.runs.append((ref, run))
        return ref

    async def update_run(self, *, message: MessageRef, run: RunView) -> None:
        self.runs.append((message, run))

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

    async def plan(self, *, schedule: Sequence[Planned] = (), cancel: Sequence[str] = ()) -> None:
        for p in schedule:
            self.jobs[p.key] = (p.incident_id, p.kind, p.at, p.every)
        for key in cancel:
            self.jobs.pop(key, None)


@dataclass
class FakeTarget:
    """A deployment target in memory that honours idempotency keys like the reference API."""

    kind: str = "fake"
    versions: list[str] = field(default_factory=lambda: ["v40", "v41", "v42"])  # oldest first
    mode: str = "model"
    frozen: bool = False
    fail_next: list[DeployError] = field(default_factory=list)
    fail_action: str | None = None  # fail_next applies to this action only (None: any)
    hang_s: float = 0.0
    hang_action: str | None = None  # hang_s applies to this action only (None: any)
    executed: list[tuple[str, str]] = field(default_factory=list)  # (action, key) that changed
    attempts: int = 0
    _seen: dict[str, State] = field(default_factory=dict)

    def state(self, service: str = "search-ranker") -> State:
        return State(
            service=service,
            active_version=self.versions[-1],
            previous_versions=tuple(reversed(self.versions[:-1])),
            mode=self.mode,
            frozen=self.frozen,
        )

    async def prepare(
        self, *, action: Action, service: str, args: Mapping[str, Any], idempotency_key: str
    ) -> Prepared:
        if action is Action.ROLLBACK and args.get("to_version") not in (None, *self.versions):
            raise DeployError(f"no version {args['to_version']}", transient=False, status=404)
        method = "GET" if action is Action.GET_STATE else "POST"
        request = Request(
            method=method,
            url=f"http://deploy.test/v1/services/{service}/{action}",
            headers={"Idempotency-Key": idempotency_key},
            json=dict(args) or None,
        )
        return Prepared(
            action=action, service=service, requests=(request,), idempotency_key=idempotency_key
        )

    async def execute(self, prepared: Prepared, *, timeout_s: float) -> Result:
        self.attempts += 1
        if self.hang_s and self.hang_action in (None, prepared.action):
            await asyncio.sleep(self.hang_s)
        if self.fail_next and self.fail_action in (None, prepared.action):
            raise self.fail_next.pop(0)
        key, action = prepared.idempotency_key, prepared.action
        if key in self._seen:  # a repeat: replay, change nothing
            return Result(prepared, (Response(200, {}, 0.001),), self._seen[key])
        if action is Action.ROLLBACK:
            wanted = (prepared.requests[0].json or {}).get("to_version")
            while len(self.versions) > 1 and self.versions[-1] != wanted:
                self.versions.pop()
                if wanted is None:
                    break
        elif action is Action.SET_MODE:
            self.mode = (prepared.requests[0].json or {})["mode"]
        elif action is Action.FREEZE:
            self.frozen = True
        elif action is Action.UNFREEZE:
            self.frozen = False
        if action is not Action.GET_STATE:
            self.executed.append((action.value, key))
            self._seen[key] = self.state(prepared.service)
        return Result(prepared, (Response(200, {}, 0.001),), self.state(prepared.service))


@dataclass
class FakeTargets:
    targets: dict[str, FakeTarget] = field(default_factory=dict)

    def for_service(self, service: str) -> FakeTarget:
        from bot.deploy.ports import NoTarget

        if service not in self.targets:
            raise NoTarget(f"{service} has no deployment target in firebreak.yaml")
        return self.targets[service]


@dataclass
class FakeProbe:
    statuses: list[int] = field(default_factory=lambda: [200])
    values: list[float | None] = field(default_factory=list)
    sent: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)

    async def send(
        self, *, method: str, url: str, headers: Mapping[str, str], json: Any, timeout_s: float
    ) -> ProbeResponse:
        self.sent.append((method, url, dict(headers), json))
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return ProbeResponse(status=status, body={}, duration_s=0.001)

    async def prometheus(self, *, base_url: str, query: str, timeout_s: float) -> float | None:
        return self.values.pop(0) if self.values else None

"""The model card: the live version, the one before it and since when, read from the service's
deployment target when the incident is announced, time-boxed and in the background, and kept so
that every refresh of the announcement shows the same card without asking the target again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from bot.alerts.sources import alertmanager
from bot.changes.flows import receive
from bot.changes.schemas import ChangeEvent, ChangeKind
from bot.context import Context
from bot.deploy.adapters.http import HttpTarget
from bot.deploy.config import HttpTargetConfig
from bot.deploy.ports import DeploymentTarget, NoTarget, State
from bot.deploy.recording import DrillTargets
from bot.drills import flows as drills_flows
from bot.events import Bus
from bot.incidents import flows, intake, model_card
from bot.incidents.cards import MODEL_CARD
from bot.incidents.ports import IncidentCard, ModelCard
from bot.incidents.reading import load
from bot.incidents.sync import sync
from bot.slack.blocks.announcement import announcement
from bot.tasks import Background
from tests.domain import load_incident
from tests.fakes import FakeChat, FakeClock, FakeTarget
from tests.paths import ROOT
from tests.payloads import am_notification
from tests.polling import eventually

SERVICE = "search-ranker"
ANA = "U0ANA0001"


@dataclass
class ReadableTarget(FakeTarget):
    """A fake target that reads its state as the adapters do, or never answers (`hang`)."""

    versions: list[str] = field(default_factory=lambda: ["v41", "v42", "v43-bad"])
    hang: bool = False
    reads: list[str] = field(default_factory=list)
    answered: int = 0

    async def read_state(self, service: str, *, timeout_s: float) -> State:
        self.reads.append(service)
        if self.hang:
            await asyncio.Event().wait()  # never set: only the time box ends it
        self.answered += 1
        return self.state(service)


@dataclass
class OneTarget:
    target: DeploymentTarget | None

    def for_service(self, service: str) -> DeploymentTarget:
        if service != SERVICE or self.target is None:
            raise NoTarget(f"{service} has no deployment target in firebreak.yaml")
        return self.target


@pytest.fixture
async def background() -> AsyncIterator[Background]:
    tasks = Background()
    yield tasks
    await tasks.drain(timeout=0)  # a read still hanging is cancelled


def wired(
    ctx: Context,
    background: Background,
    target: DeploymentTarget | None,
    *,
    timeout_s: float = 3.0,
    drills: DrillTargets | None = None,
) -> None:
    assert isinstance(ctx.events, Bus)
    model_card.subscribe(
        ctx.events,
        ctx=ctx,
        targets=OneTarget(target),
        drills=drills or DrillTargets(),
        background=background,
        timeout_s=timeout_s,
    )


async def opened(ctx: Context) -> int:
    result = await intake.receive(ctx=ctx, batch=alertmanager.parse(am_notification()))
    assert result.incident_id is not None
    return result.incident_id


async def change(ctx: Context, *, version: str, ago: timedelta, kind: ChangeKind) -> None:
    await receive(
        ctx,
        event=ChangeEvent(
            id=f"{kind}-{version}-{ago.total_seconds():g}",
            kind=kind,
            service=SERVICE,
            version=version,
            author="ml-pipeline",
            time=ctx.clock() - ago,
        ),
    )


def with_card(chat: FakeChat) -> list[IncidentCard]:
    return [card for _, card in chat.refreshed if card.model is not None]


def card_text(card: IncidentCard) -> str:
    _, blocks = announcement(card)
    return repr(blocks)


async def test_the_card_follows_the_announcement_in_both_copies(
    ctx: Context, chat: FakeChat, clock: FakeClock, background: Background
) -> None:
    target = ReadableTarget()
    wired(ctx, background, target)
    await change(ctx, version="v42", ago=timedelta(days=3), kind=ChangeKind.DEPLOY)
    await change(ctx, version="v43-bad", ago=timedelta(hours=2), kind=ChangeKind.DEPLOY)
    await change(ctx, version="v43-bad", ago=timedelta(minutes=20), kind=ChangeKind.MODEL_PROMOTION)
    # Not what made it live: a shadow only mirrors traffic.
    await change(ctx, version="v43-bad", ago=timedelta(minutes=5), kind=ChangeKind.SHADOW_START)
    incident_id = await opened(ctx)

    await flows.open_in_chat(ctx=ctx, incident_id=incident_id)
    await eventually(lambda: len(with_card(chat)) >= 2, what="both copies' card")

    incident = await load_incident(ctx, incident_id)
    copies = {message.channel_id for message, card in chat.refreshed if card.model is not None}
    assert copies == {incident.channel_id, incident.broadcast_channel_id}
    model = with_card(chat)[-1].model
    assert model == ModelCard(
        service=SERVICE,
        read_at=clock(),
        live="v43-bad",
        previous="v42",
        live_since=clock() - timedelta(minutes=20),
        since_kind="model_promotion",
    )
    [entry] = [t for t in incident.timeline if t.kind == MODEL_CARD]
    assert entry.text == (
        "Model card of search-ranker: live v43-bad, before it v42, live since "
        "2026-11-27 02:40 UTC (model_promotion in the change feed)"
    )
    shown = card_text(with_card(chat)[-1])
    assert "`v43-bad`" in shown and "`v42`" in shown and "(model_promotion)" in shown


async def test_a_target_that_hangs_holds_nothing_up_and_a_line_says_why(
    ctx: Context, chat: FakeChat, background: Background
) -> None:
    target = ReadableTarget(hang=True)
    wired(ctx, background, target, timeout_s=1.0)
    incident_id = await opened(ctx)

    await flows.open_in_chat(ctx=ctx, incident_id=incident_id)

    # Both copies are posted, the target not yet read: the read goes on in the background.
    assert len(chat.announcements) == 2
    assert all(card.model is None for _, card in chat.announcements)
    assert target.answered == 0
    [card] = (await eventually(lambda: with_card(chat), what="the model card's line"))[:1]
    assert card.model is not None
    assert card.model.unread == "the deployment target did not answer within 1 s"
    assert card.model.live is None and target.reads == [SERVICE]
    assert "Model card*: the deployment target did not answer within 1 s" in card_text(card)


async def test_an_unreachable_target_says_so(
    ctx: Context, chat: FakeChat, background: Background
) -> None:
    config = HttpTargetConfig.model_validate({"kind": "http", "url": "http://127.0.0.1:9"})
    wired(ctx, background, HttpTarget(config, service=SERVICE))
    await flows.open_in_chat(ctx=ctx, incident_id=await opened(ctx))

    [card, *_] = await eventually(lambda: with_card(chat), what="the model card's line")
    assert card.model is not None and card.model.unread is not None
    assert card.model.unread.startswith("the deployment target could not be read: ")


async def test_a_service_without_a_target_has_no_card_and_no_line(
    ctx: Context, chat: FakeChat, background: Background
) -> None:
    wired(ctx, background, None)
    incident_id = await opened(ctx)

    await flows.open_in_chat(ctx=ctx, incident_id=incident_id)
    await background.drain(timeout=5)

    incident = await load_incident(ctx, incident_id)
    assert MODEL_CARD not in {t.kind for t in incident.timeline}
    cards = [card for _, card in chat.announcements + chat.refreshed]
    assert cards and all(card.model is None for card in cards)
    assert all("Model card" not in card_text(card) for card in cards)


async def test_a_refresh_shows_the_same_card_without_asking_the_target_again(
    ctx: Context, chat: FakeChat, clock: FakeClock, background: Background
) -> None:
    target = ReadableTarget()
    wired(ctx, background, target)
    incident_id = await opened(ctx)
    await flows.open_in_chat(ctx=ctx, incident_id=incident_id)
    await eventually(lambda: with_card(chat), what="the model card")
    await background.drain(timeout=5)
    first = with_card(chat)[-1].model

    target.versions.append("v44")  # the target moved on: the card keeps what it said then
    clock.advance(minutes=10)
    chat.refreshed.clear()
    for _ in range(3):
        await sync(ctx, await load(ctx, incident_id=incident_id))
    # Asked again (a resumed set-up): the card is there, the target is not read again.
    assert (
        await model_card.show(
            ctx, targets=OneTarget(target), drills=DrillTargets(), incident_id=incident_id
        )
        is None
    )

    assert chat.refreshed and all(card.model == first for _, card in chat.refreshed)
    assert first is not None and first.live == "v43-bad"
    assert target.reads == [SERVICE]  # once, at the opening
    incident = await load_incident(ctx, incident_id)
    assert [t.kind for t in incident.timeline].count(MODEL_CARD) == 1


async def test_the_example_model_service_is_read_over_http(
    ctx: Context, chat: FakeChat, background: Background, model_service: str
) -> None:
    config = HttpTargetConfig.model_validate({"kind": "http", "url": model_service})
    wired(ctx, background, HttpTarget(config, service=SERVICE))
    await flows.open_in_chat(ctx=ctx, incident_id=await opened(ctx))

    [card, *_] = await eventually(lambda: with_card(chat), what="the model card")
    assert card.model is not None
    assert (card.model.live, card.model.previous) == ("v42-bad", "v41")
    assert card.model.live_since is None
    assert "not in the change feed" in card_text(card)


async def test_a_drill_reads_its_recording_target_and_its_own_changes(
    ctx: Context, chat: FakeChat, clock: FakeClock, background: Background
) -> None:
    production = ReadableTarget()
    drills = DrillTargets()
    wired(ctx, background, production, drills=drills)

    incident = await drills_flows.start(
        ctx, drills=drills, folder=ROOT / "examples" / "drills", name="bad-model-promotion", by=ANA
    )

    [card, *_] = await eventually(lambda: with_card(chat), what="the drill's model card")
    assert card.model is not None and card.incident_id == incident.id
    assert (card.model.live, card.model.previous) == ("v42", "v41")  # the scenario's staging
    assert card.model.live_since == clock() - timedelta(minutes=25)
    assert card.model.since_kind == "model_promotion"
    assert production.reads == []  # a drill never reaches production
    assert drills.sent(incident.id) == []  # reading records no request


def test_versions_from_outside_are_escaped() -> None:
    read_at = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    card = ModelCard(
        service="search-ranker",
        read_at=read_at,
        live="v1<!channel>&*bold*",
        previous="<@U0ANA0001>",
        live_since=read_at - timedelta(hours=1),
        since_kind="deploy<x>",
    )
    shown = card_text(_card(card))

    assert "`v1&lt;!channel&gt;&amp;*bold*`" in shown  # as code: the stars style nothing
    assert "`&lt;@U0ANA0001&gt;`" in shown
    assert "(deploy&lt;x&gt;)" in shown
    assert "<!channel>" not in shown and "<@U0ANA0001>" not in shown

    ticked = card_text(_card(ModelCard(service="s", read_at=read_at, live="v`1<", previous=None)))
    assert "v`1&lt;" in ticked and "`v`1" not in ticked

    unread = ModelCard(service="s", read_at=read_at, unread="refused: <!here> & *all*")
    assert "refused: &lt;!here&gt; &amp; *all*" in card_text(_card(unread))


def _card(model: ModelCard) -> IncidentCard:
    return IncidentCard(
        incident_id=1,
        ref="INC-1",
        title="NDCG drop",
        severity="SEV1",
        status="open",
        service="search-ranker",
        summary=None,
        description=None,
        source_url=None,
        runbook_url=None,
        channel_id="C1",
        channel_name="inc-1",
        declared_by=None,
        alerts_firing=1,
        model=model,
    )

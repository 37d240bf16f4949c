"""The change feed on SQLite and PostgreSQL: recorded once per event id, listed in the look-back
window for an incident's service and what it depends on, flagged during a freeze."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.budget.slo import Slo
from bot.changes import flows, service
from bot.changes.events import ChangeRecorded
from bot.changes.schemas import ChangeEvent, ChangeKind
from bot.config import FirebreakConfig, ServiceConfig
from bot.context import Context
from bot.events import Bus
from bot.incidents import deploys
from bot.incidents.budget_policy import POLICY, announce_thresholds
from bot.incidents.errors import Refused
from bot.incidents.freezes import freeze_lifted, freeze_started
from bot.incidents.ledger import budget_of
from bot.incidents.reading import load
from bot.incidents.what_changed import what_changed
from tests.domain import incident_with_channel, load_incident
from tests.fakes import FakeChat, FakeClock


def follow_changes(ctx: Context) -> None:
    """What the app subscribes in the background (bot.followups), here awaited by receive."""

    async def follow(event: ChangeRecorded) -> None:
        await deploys.change_recorded(ctx, event)

    assert isinstance(ctx.events, Bus)
    ctx.events.subscribe(ChangeRecorded, follow)


def event(n: int, **kw: object) -> ChangeEvent:
    fields: dict[str, object] = {
        "id": f"evt-{n}",
        "kind": "deploy",
        "service": "search-ranker",
        "version": f"v{n}",
        "previous_version": f"v{n - 1}",
        "author": "ci",
    }
    fields.update(kw)
    return ChangeEvent.model_validate(fields)


async def test_an_event_id_is_recorded_once(ctx: Context) -> None:
    first = await flows.receive(ctx, event=event(1))
    again = await flows.receive(ctx, event=event(1, version="v99"))
    assert first.created and not again.created
    assert again.change.id == first.change.id and again.change.version == "v1"
    async with ctx.sessions() as session:
        assert (await service.find(session=session, event_id="evt-1")) is not None


async def test_what_changed_lists_the_window_newest_first_with_dependencies(
    ctx: Context, config: FirebreakConfig, clock: FakeClock
) -> None:
    config.services["search-features"] = ServiceConfig()
    config.services["search-ranker"].depends_on = ["search-features"]
    config.services["checkout-fraud"] = ServiceConfig()
    now = clock.now
    await flows.receive(ctx, event=event(1, time=now - timedelta(hours=30)))  # too old
    await flows.receive(ctx, event=event(2, time=now - timedelta(hours=2)))
    await flows.receive(
        ctx, event=event(3, service="search-features", kind="feature_pipeline", time=now)
    )
    await flows.receive(ctx, event=event(4, service="checkout-fraud", time=now))  # unrelated
    await flows.receive(ctx, event=event(5, kind="config", time=now - timedelta(minutes=5)))
    incident = await incident_with_channel(ctx)
    found = await what_changed(ctx, incident)
    assert [c.event_id for c in found.changes] == ["evt-3", "evt-5", "evt-2"]

    config.changes.lookback = timedelta(hours=1)
    assert [c.event_id for c in (await what_changed(ctx, incident)).changes] == [
        "evt-3",
        "evt-5",
    ]


async def test_a_canary_is_in_progress_until_aborted(ctx: Context, clock: FakeClock) -> None:
    now = clock.now
    await flows.receive(ctx, event=event(1, kind="canary_start", time=now - timedelta(minutes=9)))
    await flows.receive(ctx, event=event(2, kind="canary_step", time=now - timedelta(minutes=8)))
    await flows.receive(ctx, event=event(3, kind="shadow_start", time=now - timedelta(minutes=7)))
    incident = await incident_with_channel(ctx, members=("U0ANA0001",))
    found = await what_changed(ctx, incident)
    assert {c.kind for c in found.in_progress} == {"canary_start", "shadow_start"}

    canary = next(c for c in found.in_progress if c.kind == "canary_start")
    ended = await deploys.end_rollout(
        ctx, incident_id=incident.id, change_id=canary.id, by="U0ANA0001"
    )
    assert ended.kind == ChangeKind.CANARY_ABORT and ended.author == "U0ANA0001"
    assert [c.kind for c in (await what_changed(ctx, incident)).in_progress] == ["shadow_start"]
    with pytest.raises(Refused, match="already ended"):
        await deploys.end_rollout(ctx, incident_id=incident.id, change_id=canary.id, by="U0ANA0001")
    timeline = (await load_incident(ctx, incident.id)).timeline
    assert any(t.kind == "change.canary_abort" and "no canary endpoint" in t.text for t in timeline)


async def test_freezes_start_and_lift(ctx: Context, clock: FakeClock) -> None:
    incident = await incident_with_channel(ctx)
    await freeze_started(
        ctx,
        service_name="search-ranker",
        reason="INC-1: ranker",
        by="U0ANA0001",
        source="playbook",
        incident=incident,
    )
    async with ctx.sessions() as session:
        frozen = await service.active_freeze(session=session, service="search-ranker")
        assert await service.active_freeze(session=session, service="checkout-fraud") is None
    assert frozen is not None
    assert (frozen.by, frozen.reason, frozen.incident_id) == ("U0ANA0001", "INC-1: ranker", 1)
    clock.advance(minutes=5)
    await freeze_lifted(ctx, service_name="search-ranker", by="U0BEN0002", incident=incident)
    async with ctx.sessions() as session:
        assert await service.active_freeze(session=session, service="search-ranker") is None
    kinds = [t.kind for t in (await load_incident(ctx, incident.id)).timeline]
    assert "freeze.started" in kinds and "freeze.lifted" in kinds


async def test_a_change_during_a_freeze_is_flagged_in_the_incident(
    ctx: Context, chat: FakeChat
) -> None:
    incident = await incident_with_channel(ctx)
    await freeze_started(
        ctx,
        service_name="search-ranker",
        reason="INC-1",
        by="U0ANA0001",
        source="playbook",
        incident=incident,
    )
    follow_changes(ctx)
    received = await flows.receive(ctx, event=event(7))
    assert received.freeze is not None and received.change.freeze_id == received.freeze.id
    flags = [t for c, t in chat.said if c == incident.channel_id and "during a freeze" in t]
    assert len(flags) == 1 and "deploy of search-ranker v6 → v7 by ci" in flags[0]
    entries = (await load_incident(ctx, incident.id)).timeline
    assert [t.kind for t in entries].count("change.during_freeze") == 1
    # The announcement shows the change, marked.
    card = chat.refreshed[-1][1]
    assert [(c.version, c.during_freeze) for c in card.changes] == [("v7", True)]


async def test_a_change_without_a_freeze_joins_the_open_incident(
    ctx: Context, chat: FakeChat
) -> None:
    incident = await incident_with_channel(ctx)
    follow_changes(ctx)
    received = await flows.receive(ctx, event=event(3, kind="model_promotion"))
    assert received.freeze is None
    await flows.receive(ctx, event=event(3))  # a replay announces nothing
    entries = (await load_incident(ctx, incident.id)).timeline
    assert [t.kind for t in entries].count("change.recorded") == 1
    assert not [t for _, t in chat.said if "during a freeze" in t]


async def test_a_spent_budget_freezes_the_service(
    ctx: Context, config: FirebreakConfig, clock: FakeClock
) -> None:
    config.services["search-ranker"].slo = Slo(target=99.95, window="7d")
    incident = await incident_with_channel(ctx)
    clock.advance(minutes=10)  # the alert has burned more than the 5.04 minutes by now
    budget = await budget_of(ctx, service="search-ranker", incident_id=incident.id)
    assert budget is not None and budget.report.consumed_fraction > 1
    await announce_thresholds(ctx, await load(ctx, incident_id=1), budget)
    async with ctx.sessions() as session:
        frozen = await service.active_freeze(session=session, service="search-ranker")
    assert frozen is not None and frozen.by == POLICY and frozen.source == "budget_policy"

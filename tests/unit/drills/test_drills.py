"""Drills on SQLite and PostgreSQL: a scenario replayed as a DRILL incident that only ever acts on
its recording target, stays out of budgets and reports, and ends with its report."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.alerts.sources import alertmanager
from bot.budget.slo import Slo
from bot.changes import service as changes_service
from bot.config import FirebreakConfig, ServiceConfig
from bot.context import Context
from bot.drills import flows as drills
from bot.drills import report
from bot.incidents import intake, lifecycle, roles
from bot.incidents.errors import Refused
from bot.incidents.ledger import budget_of
from bot.incidents.models import Status
from bot.incidents.what_changed import what_changed
from bot.playbooks import engine
from bot.playbooks.engine import Runner
from bot.playbooks.loader import load_library
from bot.playbooks.runs import RunStatus
from bot.postmortem.report import gather
from tests.domain import incident_with_channel, load_incident
from tests.fakes import FakeChat, FakeClock, FakeProbe, FakeTarget, FakeTargets
from tests.paths import ROOT
from tests.payloads import am_notification

ANA, BEN = "U0ANA0001", "U0BEN0002"
DRILLS = ROOT / "examples" / "drills"


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "BACKOFF_BASE_S", 0.001)


@pytest.fixture
def target() -> FakeTarget:
    return FakeTarget()


@pytest.fixture
def runner(ctx: Context, target: FakeTarget, config: FirebreakConfig) -> Runner:
    config.services["search-features"] = ServiceConfig()
    config.services["search-ranker"].depends_on = ["search-features"]
    return Runner(
        ctx=ctx,
        library=load_library(ROOT / "playbooks"),
        targets=FakeTargets({"search-ranker": target}),
        probe=FakeProbe(),
    )


async def start(ctx: Context, runner: Runner) -> int:
    incident = await drills.start(
        ctx, drills=runner.drills, folder=DRILLS, name="bad-model-promotion", by=ANA
    )
    return incident.id


async def test_a_drill_is_marked_everywhere_and_sees_its_own_changes(
    ctx: Context, runner: Runner, chat: FakeChat
) -> None:
    incident_id = await start(ctx, runner)
    incident = await load_incident(ctx, incident_id)
    assert incident.drill and incident.declared_by == ANA
    assert chat.channels[0].name.startswith(f"drill-inc-{incident_id}-")
    assert chat.topics[0][1].startswith("DRILL · SEV1")
    card = chat.announcements[0][1]
    assert card.drill
    assert [(c.kind, c.service) for c in card.changes] == [
        ("model_promotion", "search-ranker"),
        ("feature_pipeline", "search-features"),
    ]
    # A real incident of the same service never sees the drill's staged changes.
    real = await intake.receive(
        ctx=ctx, batch=alertmanager.parse(am_notification(group_key="real"))
    )
    assert real.incident_id is not None
    assert (await what_changed(ctx, await load_incident(ctx, real.incident_id))).changes == []


async def test_unknown_scenarios_are_refused_with_the_known_ones(
    ctx: Context, runner: Runner
) -> None:
    with pytest.raises(Refused, match="bad-model-promotion, canary-latency"):
        await drills.start(ctx, drills=runner.drills, folder=DRILLS, name="nope", by=ANA)


async def test_a_drill_consumes_no_budget_and_is_left_out_of_the_report(
    ctx: Context, runner: Runner, config: FirebreakConfig, clock: FakeClock
) -> None:
    config.services["search-ranker"].slo = Slo(target=99.95, window="7d")
    drill_id = await start(ctx, runner)
    clock.advance(minutes=10)
    budget = await budget_of(ctx, service="search-ranker", incident_id=drill_id)
    assert budget is not None
    assert budget.report.consumed == budget.report.incident_consumed == timedelta(0)
    # The same alert, for real, does consume.
    await intake.receive(ctx=ctx, batch=alertmanager.parse(am_notification()))
    with_real = await budget_of(ctx, service="search-ranker")
    assert with_real is not None and with_real.report.consumed > timedelta(0)
    lines = await gather(ctx, since=clock.now - timedelta(days=1))
    assert [(line.service, line.incidents) for line in lines] == [("search-ranker", 1)]


async def test_a_complete_drill(
    ctx: Context, runner: Runner, target: FakeTarget, chat: FakeChat, clock: FakeClock
) -> None:
    incident_id = await start(ctx, runner)
    incident = await load_incident(ctx, incident_id)
    assert incident.channel_id is not None
    chat.channel_members[incident.channel_id].update({ANA, BEN})
    clock.advance(seconds=40)
    await roles.assign(ctx, incident_id=incident_id, role=roles.Role.COMMANDER, user=ANA, by=ANA)
    clock.advance(seconds=20)
    promotion = next(
        c for c in (await what_changed(ctx, incident)).changes if c.kind == "model_promotion"
    )
    clock.advance(seconds=30)
    run = await runner.start(
        incident_id=incident_id,
        name="rollback",
        params={"service": promotion.service, "to_version": promotion.previous_version or ""},
        by=BEN,
    )
    assert run.status == RunStatus.AWAITING_APPROVAL
    clock.advance(seconds=15)
    await runner.approve(run_id=run.id, by=ANA)
    finished = await runner.execute(run.id)
    assert finished.status == RunStatus.SUCCEEDED  # the drill's alerts resolved on the rollback
    # Nothing reached the real deployment target; the recording target has the rollback.
    assert target.executed == [] and target.attempts == 0
    [state_read, rollback] = runner.drills.sent(incident_id)
    assert state_read.method == "GET"
    assert rollback.url == "drill://search-ranker/rollback"
    assert rollback.json == {"to_version": "v41"}
    assert runner.drills.target(incident_id, "search-ranker").state.active_version == "v41"
    # A drill's freeze closes no gate.
    freeze = await runner.start(incident_id=incident_id, name="traffic-freeze", params={}, by=ANA)
    await runner.approve(run_id=freeze.id, by=ANA)
    assert (await runner.execute(freeze.id)).status == RunStatus.SUCCEEDED
    async with ctx.sessions() as session:
        assert await changes_service.active_freeze(session=session, service="search-ranker") is None
    await lifecycle.set_status(ctx, incident_id=incident_id, status=Status.MITIGATED, by=ANA)
    clock.advance(minutes=2)

    with pytest.raises(Refused, match="not a drill"):
        await drills.end(ctx, incident_id=(await incident_with_channel(ctx)).id, by=ANA)
    await drills.end(ctx, incident_id=incident_id, by=ANA)
    [posted] = [t for c, t in chat.said if c == incident.channel_id and "DRILL report" in t]
    assert "Commander claimed: 40s after the start" in posted
    assert "Scribe claimed: —" in posted
    assert "`rollback` asked 1m30s after the start, started 1m45s after the start" in posted
    assert "Steps skipped: scribe" in posted  # the scenario expected a scribe; nobody took it
    assert "Requests recorded, not sent: 3" in posted
    assert not any(f.startswith(str(incident_id)) for f in map(str, chat.files))  # no postmortem
    gathered = await report.gather(ctx, incident_id=incident_id)
    assert gathered.skipped == ["scribe"] and gathered.scenario == "bad-model-promotion"

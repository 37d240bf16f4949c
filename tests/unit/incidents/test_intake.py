from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.alerts.models import AlertOccurrence
from bot.alerts.sources import alertmanager
from bot.context import Context
from bot.incidents import flows, intake, service
from bot.incidents.known import Known
from bot.incidents.models import Incident, Status, TimelineEntry
from tests.domain import load_incident
from tests.fakes import FakeClock
from tests.payloads import am_alert, am_notification
from tests.statements import statements

RESOLVED_AT = "2026-11-27T03:20:00Z"


async def receive(ctx: Context, body: dict) -> intake.IntakeResult:  # type: ignore[type-arg]
    return await intake.receive(ctx=ctx, batch=alertmanager.parse(body))


async def snapshot(
    ctx: Context,
) -> tuple[list[tuple[int, str, str]], list[tuple[str, str]], list[str]]:
    async with ctx.sessions() as session:
        incidents = [
            (i.id, i.severity, str(i.updated_at)) for i in await session.scalars(select(Incident))
        ]
        alerts = [(a.fingerprint, a.status) for a in await session.scalars(select(AlertOccurrence))]
        entries = [
            t.kind for t in await session.scalars(select(TimelineEntry).order_by(TimelineEntry.id))
        ]
    return incidents, alerts, entries


async def test_first_notification_opens_an_incident(ctx: Context, clock: FakeClock) -> None:
    result = await receive(ctx, am_notification())
    assert result.opened and result.firing == 1 and result.incident_id == 1
    incident = await load_incident(ctx, 1)
    assert incident.ref == "INC-1"
    assert incident.title == "RankerNDCGDrop on search-ranker"
    assert incident.severity == "SEV1"
    assert incident.service == "search-ranker"
    assert incident.status == Status.INVESTIGATING
    assert incident.runbook_url == "https://runbooks.example.com/ranker/ndcg"
    assert incident.created_at == clock.now
    assert [t.kind for t in incident.timeline] == ["alert.firing", "incident.opened"]
    assert incident.timeline[0].at == datetime(2026, 11, 27, 2, 58, 0, 123456, tzinfo=UTC)


async def test_duplicate_delivery_changes_nothing(ctx: Context, clock: FakeClock) -> None:
    await receive(ctx, am_notification())
    before = await snapshot(ctx)
    clock.advance(seconds=30)
    result = await receive(ctx, am_notification())
    assert not result.changed and result.incident_id == 1
    assert await snapshot(ctx) == before


async def test_a_repeat_says_when_the_chat_set_up_is_done(ctx: Context) -> None:
    first = await receive(ctx, am_notification())
    assert first.opened and not first.chat_done
    assert not (await receive(ctx, am_notification())).chat_done  # no channel yet
    await flows.open_in_chat(ctx=ctx, incident_id=1)
    repeat = await receive(ctx, am_notification())
    assert repeat.chat_done and not repeat.changed


async def test_same_group_updates_the_open_incident(ctx: Context) -> None:
    await receive(ctx, am_notification(am_alert(fingerprint="a1", severity="warning")))
    result = await receive(
        ctx,
        am_notification(
            am_alert(fingerprint="a1", severity="warning"),
            am_alert(fingerprint="a2", severity="critical"),
        ),
    )
    assert not result.opened and result.firing == 1 and result.incident_id == 1
    incidents, alerts, entries = await snapshot(ctx)
    assert len(incidents) == 1
    assert incidents[0][1] == "SEV1"  # a worse alert raised the severity
    assert sorted(alerts) == [("a1", "firing"), ("a2", "firing")]
    assert entries.count("severity.changed") == 1


async def test_other_group_opens_another_incident(ctx: Context) -> None:
    await receive(ctx, am_notification())
    result = await receive(ctx, am_notification(am_alert(fingerprint="b1"), group_key='{}:{x="y"}'))
    assert result.opened and result.incident_id == 2


async def test_all_resolved_is_on_the_timeline_once(ctx: Context) -> None:
    await receive(ctx, am_notification(am_alert(fingerprint="a1"), am_alert(fingerprint="a2")))
    partly = await receive(
        ctx,
        am_notification(
            am_alert(fingerprint="a1", status="resolved", ends_at=RESOLVED_AT),
            am_alert(fingerprint="a2"),
        ),
    )
    assert partly.resolved == 1 and not partly.all_resolved
    resolved = am_notification(
        am_alert(fingerprint="a1", status="resolved", ends_at=RESOLVED_AT),
        am_alert(fingerprint="a2", status="resolved", ends_at=RESOLVED_AT),
    )
    done = await receive(ctx, resolved)
    assert done.resolved == 1 and done.all_resolved == {1}
    again = await receive(ctx, resolved)
    assert not again.changed and not again.all_resolved
    incident = await load_incident(ctx, 1)
    assert [t.kind for t in incident.timeline].count("alerts.all_resolved") == 1
    assert {a.status for a in incident.alerts} == {"resolved"}
    assert incident.alerts[0].ends_at == datetime(2026, 11, 27, 3, 20, tzinfo=UTC)
    assert incident.status == Status.INVESTIGATING  # alerts resolving does not close the incident


async def test_late_firing_copy_of_a_resolved_alert_is_ignored(ctx: Context) -> None:
    await receive(ctx, am_notification())
    await receive(ctx, am_notification(am_alert(status="resolved", ends_at=RESOLVED_AT)))
    before = await snapshot(ctx)
    result = await receive(ctx, am_notification())  # delivered out of order
    assert not result.changed
    assert await snapshot(ctx) == before


async def test_refiring_alert_is_a_new_occurrence(ctx: Context) -> None:
    await receive(ctx, am_notification())
    await receive(ctx, am_notification(am_alert(status="resolved", ends_at=RESOLVED_AT)))
    result = await receive(ctx, am_notification(am_alert(starts_at="2026-11-27T03:40:00Z")))
    assert result.firing == 1 and result.incident_id == 1
    _, alerts, _ = await snapshot(ctx)
    assert alerts == [("3f1c9a7be2d04c11", "resolved"), ("3f1c9a7be2d04c11", "firing")]


async def test_resolved_alerts_of_an_unknown_group_open_nothing(ctx: Context) -> None:
    result = await receive(ctx, am_notification(am_alert(status="resolved", ends_at=RESOLVED_AT)))
    assert result.incident_id is None and result.ignored == 1
    assert await snapshot(ctx) == ([], [], [])


async def test_a_resolved_incident_is_not_reused(ctx: Context) -> None:
    await receive(ctx, am_notification())
    async with ctx.sessions.begin() as session:
        incident = await service.get(session=session, incident_id=1)
        assert incident is not None
        incident.status = Status.RESOLVED
    result = await receive(ctx, am_notification(am_alert(starts_at="2026-11-28T00:00:00Z")))
    assert result.opened and result.incident_id == 2


async def test_concurrent_identical_deliveries_open_one_incident(ctx: Context) -> None:
    results = await asyncio.gather(*(receive(ctx, am_notification()) for _ in range(20)))
    assert sum(r.opened for r in results) == 1
    assert {r.incident_id for r in results} == {1}
    async with ctx.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Incident)) == 1
        assert await session.scalar(select(func.count()).select_from(AlertOccurrence)) == 1


async def test_a_round_writes_its_timeline_rows_and_touches_in_one_statement_each(
    ctx: Context, clock: FakeClock
) -> None:
    own = intake.Intake(ctx=ctx, known=Known())
    groups = [f'{{}}:{{alertname="Round{n}"}}' for n in range(3)]
    for n, group in enumerate(groups):
        await own.receive(alertmanager.parse(am_notification(_alert(n, 0), group_key=group)))
    clock.advance(minutes=1)
    more = [am_notification(_alert(n, 0), _alert(n, 1), group_key=g) for n, g in enumerate(groups)]
    with statements() as said:
        # Queued together: the writer records all three in one round.
        results = await asyncio.gather(*(own.receive(alertmanager.parse(b)) for b in more))
    assert [r.firing for r in results] == [1, 1, 1]
    assert sum(s.startswith("INSERT INTO timeline_entries") for s in said) == 1
    assert sum(s.startswith("UPDATE incidents SET updated_at") for s in said) == 1
    async with ctx.sessions() as session:
        firing = await session.scalars(
            select(TimelineEntry.incident_id).where(TimelineEntry.kind == "alert.firing")
        )
        assert sorted(firing) == [1, 1, 2, 2, 3, 3]
        touched = await session.scalars(select(Incident.updated_at).order_by(Incident.id))
        assert set(touched) == {clock.now}


async def test_a_round_reads_its_groups_and_alerts_in_one_statement_each(ctx: Context) -> None:
    own = intake.Intake(ctx=ctx, known=Known())
    groups = [f'{{}}:{{alertname="Round{n}"}}' for n in range(4)]
    for n, group in enumerate(groups):
        await own.receive(alertmanager.parse(am_notification(_alert(n, 0), group_key=group)))
    more = [am_notification(_alert(n, 0), _alert(n, 1), group_key=g) for n, g in enumerate(groups)]
    with statements() as said:
        # Memory knows the groups and sees a new alert in each: straight to the writer, which
        # records all four in one round.
        results = await asyncio.gather(*(own.receive(alertmanager.parse(b)) for b in more))
    assert [(r.incident_id, r.firing) for r in results] == [(1, 1), (2, 1), (3, 1), (4, 1)]
    assert sum(s.startswith("SELECT alerts.") for s in said) == 1
    assert sum(s.startswith("SELECT incidents.") for s in said) == 1
    assert sum("pg_advisory_xact_lock" in s for s in said) <= 1  # none on SQLite


def _fingerprint(group: int, instance: int) -> str:
    return f"{group:08x}{instance:08x}"


def _alert(group: int, instance: int, **more: str) -> dict:  # type: ignore[type-arg]
    return am_alert(fingerprint=_fingerprint(group, instance), alertname=f"Round{group}", **more)

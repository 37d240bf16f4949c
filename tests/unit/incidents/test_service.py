"""Data access for incidents (bot/incidents/service.py): what only its statements decide."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from bot.alerts.sources import alertmanager
from bot.context import Context
from bot.incidents import intake, service
from bot.incidents.lifecycle import resolve
from bot.incidents.models import Incident
from tests.domain import load_incident
from tests.fakes import FakeClock
from tests.payloads import am_alert, am_notification

BERLIN = timezone(timedelta(hours=1))


async def opened(ctx: Context, n: int) -> Incident:
    """An incident of its own alert group, opened by an alert."""
    alert = am_alert(fingerprint=f"{n:016x}", alertname=f"Touch{n}")
    notification = am_notification(alert, group_key=f'{{}}:{{alertname="Touch{n}"}}')
    result = await intake.receive(ctx=ctx, batch=alertmanager.parse(notification))
    assert result.incident_id is not None and result.opened
    return await load_incident(ctx, result.incident_id)


async def test_touch_sets_updated_at_and_marks_mitigated_only_what_is_neither_yet(
    ctx: Context, clock: FakeClock
) -> None:
    fresh, already, closed, only_touched = [await opened(ctx, n) for n in range(4)]
    earlier = clock.now - timedelta(minutes=10)
    async with ctx.sessions.begin() as session:
        await service.mark_mitigated(session=session, incident_id=already.id, at=earlier)
    await resolve(ctx, incident_id=closed.id, by="U0ANA0001")
    at = datetime(2026, 3, 1, 13, 0, tzinfo=BERLIN)  # any zone in; UTC stored
    async with ctx.sessions.begin() as session:
        await service.touch(
            session=session,
            touched={i.id: at for i in (fresh, already, only_touched)},
            mitigated={i.id: at for i in (fresh, already, closed)},
        )
    stored = {i.id: await load_incident(ctx, i.id) for i in (fresh, already, closed, only_touched)}
    assert stored[fresh.id].mitigated_at == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert stored[already.id].mitigated_at == earlier  # the first moment stays
    assert stored[closed.id].mitigated_at != at  # resolved before: not marked now
    assert stored[only_touched.id].mitigated_at is None
    assert {stored[i.id].updated_at for i in (fresh, already, only_touched)} == {at}
    assert stored[closed.id].updated_at != at  # mitigated only: not touched

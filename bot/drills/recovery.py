"""A drill's alerts stop once responders mitigate: nothing real is there to recover, so the
mitigation reaching the recording target resolves the scenario's alerts, as the real service's
would. The playbook's own `wait_for: alerts_resolved` then finishes as it would in production."""

from __future__ import annotations

from sqlalchemy import select

from bot.alerts import intake
from bot.alerts.models import AlertOccurrence
from bot.alerts.schemas import Alert, AlertBatch, AlertStatus
from bot.context import Context
from bot.incidents import flows
from bot.incidents.models import Incident

MITIGATIONS = {"rollback", "set_mode"}  # step actions that undo a bad change


async def drill_mitigated(ctx: Context, *, incident: Incident) -> None:
    if not incident.drill or incident.group_key is None:
        return
    now = ctx.clock()
    async with ctx.reading() as session:
        firing = (
            await session.scalars(
                select(AlertOccurrence).where(
                    AlertOccurrence.incident_id == incident.id,
                    AlertOccurrence.status == AlertStatus.FIRING,
                )
            )
        ).all()
    if not firing:
        return
    resolved = [
        Alert(
            fingerprint=o.fingerprint,
            status=AlertStatus.RESOLVED,
            labels=dict(o.labels or {}),
            annotations=dict(o.annotations or {}),
            starts_at=o.starts_at,
            ends_at=now,
            generator_url=o.generator_url,
        )
        for o in firing
    ]
    batch = AlertBatch(
        source=incident.source, group_key=incident.group_key, alerts=resolved, drill=True
    )
    result = await intake.receive(ctx=ctx, batch=batch)
    await flows.alerts_changed(
        ctx=ctx, incident_id=incident.id, all_resolved=incident.id in result.all_resolved
    )

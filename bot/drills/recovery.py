"""A drill's alerts stop once responders mitigate: nothing real is there to recover, so the
mitigation reaching the recording target resolves the scenario's alerts, as the real service's
would. The playbook's own `wait_for: alerts_resolved` then finishes as it would in production."""

from __future__ import annotations

from sqlalchemy import select

from bot.alerts.models import AlertOccurrence
from bot.alerts.schemas import Alert, AlertBatch, AlertStatus
from bot.context import Context
from bot.incidents import intake
from bot.incidents.models import Incident
from bot.incidents.reading import load
from bot.playbooks.events import StepConfirmed

MITIGATIONS = {"rollback", "set_mode"}  # step actions that undo a bad change


async def on_step_confirmed(ctx: Context[object], event: StepConfirmed) -> None:
    if event.drill and event.action in MITIGATIONS:
        await drill_mitigated(ctx, incident=await load(ctx, incident_id=event.incident_id))


async def drill_mitigated(ctx: Context[object], *, incident: Incident) -> None:
    """The scenario's firing alerts resolve, through intake as a real service's would."""
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
    await intake.receive(ctx=ctx, batch=batch)

"""Start a drill from a scenario; end it with its report."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path

from bot.changes.flows import receive
from bot.changes.schemas import ChangeEvent
from bot.deploy.recording import DrillTargets
from bot.drills.scenario import Scenario, load
from bot.incidents import flows, intake, reading, service, timeline
from bot.incidents.errors import Refused
from bot.incidents.models import Incident
from bot.incidents.ports import IncidentContext
from bot.mrkdwn import escape
from bot.people import mention

STARTED = "drill.started"  # the timeline entry that carries the scenario's expectations


async def start(
    ctx: IncidentContext, *, drills: DrillTargets, folder: Path, name: str, by: str
) -> Incident:
    scenario = load(folder, name)
    now = ctx.clock()
    # Recorded, not announced: the drill stages its world first and then sets up its channel
    # itself, so the person who started it is invited and its card shows the staged changes.
    result = await intake.record(ctx=ctx, batch=scenario.batch(now=now, nonce=secrets.token_hex(4)))
    if result.incident_id is None or not result.opened:
        raise Refused(
            f"The scenario {escape(repr(name))} has no firing alert to open a drill with."
        )
    incident_id = result.incident_id
    async with ctx.sessions.begin() as session:
        incident = await service.get(session=session, incident_id=incident_id)
        assert incident is not None
        incident.declared_by = by  # invited to the drill's channel with the owners
        await timeline.record(
            session=session,
            incident_id=incident_id,
            kind=STARTED,
            text=f"DRILL started by {mention(by)}: {scenario.name} — {scenario.description}",
            actor=by,
            now=now,
            data={"scenario": scenario.name, "expect": scenario.expect},
        )
    await _stage(ctx, drills, scenario, incident_id, now)
    await flows.open_in_chat(ctx=ctx, incident_id=incident_id)
    return await reading.load(ctx, incident_id=incident_id)


async def _stage(
    ctx: IncidentContext, drills: DrillTargets, scenario: Scenario, incident_id: int, now: datetime
) -> None:
    """The scenario's world: the changes that led to it (seen by this drill alone) and the
    deployment its recording target starts from."""
    for index, change in enumerate(scenario.changes):
        event = ChangeEvent(
            id=f"drill:{incident_id}:{index}",
            time=now - change.ago,
            **change.model_dump(exclude={"ago"}),
        )
        await receive(ctx, event=event, drill_incident_id=incident_id)
    for service_name, deployment in scenario.deployment.items():
        drills.seed(
            incident_id=incident_id,
            service=service_name,
            active_version=deployment.active_version,
            previous=deployment.previous_versions,
        )


async def end(ctx: IncidentContext, *, incident_id: int, by: str) -> Incident:
    from bot.incidents import lifecycle  # resolving a drill posts its report (lifecycle → here)

    incident = await reading.load(ctx, incident_id=incident_id)
    if not incident.drill:
        raise Refused(f"{incident.ref} is not a drill: `/incident resolve` resolves it.")
    return await lifecycle.resolve(ctx, incident_id=incident_id, by=by)

"""Read models of incidents for the JSON API."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from bot.incidents.models import Incident
from bot.incidents.moments import RunRow, moments_of


class IncidentSummary(BaseModel):
    id: str
    number: int
    title: str
    status: str
    severity: str
    service: str | None
    source: str
    channel_id: str | None
    channel_name: str | None
    commander: str | None
    scribe: str | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    alerts: int  # alert occurrences ever recorded
    alerts_firing: int  # of them, still firing
    drill: bool = False  # a rehearsal

    @classmethod
    def of(cls, incident: Incident, alerts: int, firing: int) -> IncidentSummary:
        return cls(
            id=incident.ref,
            number=incident.id,
            title=incident.title,
            status=incident.status,
            severity=incident.severity,
            service=incident.service,
            source=incident.source,
            channel_id=incident.channel_id,
            channel_name=incident.channel_name,
            commander=incident.commander,
            scribe=incident.scribe,
            created_at=incident.created_at,
            updated_at=incident.updated_at,
            resolved_at=incident.resolved_at,
            alerts=alerts,
            alerts_firing=firing,
            drill=incident.drill,
        )


class AlertOut(BaseModel):
    name: str
    status: str
    severity: str
    fingerprint: str
    starts_at: datetime
    ends_at: datetime | None
    labels: dict[str, Any]
    annotations: dict[str, Any]
    generator_url: str | None


class TimelineOut(BaseModel):
    at: datetime
    kind: str
    text: str
    actor: str | None
    link: str | None


class IncidentDetail(IncidentSummary):
    summary: str | None
    description: str | None
    source_url: str | None
    runbook_url: str | None
    declared_by: str | None
    group_key: str | None
    handoff_to: str | None
    # Milestones, as bot.incidents.moments defines them: detected (Firebreak learned of it),
    # acknowledged (the commander acknowledged or first acted), mitigated (impact stopped: the
    # first of a mitigation run's success, status mitigated, every alert resolved), resolved.
    detected_at: datetime
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    last_update_at: datetime | None
    occurrences: list[AlertOut]
    timeline: list[TimelineOut]

    @classmethod
    def full(cls, incident: Incident, runs: Iterable[RunRow] = ()) -> IncidentDetail:
        """With its alerts and timeline loaded; `runs`: its playbook runs (a mitigation's
        success is a moment)."""
        moments = moments_of(
            incident=incident, alerts=incident.alerts, timeline=incident.timeline, runs=runs
        )
        firing = sum(a.status == "firing" for a in incident.alerts)
        base = IncidentSummary.of(incident, len(incident.alerts), firing).model_dump()
        return cls(
            **base,
            summary=incident.summary,
            description=incident.description,
            source_url=incident.source_url,
            runbook_url=incident.runbook_url,
            declared_by=incident.declared_by,
            group_key=incident.group_key,
            handoff_to=incident.handoff_to,
            detected_at=incident.detected_at,
            acknowledged_at=moments.acknowledged,
            mitigated_at=moments.mitigated,
            last_update_at=incident.last_update_at,
            occurrences=[
                AlertOut(
                    name=a.name,
                    status=a.status,
                    severity=a.severity,
                    fingerprint=a.fingerprint,
                    starts_at=a.starts_at,
                    ends_at=a.ends_at,
                    labels=a.labels,
                    annotations=a.annotations,
                    generator_url=a.generator_url,
                )
                for a in incident.alerts
            ],
            timeline=[
                TimelineOut(at=t.at, kind=t.kind, text=t.text, actor=t.actor, link=t.link)
                for t in incident.timeline
            ],
        )

"""PagerDuty v3 webhooks ("Generic Webhooks (v3)"): one event per body.

Shapes from PagerDuty's developer docs, docs/webhooks/01-Overview.md (the `event` envelope,
the `incident` and `incident_note` data types, the event type list) and
docs/webhooks/04-Signatures.md (the signature), in github.com/PagerDuty/developer-docs.
One PagerDuty incident is one alert group holding one alert, both keyed by the incident id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.alerts.schemas import (
    Alert,
    AlertBatch,
    AlertStatus,
    Ignored,
    Notification,
    SourceNote,
)
from bot.alerts.sources.common import AwareTime
from bot.alerts.sources.errors import BadSignature
from bot.config import PagerDutyConfig

SOURCE = "pagerduty"

TRIGGERED = "incident.triggered"
REOPENED = "incident.reopened"
RESOLVED = "incident.resolved"
ACKNOWLEDGED = "incident.acknowledged"
REASSIGNED = "incident.reassigned"
ANNOTATED = "incident.annotated"
NOTE_KINDS = {
    ACKNOWLEDGED: "pagerduty.acknowledged",
    REASSIGNED: "pagerduty.reassigned",
    ANNOTATED: "pagerduty.annotated",
}


class _Wire(BaseModel):
    # PagerDuty adds fields over time ("additional event types may be added"): read ours only.
    model_config = ConfigDict(extra="ignore")


class Reference(_Wire):
    """A *_reference object (user, service, priority, team…): id, type, summary, self,
    html_url."""

    id: str | None = None
    summary: str | None = None
    html_url: str | None = None


class IncidentReference(_Wire):
    id: str = Field(min_length=1, max_length=128)  # alerts.fingerprint holds 128
    html_url: str | None = None


class Incident(IncidentReference):
    """`event.data` when its type is `incident`."""

    title: str = Field(min_length=1)
    created_at: AwareTime
    reopened_at: AwareTime | None = None
    urgency: str | None = None
    priority: Reference | None = None  # null on accounts without priorities
    service: Reference | None = None
    assignees: list[Reference] = Field(default_factory=list)


class IncidentNote(_Wire):
    """`event.data` when its type is `incident_note` (incident.annotated)."""

    incident: IncidentReference
    content: str
    trimmed: bool = False  # PagerDuty cut a long note short


class _Event(_Wire):
    id: str = Field(min_length=1, max_length=200)
    event_type: str = Field(min_length=1, max_length=200)
    occurred_at: AwareTime
    agent: Reference | None = None  # null when PagerDuty itself acted


class IncidentEvent(_Event):
    data: Incident


class NoteEvent(_Event):
    data: IncidentNote


class _Head(_Wire):
    event_type: str = Field(min_length=1, max_length=200)
    data: Any = None  # kept raw: config.service_field may name any of its fields


class Head(_Wire):
    event: _Head


class IncidentBody(_Wire):
    event: IncidentEvent


class NoteBody(_Wire):
    event: NoteEvent


def parse(body: Any, *, config: PagerDutyConfig) -> Notification:
    """Raises pydantic.ValidationError naming the field at fault. The event type is read
    first, so that only the fields its data type carries are asked for."""
    head = Head.model_validate(body).event
    kind = head.event_type
    if kind in (TRIGGERED, REOPENED, RESOLVED):
        service = _dotted(head.data, config.service_field)
        return _batch(IncidentBody.model_validate(body).event, service=service)
    if kind in (ACKNOWLEDGED, REASSIGNED):
        return _incident_note(IncidentBody.model_validate(body).event)
    if kind == ANNOTATED:
        return _annotation(NoteBody.model_validate(body).event)
    return Ignored(source=SOURCE, reason=f"{kind} is not acted on")


def _batch(event: IncidentEvent, *, service: str | None) -> AlertBatch:
    incident = event.data
    resolved = event.event_type == RESOLVED
    labels = _labels(incident)
    annotations = {"summary": incident.title}
    alert = Alert(
        fingerprint=incident.id,
        status=AlertStatus.RESOLVED if resolved else AlertStatus.FIRING,
        labels=labels,
        annotations=annotations,
        starts_at=_started(event),
        ends_at=event.occurred_at if resolved else None,
        generator_url=incident.html_url or None,
    )
    return AlertBatch(
        source=SOURCE,
        group_key=incident.id,
        alerts=[alert],
        common_labels=labels,
        common_annotations=annotations,
        external_url=incident.html_url or None,
        title=incident.title,
        keyed=True,
        service=service,
        severity=_severity(incident),
    )


def _started(event: IncidentEvent) -> datetime:
    """A reopened incident is a new occurrence (the earlier one's resolution is final): it
    starts when it was reopened. PagerDuty may leave reopened_at out of a reopened event; the
    event's own time is then the reopening."""
    incident = event.data
    if event.event_type == REOPENED:
        return incident.reopened_at or event.occurred_at
    return incident.reopened_at or incident.created_at


def _severity(incident: Incident) -> str | None:
    # Priorities (P1…) are finer than urgency (high/low) but exist only where an account
    # turned them on.
    priority = incident.priority.summary if incident.priority else None
    return priority or incident.urgency or None


def _labels(incident: Incident) -> dict[str, str]:
    candidates = {
        "alertname": incident.title,
        "urgency": incident.urgency,
        "priority": incident.priority.summary if incident.priority else None,
        "pagerduty_service": incident.service.summary if incident.service else None,
    }
    return {k: v for k, v in candidates.items() if v}


def _dotted(data: Any, path: str) -> str | None:
    """The value at a dotted path such as service.summary (a number steps into a list, as in
    teams.0.summary), if it is a non-empty string or a number."""
    value = data
    for step in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value).strip() or None


def _incident_note(event: IncidentEvent) -> SourceNote:
    incident = event.data
    if event.event_type == ACKNOWLEDGED:
        text = "Acknowledged in PagerDuty" + _by(event)
    else:
        names = ", ".join(a.summary for a in incident.assignees if a.summary)
        text = "Reassigned in PagerDuty" + (f" to {names}" if names else "") + _by(event)
    return _note(event, group_key=incident.id, text=text, link=incident.html_url)


def _annotation(event: NoteEvent) -> SourceNote:
    note = event.data
    # Say so when PagerDuty cut the note: the timeline must not pass a part off as the whole.
    content = note.content + (" […]" if note.trimmed else "")
    text = f"Note in PagerDuty{_by(event)}: {content}"
    return _note(event, group_key=note.incident.id, text=text, link=note.incident.html_url)


def _by(event: _Event) -> str:
    return f" by {event.agent.summary}" if event.agent and event.agent.summary else ""


def _note(event: _Event, *, group_key: str, text: str, link: str | None) -> SourceNote:
    return SourceNote(
        source=SOURCE,
        group_key=group_key,
        event_id=event.id,
        kind=NOTE_KINDS[event.event_type],
        text=text,
        at=event.occurred_at,
        link=link or None,
    )


SIGNATURE_HEADER = "X-PagerDuty-Signature"


def check_signature(headers: Mapping[str, str], raw: bytes, secret: str, *, now: float) -> None:
    """The header holds comma-separated `v1=<hex HMAC-SHA256 of the raw body>` entries, one per
    signing secret while secrets rotate: one matching entry is enough. PagerDuty signs no time,
    so `now` goes unused (every verifier takes it); notes are kept once per event id, so a
    replayed body adds nothing."""
    del now
    given = headers.get(SIGNATURE_HEADER, "").strip()
    if not given:
        raise BadSignature(f"missing {SIGNATURE_HEADER} header")
    entries = [entry.strip().partition("=") for entry in given.split(",")]
    # Other versions are PagerDuty's future schemes: skipped, as its docs ask.
    v1 = [value.strip().lower() for version, _, value in entries if version == "v1"]
    if not v1:
        raise BadSignature(f"{SIGNATURE_HEADER} has no v1 signature")
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest().encode()
    # compare_digest: the time taken must not reveal how much of a signature matched.
    if not any(hmac.compare_digest(value.encode(), expected) for value in v1):
        raise BadSignature(f"no {SIGNATURE_HEADER} v1 signature matches the body")


def sample(*, service: str, started_at: datetime, resolved_at: datetime | None) -> dict[str, Any]:
    """An incident.triggered body (incident.resolved when resolved_at is given) for `service`,
    named in service.summary (the default service_field). The incident id is derived from the
    service so that a sample's resolution resolves that sample's incident."""
    incident_id = "P" + base64.b32encode(hashlib.sha256(service.encode()).digest()).decode()[:6]
    at = resolved_at or started_at
    kind = RESOLVED if resolved_at else TRIGGERED
    url = f"https://example.pagerduty.com/incidents/{incident_id}"
    return {
        "event": {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{url}#{kind}@{_iso(at)}")),
            "event_type": kind,
            "resource_type": "incident",
            "occurred_at": _iso(at),
            "agent": None,
            "client": None,
            "data": {
                "id": incident_id,
                "type": "incident",
                "html_url": url,
                "status": "resolved" if resolved_at else "triggered",
                "created_at": _iso(started_at),
                "title": f"Sample alert on {service}",
                "service": {"id": "PSAMPLE", "summary": service, "type": "service_reference"},
                "assignees": [],
                "priority": None,
                "urgency": "high",
            },
        }
    }


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")

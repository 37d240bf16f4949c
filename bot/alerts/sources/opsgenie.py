"""Opsgenie's outgoing Webhook integration: one alert action per body.

Shapes from Opsgenie's "Webhook Integration" and "Alert action data" docs
(docs.opsgenie.com/docs/webhook-integration, docs.opsgenie.com/docs/marid-alert-action-data,
now support.atlassian.com/opsgenie/docs/integrate-opsgenie-with-webhook/), checked against
the fixtures of an open-source receiver (zulip/zulip, zerver/webhooks/opsgenie/fixtures/).
One Opsgenie alias is one alert group holding one alert. Opsgenie signs nothing: the webhook
is protected by the bearer token set as one of the integration's custom headers.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from bot.alerts.schemas import (
    Alert,
    AlertBatch,
    AlertStatus,
    Ignored,
    Notification,
    SourceNote,
)
from bot.config import OpsgenieConfig

SOURCE = "opsgenie"

CREATE = "Create"
CLOSE = "Close"
ACKNOWLEDGE = "Acknowledge"
ADD_NOTE = "AddNote"
ESCALATE = "Escalate"
NOTE_KINDS = {
    ACKNOWLEDGE: "opsgenie.acknowledged",
    ADD_NOTE: "opsgenie.note",
    ESCALATE: "opsgenie.escalated",
}

FINGERPRINT_MAX = 128  # alerts.fingerprint; an alias may be up to 512 characters

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Opsgenie sends createdAt in milliseconds but updatedAt in nanoseconds (both in its docs'
# sample and in captured bodies), where a third-party description says milliseconds for
# both: the unit is read from the magnitude. (upper bound, units per second): each bound is
# the year 5138 in its unit and 1973 in the next one.
_UNITS = ((10**11, 1), (10**14, 10**3), (10**17, 10**6), (10**20, 10**9))


# Kept as sent (an event id's hash reads updatedAt to the nanosecond) and read as a time by
# _time. Strict: a string, a float or a bool is no Opsgenie time.
Epoch = Annotated[int, Field(strict=True, gt=0, lt=_UNITS[-1][0])]


def _time(value: int) -> datetime:
    per_second = next(per for bound, per in _UNITS if value < bound)
    return _EPOCH + timedelta(microseconds=value * 10**6 // per_second)


def _priority(value: Any) -> Any:
    # Older bodies carry the priority as a bare number (3 for P3).
    return f"P{value}" if isinstance(value, int) and not isinstance(value, bool) else value


class _Wire(BaseModel):
    # Opsgenie's bodies vary by action and grow fields (alertFlowContext…): read ours only.
    model_config = ConfigDict(extra="ignore")


class Source(_Wire):
    """Who or what acted: {"name": "web", "type": "API"}, {"name": "", "type": "web"}…"""

    name: str | None = None
    type: str | None = None


class EscalationTarget(_Wire):
    id: str | None = None
    name: str | None = None
    type: str | None = None


class _AlertFields(_Wire):
    alertId: str = Field(min_length=1, max_length=200)
    alias: str | None = Field(None, max_length=512)
    tinyId: str | None = None
    tags: list[str] = Field(default_factory=list)
    entity: str | None = None
    username: str | None = None
    # Description and details come only with Create (and custom actions), when the
    # integration's "Add Alert Description/Details to Payload" boxes are ticked.
    description: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    priority: Annotated[str | None, BeforeValidator(_priority)] = Field(None, max_length=40)
    updatedAt: Epoch | None = None


class FiringAlert(_AlertFields):
    """`alert` of Create and Close: the fields an alert is made of."""

    message: str = Field(min_length=1)
    createdAt: Epoch


class ActionAlert(_AlertFields):
    """`alert` of the other actions: Escalate sends little more than the alertId."""

    message: str | None = None
    createdAt: Epoch | None = None
    note: str | None = None


class NotedAlert(ActionAlert):
    note: str  # AddNote's reason for being


class _Body(_Wire):
    action: str = Field(min_length=1, max_length=200)
    source: Source | None = None
    # Escalate's own fields (zulip/zulip fixtures/escalate.json).
    escalationId: str | None = None
    escalationName: str | None = None
    escalationNotify: EscalationTarget | None = None
    escalationTime: int | None = None
    repeatCount: int | None = None


class Head(_Wire):
    action: str = Field(min_length=1, max_length=200)


class AlertBody(_Body):
    alert: FiringAlert


class ActionBody(_Body):
    alert: ActionAlert


class NoteBody(_Body):
    alert: NotedAlert


def parse(body: Any, *, config: OpsgenieConfig) -> Notification:
    """Raises pydantic.ValidationError naming the field at fault. The action is read first,
    so that only the fields that action carries are asked for."""
    action = Head.model_validate(body).action
    if action in (CREATE, CLOSE):
        return _batch(AlertBody.model_validate(body), config=config)
    if action in (ACKNOWLEDGE, ESCALATE):
        return _note(ActionBody.model_validate(body))
    if action == ADD_NOTE:
        return _note(NoteBody.model_validate(body))
    return Ignored(source=SOURCE, reason=f"{action} is not acted on")


def _key(alert: _AlertFields) -> str:
    # The alias is what Opsgenie deduplicates on (one open alert per alias). An alert created
    # without one gets its alertId as alias (the Alert API's request-status sample shows so).
    return alert.alias or alert.alertId


def _fingerprint(key: str) -> str:
    if len(key) <= FINGERPRINT_MAX:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _batch(body: AlertBody, *, config: OpsgenieConfig) -> AlertBatch:
    alert = body.alert
    closed = body.action == CLOSE
    key = _key(alert)
    labels = _labels(alert)
    annotations = {"summary": alert.message}
    if alert.description:
        annotations["description"] = alert.description
    normalised = Alert(
        fingerprint=_fingerprint(key),
        status=AlertStatus.RESOLVED if closed else AlertStatus.FIRING,
        labels=labels,
        annotations=annotations,
        starts_at=_time(alert.createdAt),
        # updatedAt of a Close is when it was closed. Without it the time it is received
        # stands in (ends_at None): createdAt would claim the alert never fired at all.
        ends_at=_time(alert.updatedAt) if closed and alert.updatedAt is not None else None,
    )
    return AlertBatch(
        source=SOURCE,
        group_key=key,
        alerts=[normalised],
        common_labels=labels,
        common_annotations=annotations,
        title=alert.message,
        keyed=True,
        service=_service(alert, tag=config.service_tag),
        severity=alert.priority or None,
    )


def _labels(alert: FiringAlert) -> dict[str, str]:
    candidates = {
        "alertname": alert.message,
        "priority": alert.priority,
        "entity": alert.entity,
        "tiny_id": alert.tinyId,
    }
    return {k: v for k, v in candidates.items() if v}


def _service(alert: FiringAlert, *, tag: str) -> str | None:
    """Tag "<tag>:<name>", else details[<tag>], else the entity (what the alert is about)."""
    prefix = f"{tag}:"
    tagged = (t[len(prefix) :].strip() for t in alert.tags if t.startswith(prefix))
    detail = alert.details.get(tag)
    candidates = [
        *tagged,
        detail.strip() if isinstance(detail, str) else None,
        (alert.entity or "").strip(),
    ]
    return next((c for c in candidates if c), None)


def _note(body: ActionBody | NoteBody) -> SourceNote:
    alert = body.alert
    return SourceNote(
        source=SOURCE,
        group_key=_key(alert),
        event_id=_event_id(body),
        kind=NOTE_KINDS[body.action],
        text=_text(body),
        at=None if alert.updatedAt is None else _time(alert.updatedAt),
    )


def _text(body: ActionBody | NoteBody) -> str:
    if body.action == ESCALATE:
        target = body.escalationNotify.name if body.escalationNotify else None
        rule = f" (escalation {body.escalationName})" if body.escalationName else ""
        return "Escalated in Opsgenie" + (f" to {target}" if target else "") + rule
    who = body.alert.username or (body.source.name if body.source else None)
    by = f" by {who}" if who else ""
    if body.action == ADD_NOTE:
        return f"Note in Opsgenie{by}: {body.alert.note}"
    return f"Acknowledged in Opsgenie{by}"


def _event_id(body: ActionBody | NoteBody) -> str:
    """Opsgenie sends no event id, and retries a delivery with the same body: the id is a hash
    of what tells one action from another (updatedAt moves with every action; Escalate has
    none, but its rule, target and repeat count tell its steps apart)."""
    alert = body.alert
    target = body.escalationNotify.id if body.escalationNotify else None
    parts = [
        body.action,
        alert.alertId,
        alert.updatedAt,
        alert.note,
        body.escalationId,
        target,
        body.escalationTime,
        body.repeatCount,
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def sample(*, service: str, started_at: datetime, resolved_at: datetime | None) -> dict[str, Any]:
    """A Create body (Close when resolved_at is given) tagged service:<service>, with an alias
    and alertId derived from the service so that a sample's Close closes that sample's alert.
    Times go in Opsgenie's units: createdAt in milliseconds (so finer times are cut),
    updatedAt in nanoseconds."""
    alias = f"firebreak-sample-{service}"
    at = resolved_at or started_at
    return {
        "action": CLOSE if resolved_at else CREATE,
        "alert": {
            "alertId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"opsgenie:{alias}")),
            "message": f"Sample alert on {service}",
            "tags": [f"service:{service}", "firebreak-sample"],
            "tinyId": "1",
            "entity": service,
            "alias": alias,
            "createdAt": _to_epoch(started_at, per_second=10**3),
            "updatedAt": _to_epoch(at, per_second=10**9),
            "username": "System",
            "userId": "",
            "description": "A sample alert sent to try the Opsgenie webhook.",
            "details": {},
            "priority": "P3",
        },
        "source": {"name": "firebreak", "type": "API"},
        "integrationName": "Webhook",
        "integrationType": "Webhook",
    }


def _to_epoch(at: datetime, *, per_second: int) -> int:
    micros = (at - _EPOCH) // timedelta(microseconds=1)
    return micros * per_second // 10**6

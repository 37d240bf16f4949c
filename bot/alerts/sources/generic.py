"""A small generic webhook for senders that are neither Alertmanager nor Grafana.

Body: {"dedup_key": "...", "title": "...", "status": "firing"|"resolved", "service": "...",
"severity": "critical", "description": "...", "source_url": "...", "runbook_url": "...",
"labels": {...}, "started_at": RFC 3339}. One dedup_key is one alert group and one alert.
Fields it does not know are ignored (senders add their own); without started_at the alert is
taken as starting when received, and its repeats are the same alert while it fires.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.alerts.schemas import Alert, AlertBatch, AlertStatus
from bot.alerts.sources.common import AwareTime
from bot.alerts.sources.errors import Unreadable

SOURCE = "generic"


class GenericAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    dedup_key: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=300)
    status: Literal["firing", "resolved"] = "firing"
    service: str | None = Field(None, max_length=200)
    severity: str | None = Field(None, max_length=40)
    description: str | None = Field(None, max_length=10_000)
    source_url: str | None = Field(None, max_length=2_000)
    runbook_url: str | None = Field(None, max_length=2_000)
    labels: dict[str, str] = Field(default_factory=dict)
    started_at: AwareTime | None = Field(
        None, description="when the problem started (default: when received)"
    )
    ended_at: AwareTime | None = None


def parse(body: Any, *, received: Callable[[], datetime] | None = None) -> AlertBatch:
    """Raises pydantic.ValidationError naming the field at fault; without `received` (a
    replayed drill), started_at is required."""
    note = GenericAlert.model_validate(body)
    if note.started_at is None and received is None:
        raise Unreadable(field="started_at", expression="started_at", reason="Field required")
    starts_at = note.started_at or (received() if received else None)
    assert starts_at is not None
    labels = {"alertname": note.title, **note.labels}
    if note.service:
        labels.setdefault("service", note.service)
    if note.severity:
        labels.setdefault("severity", note.severity)
    annotations = {
        k: v
        for k, v in (
            ("summary", note.title),
            ("description", note.description),
            ("runbook_url", note.runbook_url),
        )
        if v
    }
    alert = Alert(
        fingerprint=note.dedup_key,
        status=AlertStatus(note.status),
        labels=labels,
        annotations=annotations,
        starts_at=starts_at,
        ends_at=note.ended_at if note.status == "resolved" else None,
        generator_url=note.source_url,
    )
    return AlertBatch(
        source=SOURCE,
        group_key=note.dedup_key,
        alerts=[alert],
        common_labels=labels,
        common_annotations=annotations,
        external_url=note.source_url,
        title=note.title,
        keyed=note.started_at is None,
    )

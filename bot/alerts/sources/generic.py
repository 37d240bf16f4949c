"""A small generic webhook for senders that are neither Alertmanager nor Grafana.

Body: {"dedup_key": "...", "title": "...", "status": "firing"|"resolved", "service": "...",
"severity": "critical", "description": "...", "source_url": "...", "runbook_url": "...",
"labels": {...}, "started_at": RFC 3339}. One dedup_key is one alert group and one alert.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.alerts.schemas import Alert, AlertBatch, AlertStatus

SOURCE = "generic"


class GenericAlert(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dedup_key: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=300)
    status: Literal["firing", "resolved"] = "firing"
    service: str | None = Field(None, max_length=200)
    severity: str | None = Field(None, max_length=40)
    description: str | None = Field(None, max_length=10_000)
    source_url: str | None = Field(None, max_length=2_000)
    runbook_url: str | None = Field(None, max_length=2_000)
    labels: dict[str, str] = Field(default_factory=dict)
    started_at: datetime = Field(description="when the problem started; one occurrence per value")
    ended_at: datetime | None = None

    @field_validator("started_at", "ended_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("time must carry a zone (RFC 3339, e.g. 2026-11-27T03:00:00Z)")
        return value.astimezone(UTC) if value else None


def parse(body: Any) -> AlertBatch:
    note = GenericAlert.model_validate(body)
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
        starts_at=note.started_at,
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
    )

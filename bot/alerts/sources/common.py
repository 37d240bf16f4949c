"""Wire fields shared by Alertmanager (v4) and Grafana unified alerting (v1) notifications."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.alerts.schemas import Alert, AlertStatus

# Alertmanager zeroes endsAt of firing alerts: "0001-01-01T00:00:00Z".
_ZERO_YEAR = 1


class WireAlert(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime
    endsAt: datetime | None = None
    generatorURL: str | None = None
    fingerprint: str = Field(min_length=1, max_length=128)

    @field_validator("startsAt", "endsAt")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("time must carry a zone (RFC 3339, e.g. 2026-11-27T03:00:00Z)")
        return value.astimezone(UTC)

    def normalise(self) -> Alert:
        ends = self.endsAt
        if ends is not None and ends.year == _ZERO_YEAR:
            ends = None
        return Alert(
            fingerprint=self.fingerprint,
            status=AlertStatus(self.status),
            labels=dict(self.labels),
            annotations=dict(self.annotations),
            starts_at=self.startsAt,
            ends_at=ends if self.status == AlertStatus.RESOLVED else None,
            generator_url=self.generatorURL or None,
        )


class WireGroup(BaseModel):
    """The template.Data body both senders post."""

    model_config = ConfigDict(extra="allow")

    receiver: str = ""
    status: Literal["firing", "resolved"]
    alerts: list[WireAlert] = Field(min_length=1)
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str | None = None
    groupKey: str = Field(min_length=1, max_length=10_000)
    truncatedAlerts: int = Field(0, ge=0)

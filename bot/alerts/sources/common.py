"""Wire fields shared by Alertmanager (v4) and Grafana unified alerting (v1) notifications."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from bot.alerts.schemas import Alert, AlertStatus


def _aware(value: datetime) -> datetime:
    # A time without a zone could be any of 24 instants: refuse it rather than guess.
    if value.tzinfo is None:
        raise ValueError("time must carry a zone (RFC 3339, e.g. 2026-11-27T03:00:00Z)")
    return value.astimezone(UTC)


# A sender's time, in UTC; one without a zone is refused (every source's wire models use it).
AwareTime = Annotated[datetime, AfterValidator(_aware)]

# Alertmanager zeroes endsAt of firing alerts: "0001-01-01T00:00:00Z".
_ZERO_YEAR = 1

# 64-bit FNV-1a, and the byte between label names and values, of prometheus/common's
# model.LabelSet.Fingerprint (model/signature.go, model/fnv.go).
_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_SEPARATOR = b"\xff"


def fingerprint(labels: dict[str, str]) -> str:
    """The fingerprint Alertmanager gives an alert with these labels: FNV-1a over the labels
    sorted by name, each name and value followed by 0xff, as 16 hex digits."""
    digest = _FNV_OFFSET
    for name in sorted(labels):
        for byte in name.encode() + _SEPARATOR + labels[name].encode() + _SEPARATOR:
            digest = ((digest ^ byte) * _FNV_PRIME) & 0xFFFF_FFFF_FFFF_FFFF
    return f"{digest:016x}"


class WireAlert(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: AwareTime
    endsAt: AwareTime | None = None
    generatorURL: str | None = None
    # Alertmanager before 0.19 sends none: then derived from the labels, as Alertmanager does.
    fingerprint: str | None = Field(None, min_length=1, max_length=128)

    def normalise(self) -> Alert:
        ends = self.endsAt
        if ends is not None and ends.year == _ZERO_YEAR:
            ends = None
        return Alert(
            fingerprint=self.fingerprint or fingerprint(self.labels),
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

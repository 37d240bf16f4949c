"""The one internal shape every alert source is normalised into."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Alert:
    fingerprint: str
    status: AlertStatus
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None  # None while firing
    generator_url: str | None = None

    @property
    def name(self) -> str:
        return self.labels.get("alertname") or self.annotations.get("summary") or self.fingerprint


@dataclass(frozen=True)
class AlertBatch:
    """One notification about one alert group: the whole current group, not a delta."""

    source: str
    group_key: str
    alerts: list[Alert]
    common_labels: dict[str, str] = field(default_factory=dict)
    common_annotations: dict[str, str] = field(default_factory=dict)
    external_url: str | None = None
    truncated_alerts: int = 0
    title: str | None = None  # when the sender names the group itself (generic webhooks)
    drill: bool = False  # a drill's replayed scenario: the incident it opens is a drill

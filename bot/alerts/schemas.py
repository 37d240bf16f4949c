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
    # The sender names an alert by its key alone, and its start time may differ from one
    # notification to the next (PagerDuty, Opsgenie, Datadog…): while an alert of that key
    # fires, a notification about it is about that occurrence, whatever start it gives.
    keyed: bool = False
    service: str | None = None  # the sender says which service outright (over the labels)
    severity: str | None = None  # the sender's severity or priority (over the labels)


@dataclass(frozen=True)
class SourceNote:
    """Something a sender says about an alert group's incident that is not an alert firing or
    resolving: PagerDuty's "acknowledged", Opsgenie's "AddNote"… It goes on the timeline of
    the group's open incident, once per `event_id` (senders retry)."""

    source: str
    group_key: str
    event_id: str
    kind: str  # the timeline entry's kind, e.g. "pagerduty.acknowledged"
    text: str  # plain text; escaped wherever it is shown
    at: datetime | None = None
    link: str | None = None


@dataclass(frozen=True)
class Ignored:
    """A notification accepted and deliberately not acted on (an event type Firebreak has no
    use for), with the reason given back to the sender."""

    source: str
    reason: str


@dataclass(frozen=True)
class SubscriptionRequest:
    """Amazon SNS asks whether this endpoint wants a topic's messages: confirmed by fetching
    `subscribe_url` (logged for a person to open, fetched only when the source says so)."""

    source: str
    topic: str
    subscribe_url: str


# What one webhook body is about, after parsing.
Notification = AlertBatch | SourceNote | Ignored | SubscriptionRequest

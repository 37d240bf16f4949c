"""What an alert group means for an incident: its service, severity and title."""

from __future__ import annotations

from bot.alerts.schemas import Alert, AlertBatch, AlertStatus
from bot.config import AlertsConfig
from bot.severity import Severity

SERVICE_MAX = 200


def alert_severity(alert: Alert, batch: AlertBatch, rules: AlertsConfig) -> Severity:
    value = (
        batch.severity
        or alert.labels.get(rules.severity_label)
        or batch.common_labels.get(rules.severity_label)
    )
    return rules.severity_for(value)


def group_severity(batch: AlertBatch, rules: AlertsConfig) -> Severity:
    """The worst severity among firing alerts (all alerts when none is firing)."""
    firing = [a for a in batch.alerts if a.status == AlertStatus.FIRING] or batch.alerts
    return Severity.worst([alert_severity(a, batch, rules) for a in firing], rules.default_severity)


def group_service(batch: AlertBatch, rules: AlertsConfig) -> str | None:
    """The service the sender names (read through alerts.service_map), else the label's."""
    label = rules.service_label
    values = [
        batch.service,
        batch.common_labels.get(label),
        *(a.labels.get(label) for a in batch.alerts),
    ]
    named = next((v for v in values if v), None)
    if named is None:
        return None
    # A label may hold anything; a service name is what fits the column (longer matches nothing).
    return rules.service_map.get(named, named)[:SERVICE_MAX]


def group_title(batch: AlertBatch) -> str:
    if batch.title:
        return batch.title[:300]
    summaries = {a.annotations.get("summary") for a in batch.alerts}
    summary = batch.common_annotations.get("summary") or (
        summaries.pop() if len(summaries) == 1 else None
    )
    if summary:
        return summary[:300]
    names = list(dict.fromkeys(a.name for a in batch.alerts))
    title = names[0] if len(names) == 1 else f"{names[0]} (+{len(names) - 1} more)"
    return title[:300]


def first_annotation(batch: AlertBatch, key: str) -> str | None:
    if batch.common_annotations.get(key):
        return batch.common_annotations[key]
    return next((a.annotations[key] for a in batch.alerts if a.annotations.get(key)), None)

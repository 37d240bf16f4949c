"""Prometheus Alertmanager webhook notifications (payload version 4)."""

from __future__ import annotations

from typing import Any, Literal

from bot.alerts.schemas import AlertBatch
from bot.alerts.sources.common import WireGroup

SOURCE = "alertmanager"


class AlertmanagerNotification(WireGroup):
    version: Literal["4"]


def parse(body: Any) -> AlertBatch:
    """Raises pydantic.ValidationError naming the field at fault."""
    note = AlertmanagerNotification.model_validate(body)
    return AlertBatch(
        source=SOURCE,
        group_key=note.groupKey,
        alerts=[a.normalise() for a in note.alerts],
        common_labels=note.commonLabels,
        common_annotations=note.commonAnnotations,
        external_url=note.externalURL or None,
        truncated_alerts=note.truncatedAlerts,
    )

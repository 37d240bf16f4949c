"""Grafana-managed (unified) alerting webhook notifications (version 1)."""

from __future__ import annotations

from typing import Any, Literal

from bot.alerts.schemas import AlertBatch
from bot.alerts.sources.common import WireGroup

SOURCE = "grafana"


class GrafanaNotification(WireGroup):
    version: Literal["1"]
    orgId: int | None = None
    title: str | None = None  # deprecated by Grafana; we title incidents from labels instead


def parse(body: Any) -> AlertBatch:
    """Raises pydantic.ValidationError naming the field at fault."""
    note = GrafanaNotification.model_validate(body)
    return AlertBatch(
        # groupKey is opaque and Grafana's may collide with another org's: keep orgs apart.
        source=SOURCE,
        group_key=f"org{note.orgId}:{note.groupKey}" if note.orgId is not None else note.groupKey,
        alerts=[a.normalise() for a in note.alerts],
        common_labels=note.commonLabels,
        common_annotations=note.commonAnnotations,
        external_url=note.externalURL or None,
        truncated_alerts=note.truncatedAlerts,
    )

"""Prometheus Alertmanager webhook notifications (payload version 4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from bot.alerts.schemas import AlertBatch
from bot.alerts.sources.common import WireGroup, fingerprint

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


ZERO_TIME = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt of a firing alert


def notification(
    *,
    labels: dict[str, str],
    annotations: dict[str, str],
    starts_at: datetime,
    ends_at: datetime | None,
    group_by: tuple[str, ...] = ("alertname", "service"),
    receiver: str = "firebreak",
    external_url: str = "http://127.0.0.1:9093",
    generator_url: str | None = None,
) -> dict[str, Any]:
    """The webhook body Alertmanager sends for a group of one alert: firing, or resolved at
    `ends_at`. For drills and demos; the inverse of `parse`."""
    status = "firing" if ends_at is None else "resolved"
    group = {k: labels[k] for k in group_by if k in labels}
    pairs = ", ".join(f'{k}="{v}"' for k, v in sorted(group.items()))
    return {
        "version": "4",
        "groupKey": f"{{}}:{{{pairs}}}",
        "truncatedAlerts": 0,
        "status": status,
        "receiver": receiver,
        "groupLabels": group,
        "commonLabels": dict(labels),
        "commonAnnotations": dict(annotations),
        "externalURL": external_url,
        "alerts": [
            {
                "status": status,
                "labels": dict(labels),
                "annotations": dict(annotations),
                "startsAt": _rfc3339(starts_at),
                "endsAt": ZERO_TIME if ends_at is None else _rfc3339(ends_at),
                "generatorURL": generator_url or "",
                "fingerprint": fingerprint(labels),
            }
        ],
    }


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

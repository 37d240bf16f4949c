"""Test alerts on demand: the notification Alertmanager would send when a quality alert on a
configured service fires (and later resolves), posted to the bot's own webhook. Behind the
local page's "Fire test alert" menu and the demo's fallback when Prometheus is not installed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from bot.alerts.sources import alertmanager
from bot.config import FirebreakConfig
from bot.context import utcnow

ALERTNAME = "ModelQualityDrop"
SHOWN_BODY_CHARS = 200


def sample_notification(
    config: FirebreakConfig, service: str, *, starts_at: datetime, ends_at: datetime | None
) -> dict[str, Any]:
    """An Alertmanager v4 notification of `service`'s quality alert, with the labels this
    config reads (service and severity label names)."""
    svc = config.services[service]
    labels = {
        "alertname": ALERTNAME,
        config.alerts.service_label: service,
        config.alerts.severity_label: "critical",
    }
    annotations = {
        "summary": f"{service}: model quality dropped (test alert)",
        "description": f"{svc.description or service}: the quality signal is below its threshold.",
    }
    if svc.runbook_url:
        annotations["runbook_url"] = svc.runbook_url
    return alertmanager.notification(
        labels=labels,
        annotations=annotations,
        starts_at=starts_at,
        ends_at=ends_at,
        group_by=("alertname", config.alerts.service_label),
        generator_url="http://127.0.0.1:9090/graph?g0.expr=model_click_through_rate",
    )


class SampleAlerts:
    """Fires and resolves one test alert per configured service at `webhook_url`, with the
    bearer token the webhook requires (if any)."""

    def __init__(
        self,
        config: FirebreakConfig,
        *,
        webhook_url: str,
        token: str | None,
        client: httpx.AsyncClient,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._config = config
        self._url = webhook_url
        self._token = token
        self._client = client
        self._clock = clock
        # When each service's alert started firing: a repeat notification keeps it, as
        # Alertmanager's do; a resolve ends it.
        self._started: dict[str, datetime] = {}

    def services(self) -> list[str]:
        return sorted(self._config.services)

    async def fire(self, *, service: str, resolved: bool) -> tuple[bool, str]:
        now = self._clock()
        starts = self._started.get(service, now)
        body = sample_notification(
            self._config, service, starts_at=starts, ends_at=now if resolved else None
        )
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        what = f"{ALERTNAME} {'resolved' if resolved else 'firing'} on {service}"
        try:
            response = await self._client.post(self._url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            return False, f"Could not send {what} to {self._url}: {exc or type(exc).__name__}"
        if not response.is_success:
            detail = " ".join(response.text.split())[:SHOWN_BODY_CHARS]
            return False, f"The webhook answered {response.status_code} to {what}: {detail}"
        if resolved:
            self._started.pop(service, None)
        else:
            self._started[service] = starts
        answer = response.json()
        incident = answer.get("incident")
        if incident is None:
            return True, f"Sent {what}: no incident took it."
        if resolved:
            return True, f"Sent {what}: {incident}'s alert is resolved."
        return True, f"Sent {what}: {incident} {'opened' if answer.get('opened') else 'updated'}."

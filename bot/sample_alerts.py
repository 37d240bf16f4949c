"""Test alerts on demand: the notification Alertmanager (or Grafana, PagerDuty, Opsgenie, the
generic webhook) would send when a quality alert on a configured service fires (and later
resolves), and each config source's own sample, posted to the bot's own webhooks. Behind the
local page's "Fire test alert" menu and the demo's fallback when Prometheus is not installed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx

from bot.alerts.sources import alertmanager, generic, grafana, opsgenie, pagerduty
from bot.alerts.sources.receiver import Receiver
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


# Built-in senders the menu can imitate for any configured service, as the menu lists them.
SOURCES = ("alertmanager", "grafana", "generic", "pagerduty", "opsgenie")


def sample_body(
    config: FirebreakConfig,
    source: str,
    service: str,
    *,
    starts_at: datetime,
    ends_at: datetime | None,
) -> dict[str, Any]:
    """What `source` would send when `service`'s quality alert fires (or resolves)."""
    if source == pagerduty.SOURCE:
        return pagerduty.sample(service=service, started_at=starts_at, resolved_at=ends_at)
    if source == opsgenie.SOURCE:
        return opsgenie.sample(service=service, started_at=starts_at, resolved_at=ends_at)
    body = sample_notification(config, service, starts_at=starts_at, ends_at=ends_at)
    if source == grafana.SOURCE:
        return {**body, "version": "1", "orgId": 1, "title": f"[FIRING:1] {ALERTNAME}"}
    if source == generic.SOURCE:
        alert = body["alerts"][0]
        return {
            "dedup_key": f"test-{service}",
            "title": alert["annotations"]["summary"],
            "status": alert["status"],
            "service": service,
            "severity": "critical",
            "description": alert["annotations"]["description"],
            "started_at": alert["startsAt"],
            **({"ended_at": alert["endsAt"]} if ends_at else {}),
        }
    return body


class SampleAlerts:
    """Fires and resolves one test alert per configured service, as each built-in sender
    would, and each config source's `sample`, at the bot's own webhooks (`webhooks_url`,
    ending in /webhooks), with the bearer token they require (if any)."""

    def __init__(
        self,
        config: FirebreakConfig,
        *,
        webhooks_url: str,
        token: str | None,
        client: httpx.AsyncClient,
        clock: Callable[[], datetime] = utcnow,
        receivers: Mapping[str, Receiver] | None = None,
    ) -> None:
        self._config = config
        self._url = webhooks_url.rstrip("/")
        self._token = token
        self._client = client
        self._clock = clock
        # Config sources' samples; those that sign instead of sending the token cannot be
        # imitated without their secret, so they are not offered.
        self._samples = {
            name: receiver.sample
            for name, receiver in (receivers or {}).items()
            if receiver.sample is not None and receiver.bearer and name not in SOURCES
        }
        # When each (source, service) alert started firing: a repeat notification keeps it,
        # as Alertmanager's do; a resolve ends it.
        self._started: dict[tuple[str, str], datetime] = {}

    def services(self) -> list[str]:
        return sorted(self._config.services)

    def sources(self) -> list[str]:
        return list(SOURCES)

    def samples(self) -> list[str]:
        """Config sources whose own sample the menu can send."""
        return sorted(self._samples)

    async def fire(
        self, *, service: str, resolved: bool, source: str = alertmanager.SOURCE
    ) -> tuple[bool, str]:
        if source in self._samples:
            return await self._send(source, self._samples[source], f"the {source} sample")
        now = self._clock()
        starts = self._started.get((source, service), now)
        body = sample_body(
            self._config, source, service, starts_at=starts, ends_at=now if resolved else None
        )
        name = ALERTNAME if source == alertmanager.SOURCE else f"{ALERTNAME} from {source}"
        what = f"{name} {'resolved' if resolved else 'firing'} on {service}"
        ok, told = await self._send(source, body, what, resolved=resolved)
        if ok and resolved:
            self._started.pop((source, service), None)
        elif ok:
            self._started[(source, service)] = starts
        return ok, told

    async def _send(
        self, source: str, body: dict[str, Any], what: str, *, resolved: bool = False
    ) -> tuple[bool, str]:
        url = f"{self._url}/{source}"
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        try:
            response = await self._client.post(url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            return False, f"Could not send {what} to {url}: {exc or type(exc).__name__}"
        if not response.is_success:
            detail = " ".join(response.text.split())[:SHOWN_BODY_CHARS]
            return False, f"The webhook answered {response.status_code} to {what}: {detail}"
        answer = response.json()
        incident = answer.get("incident")
        if incident is None:
            reason = answer.get("reason")
            return True, f"Sent {what}: no incident took it{f' ({reason})' if reason else ''}."
        if resolved:
            return True, f"Sent {what}: {incident}'s alert is resolved."
        return True, f"Sent {what}: {incident} {'opened' if answer.get('opened') else 'updated'}."

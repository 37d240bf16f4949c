"""Builders of webhook bodies in the shapes Alertmanager (v4) and Grafana (v1) send."""

from __future__ import annotations

from typing import Any

ZERO_TIME = "0001-01-01T00:00:00Z"


def am_alert(
    *,
    fingerprint: str = "3f1c9a7be2d04c11",
    status: str = "firing",
    alertname: str = "RankerNDCGDrop",
    service: str | None = "search-ranker",
    severity: str | None = "critical",
    starts_at: str = "2026-11-27T02:58:00.123456789Z",
    ends_at: str = ZERO_TIME,
    **extra_labels: str,
) -> dict[str, Any]:
    labels = {"alertname": alertname, **extra_labels}
    if service:
        labels["service"] = service
    if severity:
        labels["severity"] = severity
    return {
        "status": status,
        "labels": labels,
        "annotations": {
            "summary": f"{alertname} on {service}",
            "description": "NDCG@10 fell below 0.61 for 5 minutes",
            "runbook_url": "https://runbooks.example.com/ranker/ndcg",
        },
        "startsAt": starts_at,
        "endsAt": ends_at,
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=ndcg_at_10",
        "fingerprint": fingerprint,
    }


def am_notification(
    *alerts: dict[str, Any], group_key: str = '{}:{alertname="RankerNDCGDrop"}', **top: Any
) -> dict[str, Any]:
    alerts_list = list(alerts) or [am_alert()]
    firing = any(a["status"] == "firing" for a in alerts_list)
    common = dict(alerts_list[0]["labels"])
    for alert in alerts_list[1:]:
        common = {k: v for k, v in common.items() if alert["labels"].get(k) == v}
    body: dict[str, Any] = {
        "receiver": "firebreak",
        "status": "firing" if firing else "resolved",
        "alerts": alerts_list,
        "groupLabels": {"alertname": common.get("alertname", "")},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
    }
    body.update(top)
    return body


def grafana_notification(**top: Any) -> dict[str, Any]:
    alert = am_alert(
        fingerprint="9ab0c1d2e3f40516",
        alertname="ConversionRateLow",
        service="checkout-fraud",
        severity="warning",
    )
    alert.update(
        {
            "silenceURL": "https://grafana.example/alerting/silence/new",
            "dashboardURL": "",
            "panelURL": "",
            "values": {"B": 0.021, "C": 1},
        }
    )
    body = am_notification(alert, group_key='{}/{team="payments"}:{}')
    body.update(
        {
            "version": "1",
            "orgId": 1,
            "title": "[FIRING:1] ConversionRateLow",
            "state": "alerting",
            "message": "Conversion rate under 2.5%",
        }
    )
    body.update(top)
    return body

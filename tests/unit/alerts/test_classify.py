from __future__ import annotations

from dataclasses import replace

import pytest

from bot.alerts import classify
from bot.alerts.sources import alertmanager
from bot.config import AlertsConfig
from bot.severity import Severity
from tests.payloads import am_alert, am_notification


@pytest.mark.parametrize(
    ("label", "severity"),
    [
        ("critical", Severity.SEV1),
        ("high", Severity.SEV2),
        ("error", Severity.SEV2),
        ("warning", Severity.SEV3),
        ("info", Severity.SEV4),
        (None, Severity.SEV4),
        ("CRITICAL", Severity.SEV1),
    ],
)
def test_default_severity_mapping(label: str | None, severity: Severity) -> None:
    batch = alertmanager.parse(am_notification(am_alert(severity=label)))
    assert classify.group_severity(batch, AlertsConfig()) is severity


def test_mapping_is_overridable_and_label_configurable() -> None:
    rules = AlertsConfig(
        severity_label="priority", severity_map={"p1": Severity.SEV1, "critical": Severity.SEV2}
    )
    batch = alertmanager.parse(am_notification(am_alert(severity="critical", priority="P1")))
    assert classify.group_severity(batch, rules) is Severity.SEV1
    batch = alertmanager.parse(am_notification(am_alert(severity=None, priority="critical")))
    assert classify.group_severity(batch, rules) is Severity.SEV2


def test_group_severity_is_the_worst_firing_alert() -> None:
    batch = alertmanager.parse(
        am_notification(
            am_alert(fingerprint="a1", severity="warning"),
            am_alert(
                fingerprint="a2",
                severity="critical",
                status="resolved",
                ends_at="2026-11-27T03:00:00Z",
            ),
            am_alert(fingerprint="a3", severity="high"),
        )
    )
    assert classify.group_severity(batch, AlertsConfig()) is Severity.SEV2


def test_service_from_configured_label() -> None:
    batch = alertmanager.parse(am_notification(am_alert(service=None, app="ranker-v2")))
    assert classify.group_service(batch, AlertsConfig()) is None
    assert classify.group_service(batch, AlertsConfig(service_label="app")) == "ranker-v2"


def test_title_from_summary_or_alert_names() -> None:
    body = am_notification(
        am_alert(fingerprint="a1"), am_alert(fingerprint="a2", alertname="Other")
    )
    assert classify.group_title(alertmanager.parse(body)) == "RankerNDCGDrop (+1 more)"
    body["commonAnnotations"] = {"summary": "Ranker quality dropped"}
    assert classify.group_title(alertmanager.parse(body)) == "Ranker quality dropped"


def test_a_sender_naming_the_service_outright_goes_through_the_service_map() -> None:
    rules = AlertsConfig(service_map={"API Service": "search-ranker"})
    batch = alertmanager.parse(am_notification(am_alert(service="checkout-fraud")))
    assert classify.group_service(batch, rules) == "checkout-fraud"  # labels, unmapped
    named = replace(batch, service="API Service")
    assert classify.group_service(named, rules) == "search-ranker"  # over the labels, mapped
    assert classify.group_service(replace(batch, service="other"), rules) == "other"


@pytest.mark.parametrize(
    ("priority", "severity"),
    [("P1", Severity.SEV1), ("p2", Severity.SEV2), ("P3", Severity.SEV3), ("P5", Severity.SEV4)],
)
def test_a_senders_priority_maps_to_severity_over_the_labels(
    priority: str, severity: Severity
) -> None:
    batch = alertmanager.parse(am_notification(am_alert(severity="warning")))
    assert classify.group_severity(replace(batch, severity=priority), AlertsConfig()) is severity

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from bot.alerts.schemas import AlertStatus
from bot.alerts.sources import alertmanager, common
from bot.validation import describe
from tests.payloads import am_alert, am_notification


def test_parses_a_firing_group() -> None:
    batch = alertmanager.parse(am_notification())
    assert batch.source == "alertmanager"
    assert batch.group_key == '{}:{alertname="RankerNDCGDrop"}'
    [alert] = batch.alerts
    assert alert.status is AlertStatus.FIRING
    assert alert.fingerprint == "3f1c9a7be2d04c11"
    assert alert.name == "RankerNDCGDrop"
    # Nanoseconds are cut to microseconds, and the zone is kept as UTC.
    assert alert.starts_at == datetime(2026, 11, 27, 2, 58, 0, 123456, tzinfo=UTC)
    # Firing alerts carry the zero time; it means "not ended".
    assert alert.ends_at is None
    assert batch.external_url == "http://alertmanager.example:9093"


def test_resolved_alert_keeps_its_end_time() -> None:
    body = am_notification(am_alert(status="resolved", ends_at="2026-11-27T03:10:00+01:00"))
    [alert] = alertmanager.parse(body).alerts
    assert alert.status is AlertStatus.RESOLVED
    assert alert.ends_at == datetime(2026, 11, 27, 2, 10, tzinfo=UTC)


def test_unknown_fields_of_newer_versions_are_accepted() -> None:
    body = am_notification(notification_reason="first notification", routeLabels={})
    assert alertmanager.parse(body).alerts


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b.update(version="3"), "version"),
        (lambda b: b.pop("groupKey"), "groupKey"),
        (lambda b: b.update(alerts=[]), "alerts"),
        (lambda b: b["alerts"][0].update(fingerprint=""), "alerts[0].fingerprint"),
        (lambda b: b["alerts"][0].update(startsAt="yesterday"), "alerts[0].startsAt"),
        (lambda b: b["alerts"][0].update(startsAt="2026-11-27T03:00:00"), "alerts[0].startsAt"),
        (lambda b: b["alerts"][0].update(status="pending"), "alerts[0].status"),
        (lambda b: b["alerts"][0]["labels"].update(severity=3), "alerts[0].labels.severity"),
    ],
)
def test_invalid_notifications_name_the_field(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    body = am_notification()
    mutate(body)
    with pytest.raises(ValidationError) as caught:
        alertmanager.parse(body)
    assert field in [error["field"] for error in describe(caught.value)]


def test_a_grafana_body_is_not_an_alertmanager_one() -> None:
    body = am_notification(version="1")
    with pytest.raises(ValidationError) as caught:
        alertmanager.parse(body)
    assert describe(caught.value)[0]["field"] == "version"


def test_a_built_notification_parses_back() -> None:
    labels = {"alertname": "ModelQualityDrop", "service": "search-ranker", "severity": "critical"}
    starts = datetime(2026, 11, 27, 3, 0, 0, 250000, tzinfo=UTC)
    firing = alertmanager.notification(
        labels=labels, annotations={"summary": "CTR low"}, starts_at=starts, ends_at=None
    )
    ended = datetime(2026, 11, 27, 3, 5, tzinfo=UTC)
    resolved = alertmanager.notification(
        labels=labels, annotations={"summary": "CTR low"}, starts_at=starts, ends_at=ended
    )

    assert firing["alerts"][0]["endsAt"] == "0001-01-01T00:00:00Z"
    assert firing["alerts"][0]["startsAt"] == "2026-11-27T03:00:00.250Z"
    first, last = alertmanager.parse(firing), alertmanager.parse(resolved)
    assert (
        first.group_key
        == last.group_key
        == ('{}:{alertname="ModelQualityDrop", service="search-ranker"}')
    )
    assert first.common_labels == labels
    assert first.alerts[0].status is AlertStatus.FIRING and first.alerts[0].ends_at is None
    assert last.alerts[0].status is AlertStatus.RESOLVED and last.alerts[0].ends_at == ended
    assert first.alerts[0].starts_at == starts
    # The same labels, the same alert: the resolve closes what the firing opened.
    assert first.alerts[0].fingerprint == last.alerts[0].fingerprint
    assert len(first.alerts[0].fingerprint) == 16
    other = common.fingerprint({**labels, "severity": "warning"})
    assert other != first.alerts[0].fingerprint


def test_the_fingerprint_is_alertmanagers_own() -> None:
    # prometheus/common model/signature_test.go's vectors for LabelSet.Fingerprint.
    assert int(common.fingerprint({}), 16) == 14695981039346656037
    labels = {"name": "garland, briggs", "fear": "love is not enough"}
    assert int(common.fingerprint(labels), 16) == 5799056148416392346


def test_an_alertmanager_older_than_0_19_sends_no_fingerprint_and_one_is_derived() -> None:
    body = am_notification(am_alert(), am_alert(alertname="RankerLatencyHigh"))
    for alert in body["alerts"]:
        alert.pop("fingerprint")
    body.pop("truncatedAlerts")  # before 0.21 there is no such field either
    body["unknown_future_field"] = {"anything": 1}
    batch = alertmanager.parse(body)
    first, second = batch.alerts
    assert first.fingerprint == common.fingerprint(body["alerts"][0]["labels"])
    assert first.fingerprint != second.fingerprint
    assert batch.truncated_alerts == 0


def test_truncated_alerts_are_accepted_and_counted() -> None:
    batch = alertmanager.parse({**am_notification(am_alert()), "truncatedAlerts": 12})
    assert batch.truncated_alerts == 12

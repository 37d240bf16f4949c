from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from bot.alerts.schemas import AlertBatch, AlertStatus, Ignored, SourceNote
from bot.alerts.sources import opsgenie
from bot.config import OpsgenieConfig

CONFIG = OpsgenieConfig()
CREATED_MS = 1_795_748_284_512  # 2026-11-27T02:58:04.512Z
CLOSED_NS = 1_795_749_611_482_000_317  # 2026-11-27T03:20:11.482000Z (and 317 ns)


def body(action: str, **alert: Any) -> dict[str, Any]:
    """An outgoing Webhook integration body. Shape: Opsgenie's "Alert action data" doc
    (docs.opsgenie.com/docs/marid-alert-action-data) and the Create/Close/Acknowledge/AddNote
    fixtures of zulip/zulip zerver/webhooks/opsgenie/fixtures/; values are ours. createdAt is
    in milliseconds and updatedAt in nanoseconds, as there."""
    fields: dict[str, Any] = {
        "alertId": "b1f4c2e0-7a3d-4e19-9c55-0d2e6f8a1b37",
        "message": "Fraud scorer p99 latency above 800 ms",
        "tags": ["ml", "service:fraud-scorer"],
        "tinyId": "318",
        "entity": "fraud-scorer-canary",
        "alias": "fraud-scorer-latency",
        "createdAt": CREATED_MS,
        "updatedAt": CLOSED_NS,
        "username": "amira@example.com",
        "userId": "4d1c9e22-8b7f-4a60-9d3e-71c0f5a2b8e4",
        "description": "p99 over 800 ms for 10 minutes on the canary pool",
        "details": {"region": "eu-west-1", "component": "feature-store"},
        "priority": "P2",
        "teams": ["7c0e1f3a-2b4d-4e6f-8a9b-0c1d2e3f4a5b"],
        "recipients": [],
    }
    fields.update(alert)
    return {
        "action": action,
        "alert": {k: v for k, v in fields.items() if v is not None},
        "source": {"name": "web", "type": "API"},
        "integrationName": "Firebreak",
        "integrationId": "e6a2d9b4-1c3f-4f8e-a7b0-5d9c2e1f4a63",
        "integrationType": "Webhook",
    }


def escalate() -> dict[str, Any]:
    """Escalate sends little but the alertId. Shape: zulip/zulip
    zerver/webhooks/opsgenie/fixtures/escalate.json; values are ours."""
    return {
        "action": "Escalate",
        "alert": {"alertId": "b1f4c2e0-7a3d-4e19-9c55-0d2e6f8a1b37"},
        "escalationId": "3e9a1c7f-6b2d-4f80-a5e4-9c0d1b2a3f46",
        "escalationName": "fraud-oncall",
        "escalationNotify": {"id": "9b8a7c6d", "name": "jon@example.com", "type": "user"},
        "escalationTime": 10,
        "repeatCount": 0,
        "integrationName": "Firebreak",
    }


def batch(payload: dict[str, Any], config: OpsgenieConfig = CONFIG) -> AlertBatch:
    parsed = opsgenie.parse(payload, config=config)
    assert isinstance(parsed, AlertBatch)
    return parsed


def source_note(payload: dict[str, Any]) -> SourceNote:
    parsed = opsgenie.parse(payload, config=CONFIG)
    assert isinstance(parsed, SourceNote)
    return parsed


def test_create_is_a_firing_keyed_alert() -> None:
    got = batch(body("Create"))
    assert got.source == "opsgenie"
    assert (got.group_key, got.keyed) == ("fraud-scorer-latency", True)
    assert got.title == "Fraud scorer p99 latency above 800 ms"
    assert (got.service, got.severity) == ("fraud-scorer", "P2")
    [alert] = got.alerts
    assert alert.fingerprint == "fraud-scorer-latency"
    assert alert.status == AlertStatus.FIRING
    assert alert.starts_at == datetime(2026, 11, 27, 2, 58, 4, 512000, tzinfo=UTC)
    assert alert.ends_at is None
    assert alert.generator_url is None
    assert alert.labels == {
        "alertname": "Fraud scorer p99 latency above 800 ms",
        "priority": "P2",
        "entity": "fraud-scorer-canary",
        "tiny_id": "318",
    }
    assert alert.annotations == {
        "summary": "Fraud scorer p99 latency above 800 ms",
        "description": "p99 over 800 ms for 10 minutes on the canary pool",
    }


def test_close_resolves_the_same_alert_when_it_was_closed() -> None:
    created = batch(body("Create"))
    # Close carries no description or details (Opsgenie sends them with Create only).
    closed = batch(body("Close", description=None, details=None))
    assert closed.group_key == created.group_key
    [alert] = closed.alerts
    assert alert.fingerprint == created.alerts[0].fingerprint
    assert alert.status == AlertStatus.RESOLVED
    assert alert.starts_at == created.alerts[0].starts_at
    assert alert.ends_at == datetime(2026, 11, 27, 3, 20, 11, 482000, tzinfo=UTC)


def test_close_without_updated_at_leaves_the_end_to_the_receipt() -> None:
    [alert] = batch(body("Close", updatedAt=None)).alerts
    assert (alert.status, alert.ends_at) == (AlertStatus.RESOLVED, None)


def test_alert_id_is_the_key_without_an_alias() -> None:
    got = batch(body("Create", alias=""))
    assert got.group_key == got.alerts[0].fingerprint == "b1f4c2e0-7a3d-4e19-9c55-0d2e6f8a1b37"


def test_a_long_alias_is_hashed_into_the_fingerprint() -> None:
    alias = "x" * 300
    got = batch(body("Create", alias=alias))
    assert got.group_key == alias
    assert got.alerts[0].fingerprint.startswith("sha256:")
    assert len(got.alerts[0].fingerprint) <= 128
    assert batch(body("Close", alias=alias)).alerts[0].fingerprint == got.alerts[0].fingerprint


def test_a_numeric_priority_reads_as_its_p_level() -> None:
    assert batch(body("Create", priority=3)).severity == "P3"
    assert batch(body("Create", priority=None)).severity is None


@pytest.mark.parametrize(
    ("alert", "config", "expected"),
    [
        ({}, CONFIG, "fraud-scorer"),
        ({"tags": ["service: spaced "]}, CONFIG, "spaced"),
        ({"tags": ["ml"], "details": {"service": "from-details"}}, CONFIG, "from-details"),
        ({"tags": []}, CONFIG, "fraud-scorer-canary"),  # the entity
        ({"tags": [], "entity": ""}, CONFIG, None),
        ({}, OpsgenieConfig(service_tag="component"), "feature-store"),  # details
        ({"tags": ["component:ranker"]}, OpsgenieConfig(service_tag="component"), "ranker"),
    ],
)
def test_service_from_tag_then_details_then_entity(
    alert: dict[str, Any], config: OpsgenieConfig, expected: str | None
) -> None:
    assert batch(body("Create", **alert), config).service == expected


def test_acknowledge_is_a_note_by_who_acted() -> None:
    got = source_note(body("Acknowledge"))
    assert got.source == "opsgenie"
    assert (got.group_key, got.kind) == ("fraud-scorer-latency", "opsgenie.acknowledged")
    assert got.text == "Acknowledged in Opsgenie by amira@example.com"
    assert got.at == datetime(2026, 11, 27, 3, 20, 11, 482000, tzinfo=UTC)
    # An integration acting has no username: its source names it.
    by_api = body("Acknowledge", username="")
    by_api["source"] = {"name": "Datadog", "type": "API"}
    assert source_note(by_api).text == "Acknowledged in Opsgenie by Datadog"


def test_add_note_carries_the_note() -> None:
    got = source_note(body("AddNote", note="Scaled the canary pool to 6"))
    assert got.kind == "opsgenie.note"
    assert got.text == "Note in Opsgenie by amira@example.com: Scaled the canary pool to 6"


def test_escalate_names_the_target() -> None:
    got = source_note(escalate())
    assert got.kind == "opsgenie.escalated"
    assert got.group_key == "b1f4c2e0-7a3d-4e19-9c55-0d2e6f8a1b37"
    assert got.text == "Escalated in Opsgenie to jon@example.com (escalation fraud-oncall)"
    assert got.at is None


def test_event_ids_are_stable_and_tell_actions_apart() -> None:
    first = source_note(body("AddNote", note="one")).event_id
    assert source_note(body("AddNote", note="one")).event_id == first  # a retried delivery
    assert source_note(body("AddNote", note="two")).event_id != first
    assert source_note(body("AddNote", note="one", updatedAt=CLOSED_NS + 1)).event_id != first
    assert source_note(body("Acknowledge")).event_id != source_note(escalate()).event_id
    repeated = {**escalate(), "repeatCount": 1}
    assert source_note(repeated).event_id != source_note(escalate()).event_id


@pytest.mark.parametrize("action", ["UnAcknowledge", "Delete", "AddTags", "TakeOwnership"])
def test_other_actions_are_ignored(action: str) -> None:
    got = opsgenie.parse(body(action), config=CONFIG)
    assert got == Ignored(source="opsgenie", reason=f"{action} is not acted on")


def test_unknown_fields_are_ignored() -> None:
    payload = body("Create", insertedAt=CLOSED_NS, brandNew={"x": 1})
    payload["alertFlowContext"] = {"requestId": "df3ad546", "content": {}}
    assert batch(payload).group_key == "fraud-scorer-latency"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (body("Create", message=None), "message"),
        (body("Close", createdAt=None), "createdAt"),
        (body("Create", createdAt="2026-11-27T02:58:04Z"), "createdAt"),
        (body("Create", createdAt=-5), "createdAt"),
        (body("Create", tags="service:fraud-scorer"), "tags"),
        (body("AddNote"), "note"),
        (body("Acknowledge", alertId=None), "alertId"),
        ({"alert": {"alertId": "x"}}, "action"),
    ],
)
def test_missing_or_wrong_fields_are_refused(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        opsgenie.parse(payload, config=CONFIG)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1_795_748_284, datetime(2026, 11, 27, 2, 58, 4, tzinfo=UTC)),  # s
        (1_795_748_284_512, datetime(2026, 11, 27, 2, 58, 4, 512000, tzinfo=UTC)),  # ms
        (1_795_748_284_512_345, datetime(2026, 11, 27, 2, 58, 4, 512345, tzinfo=UTC)),  # µs
        (1_795_748_284_512_345_678, datetime(2026, 11, 27, 2, 58, 4, 512345, tzinfo=UTC)),  # ns
    ],
)
def test_epoch_unit_is_read_from_its_magnitude(value: int, expected: datetime) -> None:
    assert batch(body("Create", createdAt=value)).alerts[0].starts_at == expected


def test_sample_round_trips() -> None:
    start = datetime(2026, 11, 27, 2, 58, 4, 512000, tzinfo=UTC)
    end = datetime(2026, 11, 27, 3, 40, 0, 250001, tzinfo=UTC)
    created = batch(opsgenie.sample(service="fraud-scorer", started_at=start, resolved_at=None))
    closed = batch(opsgenie.sample(service="fraud-scorer", started_at=start, resolved_at=end))
    assert created.service == closed.service == "fraud-scorer"
    assert created.group_key == closed.group_key
    assert created.alerts[0].fingerprint == closed.alerts[0].fingerprint
    assert (created.alerts[0].status, created.alerts[0].starts_at) == (AlertStatus.FIRING, start)
    assert closed.alerts[0].status == AlertStatus.RESOLVED
    assert (closed.alerts[0].starts_at, closed.alerts[0].ends_at) == (start, end)
    other = batch(opsgenie.sample(service="ranker", started_at=start, resolved_at=None))
    assert other.group_key != created.group_key

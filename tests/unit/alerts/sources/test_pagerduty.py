from __future__ import annotations

import hmac
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any

import pytest
from pydantic import ValidationError

from bot.alerts.schemas import AlertBatch, AlertStatus, Ignored, SourceNote
from bot.alerts.sources import pagerduty
from bot.config import PagerDutyConfig

CONFIG = PagerDutyConfig()
INCIDENT_URL = "https://mlplatform.pagerduty.com/incidents/Q1RK7ZD"


def incident(**fields: Any) -> dict[str, Any]:
    """`event.data` of type incident. Shape: PagerDuty/developer-docs
    docs/webhooks/01-Overview.md, "Event Data Types", section incident (values are ours)."""
    data: dict[str, Any] = {
        "id": "Q1RK7ZD",
        "type": "incident",
        "self": "https://api.pagerduty.com/incidents/Q1RK7ZD",
        "html_url": INCIDENT_URL,
        "number": 418,
        "status": "triggered",
        "incident_key": "ranker-ndcg-drop",
        "created_at": "2026-11-27T02:58:04Z",
        "title": "Ranker NDCG@10 below 0.61",
        "service": {
            "html_url": "https://mlplatform.pagerduty.com/services/PSRCH01",
            "id": "PSRCH01",
            "self": "https://api.pagerduty.com/services/PSRCH01",
            "summary": "search-ranker",
            "type": "service_reference",
        },
        "assignees": [
            {
                "html_url": "https://mlplatform.pagerduty.com/users/PAMIRA1",
                "id": "PAMIRA1",
                "self": "https://api.pagerduty.com/users/PAMIRA1",
                "summary": "Amira Haddad",
                "type": "user_reference",
            }
        ],
        "escalation_policy": {
            "id": "PESC001",
            "summary": "Search on-call",
            "type": "escalation_policy_reference",
        },
        "teams": [{"id": "PTEAM01", "summary": "relevance", "type": "team_reference"}],
        "priority": {"id": "PPRIO01", "summary": "P2", "type": "priority_reference"},
        "urgency": "high",
        "conference_bridge": None,
        "resolve_reason": None,
    }
    data.update(fields)
    return data


def event(
    event_type: str,
    data: dict[str, Any] | None = None,
    *,
    agent: str | None = "Jon Okafor",
    event_id: str = "7f3c2a9e-5d41-4b8a-9e0f-2c6d1b4a8e53",
) -> dict[str, Any]:
    """The v3 webhook envelope. Shape: PagerDuty/developer-docs docs/webhooks/01-Overview.md,
    "Webhook Payload" (values are ours)."""
    return {
        "event": {
            "id": event_id,
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": "2026-11-27T03:20:11.482Z",
            "agent": (
                {"id": "PJONOK1", "summary": agent, "type": "user_reference"} if agent else None
            ),
            "client": {"name": "PagerDuty"},
            "data": incident() if data is None else data,
        }
    }


def note(content: str = "Rolled back ranker to v41.", **fields: Any) -> dict[str, Any]:
    """`event.data` of type incident_note. Shape: PagerDuty/developer-docs
    docs/webhooks/01-Overview.md, "Event Data Types", section incident_note (values are ours)."""
    return {
        "incident": {
            "html_url": INCIDENT_URL,
            "id": "Q1RK7ZD",
            "self": "https://api.pagerduty.com/incidents/Q1RK7ZD",
            "summary": "Ranker NDCG@10 below 0.61",
            "type": "incident_reference",
        },
        "id": "PNOTE77",
        "content": content,
        "trimmed": False,
        "type": "incident_note",
        **fields,
    }


def batch(body: dict[str, Any], config: PagerDutyConfig = CONFIG) -> AlertBatch:
    parsed = pagerduty.parse(body, config=config)
    assert isinstance(parsed, AlertBatch)
    return parsed


def source_note(body: dict[str, Any]) -> SourceNote:
    parsed = pagerduty.parse(body, config=CONFIG)
    assert isinstance(parsed, SourceNote)
    return parsed


def test_triggered_is_a_firing_keyed_alert() -> None:
    got = batch(event("incident.triggered"))
    assert got.source == "pagerduty"
    assert (got.group_key, got.keyed, got.title) == ("Q1RK7ZD", True, "Ranker NDCG@10 below 0.61")
    assert (got.service, got.severity, got.external_url) == ("search-ranker", "P2", INCIDENT_URL)
    [alert] = got.alerts
    assert alert.fingerprint == "Q1RK7ZD"
    assert alert.status == AlertStatus.FIRING
    assert alert.starts_at == datetime(2026, 11, 27, 2, 58, 4, tzinfo=UTC)
    assert alert.ends_at is None
    assert alert.generator_url == INCIDENT_URL
    assert alert.labels == {
        "alertname": "Ranker NDCG@10 below 0.61",
        "urgency": "high",
        "priority": "P2",
        "pagerduty_service": "search-ranker",
    }
    assert alert.annotations == {"summary": "Ranker NDCG@10 below 0.61"}


def test_urgency_is_the_severity_without_a_priority() -> None:
    got = batch(event("incident.triggered", incident(priority=None, urgency="low")))
    assert got.severity == "low"
    assert "priority" not in got.alerts[0].labels


def test_resolved_is_the_same_alert_resolved_when_the_event_occurred() -> None:
    firing = batch(event("incident.triggered"))
    resolved = batch(event("incident.resolved", incident(status="resolved")))
    assert resolved.group_key == firing.group_key
    [alert] = resolved.alerts
    assert alert.fingerprint == firing.alerts[0].fingerprint
    assert alert.status == AlertStatus.RESOLVED
    assert alert.starts_at == firing.alerts[0].starts_at
    assert alert.ends_at == datetime(2026, 11, 27, 3, 20, 11, 482000, tzinfo=UTC)


def test_reopened_starts_a_new_occurrence() -> None:
    reopened = incident(reopened_at="2026-11-27T04:05:00Z")
    [alert] = batch(event("incident.reopened", reopened)).alerts
    assert alert.status == AlertStatus.FIRING
    assert alert.starts_at == datetime(2026, 11, 27, 4, 5, tzinfo=UTC)
    # Without reopened_at, the reopening is the event itself.
    [alert] = batch(event("incident.reopened")).alerts
    assert alert.starts_at == datetime(2026, 11, 27, 3, 20, 11, 482000, tzinfo=UTC)
    # Its resolution resolves that occurrence, not the first one.
    [alert] = batch(event("incident.resolved", reopened)).alerts
    assert alert.starts_at == datetime(2026, 11, 27, 4, 5, tzinfo=UTC)


def test_acknowledged_is_a_note_by_the_agent() -> None:
    got = source_note(event("incident.acknowledged"))
    assert got.source == "pagerduty"
    assert (got.group_key, got.kind) == ("Q1RK7ZD", "pagerduty.acknowledged")
    assert got.event_id == "7f3c2a9e-5d41-4b8a-9e0f-2c6d1b4a8e53"
    assert got.text == "Acknowledged in PagerDuty by Jon Okafor"
    assert got.at == datetime(2026, 11, 27, 3, 20, 11, 482000, tzinfo=UTC)
    assert got.link == INCIDENT_URL
    # PagerDuty itself may act (agent null).
    assert source_note(event("incident.acknowledged", agent=None)).text == (
        "Acknowledged in PagerDuty"
    )


def test_reassigned_names_the_new_assignees() -> None:
    got = source_note(event("incident.reassigned"))
    assert got.kind == "pagerduty.reassigned"
    assert got.text == "Reassigned in PagerDuty to Amira Haddad by Jon Okafor"
    unassigned = source_note(event("incident.reassigned", incident(assignees=[]), agent=None))
    assert unassigned.text == "Reassigned in PagerDuty"


def test_annotated_carries_the_note_under_its_incident() -> None:
    got = source_note(event("incident.annotated", note()))
    assert (got.group_key, got.kind) == ("Q1RK7ZD", "pagerduty.annotated")
    assert got.text == "Note in PagerDuty by Jon Okafor: Rolled back ranker to v41."
    assert got.link == INCIDENT_URL
    trimmed = source_note(event("incident.annotated", note("A long story", trimmed=True)))
    assert trimmed.text.endswith("A long story […]")


@pytest.mark.parametrize(
    ("event_type", "data"),
    [
        ("incident.priority_updated", incident()),
        ("incident.unacknowledged", incident()),
        # Shape: the service.updated example in docs/webhooks/01-Overview.md.
        ("service.updated", {"id": "PSRCH01", "summary": "search-ranker", "type": "service"}),
        ("pagey.ping", {"message": "Hello from Pagey", "type": "ping"}),
    ],
)
def test_other_event_types_are_ignored(event_type: str, data: dict[str, Any]) -> None:
    got = pagerduty.parse(event(event_type, data), config=CONFIG)
    assert got == Ignored(source="pagerduty", reason=f"{event_type} is not acted on")


def test_unknown_fields_are_ignored() -> None:
    body = event("incident.triggered", incident(brand_new_field={"x": 1}))
    body["event"]["webhook_version"] = 4
    body["delivery"] = "whatever"
    assert batch(body).group_key == "Q1RK7ZD"


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("service.id", "PSRCH01"),
        ("escalation_policy.summary", "Search on-call"),
        ("teams.0.summary", "relevance"),
        ("number", "418"),
        ("teams.3.summary", None),
        ("no.such.field", None),
        ("service", None),  # an object is no name
    ],
)
def test_service_is_read_from_the_configured_field(field: str, expected: str | None) -> None:
    got = batch(event("incident.triggered"), PagerDutyConfig(service_field=field))
    assert got.service == expected


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (event("incident.triggered", incident(title=None)), "title"),
        (event("incident.resolved", {k: v for k, v in incident().items() if k != "id"}), "id"),
        (event("incident.triggered", incident(created_at="2026-11-27T02:58:04")), "created_at"),
        (event("incident.annotated", {"incident": {"id": "Q1RK7ZD"}}), "content"),
        ({"event": {"id": "x"}}, "event_type"),
        ({"messages": []}, "event"),
    ],
)
def test_missing_or_wrong_fields_are_refused(body: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        pagerduty.parse(body, config=CONFIG)


def test_occurred_at_must_carry_a_zone() -> None:
    body = event("incident.acknowledged")
    body["event"]["occurred_at"] = "2026-11-27T03:20:11"
    with pytest.raises(ValidationError, match="occurred_at"):
        pagerduty.parse(body, config=CONFIG)


def test_sample_round_trips() -> None:
    start = datetime(2026, 11, 27, 2, 58, 4, 250000, tzinfo=UTC)
    end = datetime(2026, 11, 27, 3, 40, tzinfo=UTC)
    firing = batch(pagerduty.sample(service="fraud-scorer", started_at=start, resolved_at=None))
    resolved = batch(pagerduty.sample(service="fraud-scorer", started_at=start, resolved_at=end))
    assert firing.service == resolved.service == "fraud-scorer"
    assert firing.group_key == resolved.group_key
    assert firing.alerts[0].fingerprint == resolved.alerts[0].fingerprint
    assert (firing.alerts[0].status, firing.alerts[0].starts_at) == (AlertStatus.FIRING, start)
    assert resolved.alerts[0].status == AlertStatus.RESOLVED
    assert (resolved.alerts[0].starts_at, resolved.alerts[0].ends_at) == (start, end)
    other = batch(pagerduty.sample(service="ranker", started_at=start, resolved_at=None))
    assert other.group_key != firing.group_key


SECRET = "pd-webhook-secret-4b7e"
BODY = b'{"event": {"event_type": "incident.triggered"}}'
NOW = 1_764_212_400.0


def v1(body: bytes, secret: str = SECRET) -> str:
    """One entry as PagerDuty writes it (docs/webhooks/04-Signatures.md)."""
    return "v1=" + hmac.new(secret.encode(), body, sha256).hexdigest()


def test_one_matching_v1_signature_among_several_is_enough() -> None:
    header = ",".join([v1(BODY, "retired-secret"), v1(BODY), "v2=abcdef"])
    pagerduty.check_signature({pagerduty.SIGNATURE_HEADER: header}, BODY, SECRET, now=NOW)
    spaced = f"{v1(BODY, 'retired-secret')}, {v1(BODY).upper().replace('V1=', 'v1=')}"
    pagerduty.check_signature({pagerduty.SIGNATURE_HEADER: spaced}, BODY, SECRET, now=NOW)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing X-PagerDuty-Signature"),
        ({pagerduty.SIGNATURE_HEADER: "  "}, "missing X-PagerDuty-Signature"),
        ({pagerduty.SIGNATURE_HEADER: v1(BODY).replace("v1=", "v2=")}, "no v1 signature"),
        ({pagerduty.SIGNATURE_HEADER: v1(BODY).removeprefix("v1=")}, "no v1 signature"),
        ({pagerduty.SIGNATURE_HEADER: v1(BODY, "another-secret")}, "matches the body"),
        ({pagerduty.SIGNATURE_HEADER: v1(BODY + b" ")}, "matches the body"),
        ({pagerduty.SIGNATURE_HEADER: "v1=ünïcode"}, "matches the body"),
    ],
)
def test_bad_signatures_are_refused(headers: dict[str, str], reason: str) -> None:
    with pytest.raises(pagerduty.BadSignature, match=reason):
        pagerduty.check_signature(headers, BODY, SECRET, now=NOW)

"""Every alert source over HTTP (bot/http/webhooks.py with bot/alerts/sources/*): the whole app,
the embedded Slack stand-in answering as Slack. The parsers' own tests hold the payload shapes
of each sender's public documentation; these hold what the bot does with them."""

from __future__ import annotations

import base64
import hmac
import json
import logging
from collections.abc import Iterator
from hashlib import sha256
from pathlib import Path
from typing import Any

import pytest

from bot.config import FirebreakConfig, SignatureSpec, SourceSpec
from tests.payloads import am_alert, am_notification
from tests.polling import wait_until
from tests.scenario import WEBHOOK_TOKEN, Bot, clean_env, running_bot

PD_SECRET = "pagerduty-webhook-secret-5e1a"


def pd_event(event_type: str, *, event_id: str, incident: str = "Q1RANKER", **data: Any) -> Any:
    """A PagerDuty v3 webhook body, in the shape of PagerDuty's "Webhook Payload" docs."""
    body: dict[str, Any] = {
        "id": incident,
        "type": "incident",
        "html_url": f"https://acme.pagerduty.com/incidents/{incident}",
        "number": 7,
        "status": "triggered",
        "title": "Ranker CTR fell below 2%",
        "created_at": "2026-11-27T02:58:00Z",
        "urgency": "high",
        "service": {"id": "PSVC01", "summary": "Search Ranking", "type": "service_reference"},
        "priority": {"id": "PPRI1", "summary": "P1", "type": "priority_reference"},
        **data,
    }
    return {
        "event": {
            "id": event_id,
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": "2026-11-27T03:01:00.000Z",
            "agent": {"id": "PUSR1", "summary": "Ana Lima", "type": "user_reference"},
            "client": None,
            "data": body,
        }
    }


def og_event(action: str, **alert: Any) -> Any:
    """An Opsgenie outgoing webhook body, in the shape of Opsgenie's webhook integration docs."""
    return {
        "action": action,
        "alert": {
            "alertId": "70413a06-38d6-4c85-92b8-5ebc900d42e2",
            "message": "Fraud score latency p99 over 300 ms",
            "tags": ["service:checkout-fraud", "team:payments"],
            "tinyId": "42",
            "entity": "fraud-scorer",
            "alias": "fraud-latency",
            "createdAt": 1795143480000,
            "updatedAt": 1795143660000000000,
            "username": "Ben Okafor",
            "priority": "P2",
            **alert,
        },
        "source": {"name": "Ben Okafor", "type": "web"},
        "integrationName": "Firebreak",
        "integrationId": "0d2f4a1c-5d9e-4f8b-9c71-2b1f1e4f6a90",
        "integrationType": "Webhook",
    }


DATADOG = SourceSpec(
    group_key="{{ payload.alert_id }}",
    title="{{ payload.title }}",
    status="{{ 'resolved' if payload.transition == 'Recovered' else 'firing' }}",
    service="{{ payload.tags | tag('service') }}",
    severity="{{ payload.priority }}",
    started_at="{{ payload.date }}",
)


@pytest.fixture
def bot(tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    clean_env(monkeypatch)
    monkeypatch.setenv("FIREBREAK_TEST_SIGNED_SECRET", "signed-source-secret-77")
    config.alerts.service_map = {"Search Ranking": "search-ranker"}
    config.sources = {
        "datadog": DATADOG,
        "signed": SourceSpec(
            group_key="{{ payload.id }}",
            title="{{ payload.title }}",
            signature=SignatureSpec(
                header="X-Test-Signature", secret_env="FIREBREAK_TEST_SIGNED_SECRET"
            ),
        ),
        "sns": SourceSpec(
            group_key="{{ (payload.Message | from_json).AlarmArn }}",
            title="{{ (payload.Message | from_json).AlarmName }}",
        ),
    }
    with running_bot(tmp_path, config, FIREBREAK_PAGERDUTY_SECRET=PD_SECRET) as running:
        yield running


def pd_post(bot: Bot, body: Any, *, secret: str = PD_SECRET) -> Any:
    raw = json.dumps(body).encode()
    signature = hmac.new(secret.encode(), raw, sha256).hexdigest()
    return bot.http.post(
        "/webhooks/pagerduty",
        content=raw,
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {WEBHOOK_TOKEN}",
            # Two signatures while PagerDuty rotates secrets: either may be ours.
            "X-PagerDuty-Signature": f"v1={'0' * 64},v1={signature}",
        },
    )


def test_pagerduty_opens_notes_and_resolves_one_incident(bot: Bot) -> None:
    opened = pd_post(bot, pd_event("incident.triggered", event_id="ev-1"))
    assert opened.status_code == 200, opened.text
    assert opened.json()["incident"] == "INC-1" and opened.json()["opened"] is True
    incident = bot.announced("INC-1")
    assert incident["service"] == "search-ranker"  # "Search Ranking" through the service map
    assert incident["severity"] == "SEV1"  # priority P1
    assert incident["title"] == "Ranker CTR fell below 2%"

    acked = pd_event("incident.acknowledged", event_id="ev-2")
    assert pd_post(bot, acked).json() == {**_quiet("INC-1"), "noted": True}
    assert pd_post(bot, acked).json()["noted"] is False  # PagerDuty retries: once on the timeline
    channel = incident["channel_id"]
    wait_until(
        lambda: any("Ana Lima" in m["text"] for m in bot.workspace.messages(channel)),
        what="the acknowledgement in the incident channel",
    )
    again = pd_post(bot, pd_event("incident.triggered", event_id="ev-3"))
    assert again.json()["incident"] == "INC-1" and again.json()["firing"] == 0

    ignored = pd_post(bot, pd_event("incident.priority_updated", event_id="ev-4"))
    assert ignored.status_code == 200 and ignored.json()["incident"] is None
    assert "incident.priority_updated" in ignored.json()["reason"]

    resolved = pd_post(bot, pd_event("incident.resolved", event_id="ev-5", status="resolved"))
    assert resolved.json()["incident"] == "INC-1" and resolved.json()["resolved"] == 1
    final = bot.incident("INC-1")
    assert [o["status"] for o in final["occurrences"]] == ["resolved"]
    kinds = [t["kind"] for t in final["timeline"]]
    assert kinds.count("pagerduty.acknowledged") == 1 and "alerts.all_resolved" in kinds
    assert [i["id"] for i in bot.http.get("/api/incidents").json()] == ["INC-1"]


def test_pagerduty_signatures_are_checked_when_a_secret_is_set(bot: Bot) -> None:
    body = pd_event("incident.triggered", event_id="ev-9")
    forged = pd_post(bot, body, secret="not-the-secret")
    assert forged.status_code == 401 and forged.json()["error"] == "bad_signature"
    assert PD_SECRET not in forged.text
    unsigned = bot.webhook("pagerduty", body)
    assert unsigned.status_code == 401 and "X-PagerDuty-Signature" in unsigned.json()["message"]
    assert bot.http.get("/api/incidents").json() == []


def test_opsgenie_create_note_close(bot: Bot) -> None:
    created = bot.webhook("opsgenie", og_event("Create"))
    assert created.json()["opened"] is True
    incident = bot.incident(created.json()["incident"])
    assert incident["service"] == "checkout-fraud" and incident["severity"] == "SEV2"

    note = og_event("AddNote", note="Rolled the scorer back to v12")
    assert bot.webhook("opsgenie", note).json()["noted"] is True
    closed = bot.webhook("opsgenie", og_event("Close", updatedAt=1795144000000000000))
    assert closed.json()["resolved"] == 1
    timeline = bot.incident(incident["id"])["timeline"]
    assert any("Rolled the scorer back to v12" in t["text"] for t in timeline)
    assert [t["kind"] for t in timeline].count("alerts.all_resolved") == 1


def test_a_config_source_opens_and_resolves_and_names_what_it_cannot_read(bot: Bot) -> None:
    firing = {
        "alert_id": "dd-881",
        "title": "[Triggered] Ranker CTR low",
        "transition": "Triggered",
        "tags": "env:prod,service:search-ranker",
        "priority": "P1",
        "date": 1795143480000,
        "extra": {"ignored": True},
    }
    opened = bot.webhook("datadog", firing)
    assert opened.json()["opened"] is True
    # Datadog's $DATE is when the event happened: the recovery comes with another time,
    # and still resolves the alert it fired.
    recovered = {**firing, "transition": "Recovered", "date": 1795143900000}
    assert bot.webhook("datadog", recovered).json()["resolved"] == 1
    incident = bot.incident(opened.json()["incident"])
    assert incident["service"] == "search-ranker" and incident["severity"] == "SEV1"
    assert [o["status"] for o in incident["occurrences"]] == ["resolved"]

    no_id = {k: v for k, v in firing.items() if k != "alert_id"}
    unreadable = bot.webhook("datadog", no_id)
    assert unreadable.status_code == 422
    message = unreadable.json()["message"]
    assert "sources.datadog.group_key" in message and "payload.alert_id" in message


def test_a_signing_config_source_needs_its_signature_not_the_token(bot: Bot) -> None:
    raw = json.dumps({"id": "s-1", "title": "Model drift on ranker"}).encode()
    good = hmac.new(b"signed-source-secret-77", raw, sha256).hexdigest()

    def post(signature: str) -> Any:
        return bot.http.post(
            "/webhooks/signed",
            content=raw,
            headers={"Content-Type": "application/json", "X-Test-Signature": signature},
        )

    assert post("0" * 64).status_code == 401
    assert post(good).json()["opened"] is True


def test_amazon_sns_subscription_is_logged_not_fetched_and_text_bodies_are_json(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    url = "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=2336412f37"
    handshake = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37",
        "TopicArn": "arn:aws:sns:eu-west-1:123456789012:firebreak-alarms",
        "Message": "You have chosen to subscribe to the topic …",
        "SubscribeURL": url,
        "Timestamp": "2026-11-27T03:00:00.000Z",
    }
    basic = base64.b64encode(f"firebreak:{WEBHOOK_TOKEN}".encode()).decode()
    headers = {"Content-Type": "text/plain; charset=UTF-8", "Authorization": f"Basic {basic}"}
    with caplog.at_level(logging.WARNING, logger="bot.http.webhooks"):
        answer = bot.http.post("/webhooks/sns", content=json.dumps(handshake), headers=headers)
    assert answer.status_code == 200 and answer.json()["subscription"] == "logged"
    assert any(url in r.getMessage() for r in caplog.records)

    alarm = {"AlarmName": "ranker-5xx", "AlarmArn": "arn:aws:cloudwatch:eu-west-1:1:alarm:r"}
    note = {**handshake, "Type": "Notification", "Message": json.dumps(alarm)}
    note.pop("SubscribeURL")
    opened = bot.http.post("/webhooks/sns", content=json.dumps(note), headers=headers)
    assert opened.json()["opened"] is True
    wrong = base64.b64encode(b"firebreak:guess").decode()
    refused = bot.http.post(
        "/webhooks/sns", content=json.dumps(note), headers={**headers, "Authorization": wrong}
    )
    assert refused.status_code == 401
    # Only config sources take text/plain: Alertmanager always sends JSON as JSON.
    plain = bot.webhook("alertmanager", am_notification(), **{"Content-Type": "text/plain"})
    assert plain.status_code == 415


def test_an_old_alertmanager_without_fingerprints_and_a_truncated_group(bot: Bot) -> None:
    body = am_notification(am_alert(), am_alert(alertname="RankerLatencyHigh"))
    for alert in body["alerts"]:
        del alert["fingerprint"]
    body["truncatedAlerts"] = 3
    first = bot.webhook("alertmanager", body)
    assert first.json()["firing"] == 2
    assert bot.webhook("alertmanager", body).json()["firing"] == 0  # a repeat is a repeat
    incident = bot.announced("INC-1")
    notes = [t["text"] for t in incident["timeline"] if t["kind"] == "alerts.truncated"]
    assert notes == [
        "alertmanager left 3 alerts of this group out of its notification (its max_alerts): "
        "they are not listed here"
    ]
    wait_until(
        lambda: any(
            "left 3 alerts" in m["text"] for m in bot.workspace.messages(incident["channel_id"])
        ),
        what="the truncation said in the channel",
    )


def test_the_incident_list_says_how_many_alerts_still_fire(bot: Bot) -> None:
    bot.webhook("alertmanager", am_notification(am_alert(), am_alert(fingerprint="b" * 16)))
    resolved = am_alert(status="resolved", ends_at="2026-11-27T03:30:00Z")
    bot.webhook("alertmanager", am_notification(resolved, am_alert(fingerprint="b" * 16)))
    [listed] = bot.http.get("/api/incidents").json()
    assert (listed["alerts"], listed["alerts_firing"]) == (2, 1)
    detail = bot.incident("INC-1")
    assert (detail["alerts"], detail["alerts_firing"]) == (2, 1)


def _quiet(incident: str) -> dict[str, Any]:
    return {"incident": incident, "opened": False, "firing": 0, "resolved": 0, "ignored": 0}

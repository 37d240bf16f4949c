"""The ready-made sources of examples/sources/, read against bodies in the shape each sender's
public documentation gives (the values are ours)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.alerts.schemas import AlertBatch, AlertStatus, Ignored, Notification, SubscriptionRequest
from bot.alerts.sources.receiver import Receiver
from bot.alerts.sources.registry import receivers
from bot.alerts.sources.templated import make_receiver
from bot.config import BUILT_IN_SOURCES, ConfigError, FirebreakConfig, load_config
from tests.fakes import FakeClock
from tests.paths import ROOT

EXAMPLES = ROOT / "examples" / "sources"
NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
SENTRY_SECRET = "sentry-client-secret-4b1e"


def example(name: str) -> Receiver:
    config = load_config(EXAMPLES / f"{name}.yaml")
    assert list(config.sources) == [name]
    environ = {"FIREBREAK_SENTRY_SECRET": SENTRY_SECRET}
    return make_receiver(name, config.sources[name], clock=lambda: NOW, environ=environ)


def alerting(notification: Notification) -> AlertBatch:
    assert isinstance(notification, AlertBatch)
    return notification


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_reads_its_own_sample(path: Path) -> None:
    got = alerting(example(path.stem).parse(example(path.stem).sample))
    assert got.source == path.stem and got.alerts[0].status == AlertStatus.FIRING


# --- Datadog: the body is the payload template pasted into Datadog's Webhooks integration
# (examples/sources/datadog.yaml's comment), its $VARIABLES filled in as Datadog documents
# them (docs.datadoghq.com/integrations/webhooks/, "Variables").


def datadog_payload(**values: str) -> dict[str, Any]:
    text = (EXAMPLES / "datadog.yaml").read_text(encoding="utf-8")
    block = text.split("Payload (paste", 1)[1].split("Custom Headers", 1)[0]
    template = "\n".join(line.lstrip("# ") for line in block.splitlines()[1:])
    filled = re.sub(r"\$([A-Z_]+)", lambda m: json.dumps(values[m.group(1)])[1:-1], template)
    payload: dict[str, Any] = json.loads(filled)
    return payload


DATADOG_TRIGGERED = {
    "ALERT_ID": "48211907",
    "ALERT_TRANSITION": "Triggered",
    "ALERT_TITLE": "[Triggered on {endpoint:ranker-v7}] Ranker p99 latency above 800 ms",
    "ALERT_SCOPE": "endpoint:ranker-v7",
    "ALERT_CYCLE_KEY": "7281940163552114733",
    "ALERT_PRIORITY": "P2",
    "PRIORITY": "normal",
    "EVENT_MSG": 'p99 of search.ranker.latency was > 800.0 "on average" during the last 5m',
    "LINK": "https://app.datadoghq.com/event/jump_to?event_id=7740112093",
    "DATE": "1795748400000",
    "TAGS": "monitor, env:prod, service:search-ranker, team:search",
}
DATADOG_RECOVERED = {
    **DATADOG_TRIGGERED,
    "ALERT_TRANSITION": "Recovered",
    "ALERT_TITLE": "[Recovered on {endpoint:ranker-v7}] Ranker p99 latency above 800 ms",
    "DATE": "1795750200000",
}


def test_datadog_triggered_then_recovered() -> None:
    receiver = example("datadog")
    fired = alerting(receiver.parse(datadog_payload(**DATADOG_TRIGGERED)))
    resolved = alerting(receiver.parse(datadog_payload(**DATADOG_RECOVERED)))
    assert fired.group_key == resolved.group_key == "48211907"
    assert fired.alerts[0].fingerprint == resolved.alerts[0].fingerprint
    assert fired.alerts[0].status == AlertStatus.FIRING
    assert resolved.alerts[0].status == AlertStatus.RESOLVED
    assert fired.title == "Ranker p99 latency above 800 ms"
    assert (fired.service, fired.severity) == ("search-ranker", "P2")
    assert fired.alerts[0].starts_at == datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    assert resolved.alerts[0].ends_at == datetime(2026, 11, 27, 3, 30, tzinfo=UTC)
    assert fired.alerts[0].labels["env"] == "prod"


def test_datadog_groups_of_one_monitor_are_alerts_of_one_incident() -> None:
    receiver = example("datadog")
    other = {**DATADOG_TRIGGERED, "ALERT_SCOPE": "endpoint:ranker-v8"}
    one = alerting(receiver.parse(datadog_payload(**DATADOG_TRIGGERED)))
    two = alerting(receiver.parse(datadog_payload(**other)))
    assert one.group_key == two.group_key
    assert one.alerts[0].fingerprint != two.alerts[0].fingerprint


@pytest.mark.parametrize("transition", ["No Data", "Re-No Data", "Null"])
def test_datadog_no_data_is_ignored(transition: str) -> None:
    body = datadog_payload(**{**DATADOG_TRIGGERED, "ALERT_TRANSITION": transition})
    assert isinstance(example("datadog").parse(body), Ignored)


# --- CloudWatch through SNS: the envelope of SNS's HTTP/HTTPS notification JSON format
# (docs.aws.amazon.com/sns/latest/dg/http-notification-json.html) around a CloudWatch alarm's
# state change (the alarm message of docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
# Notify_Users_Alarm_Changes.html: AlarmName, NewStateValue, StateChangeTime, AlarmArn…).


def cloudwatch(state: str, changed: str) -> dict[str, Any]:
    alarm = {
        "AlarmName": "search-ranker-p99-latency",
        "AlarmDescription": None,
        "AWSAccountId": "210987654321",
        "NewStateValue": state,
        "NewStateReason": f"Threshold Crossed: datapoints moved the alarm to {state}.",
        "StateChangeTime": changed,
        "Region": "EU (Ireland)",
        "AlarmArn": "arn:aws:cloudwatch:eu-west-1:210987654321:alarm:search-ranker-p99-latency",
        "OldStateValue": "OK" if state == "ALARM" else "ALARM",
        "Trigger": {
            "MetricName": "ModelLatency",
            "Namespace": "AWS/SageMaker",
            "Statistic": "AVERAGE",
            "Unit": None,
            "Dimensions": [
                {"value": "search-ranker", "name": "EndpointName"},
                {"value": "AllTraffic", "name": "VariantName"},
            ],
            "Period": 60,
            "EvaluationPeriods": 3,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 800000.0,
        },
    }
    return {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": "arn:aws:sns:eu-west-1:210987654321:firebreak-alarms",
        "Subject": f'{state}: "search-ranker-p99-latency" in EU (Ireland)',
        "Message": json.dumps(alarm),
        "Timestamp": "2026-11-27T03:00:01.512Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLEw6JRN...",
        "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
        "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:eu-west-1:210987654321:firebreak-alarms:c9135db0",
    }


def test_cloudwatch_alarm_then_ok() -> None:
    receiver = example("cloudwatch")
    fired = alerting(receiver.parse(cloudwatch("ALARM", "2026-11-27T03:00:00.000+0000")))
    resolved = alerting(receiver.parse(cloudwatch("OK", "2026-11-27T03:30:00.000+0000")))
    arn = "arn:aws:cloudwatch:eu-west-1:210987654321:alarm:search-ranker-p99-latency"
    assert fired.group_key == resolved.group_key == arn
    assert fired.alerts[0].fingerprint == resolved.alerts[0].fingerprint
    assert [fired.alerts[0].status, resolved.alerts[0].status] == [
        AlertStatus.FIRING,
        AlertStatus.RESOLVED,
    ]
    assert (fired.title, fired.service) == ("search-ranker-p99-latency", "search-ranker")
    assert fired.alerts[0].starts_at == datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    assert resolved.alerts[0].ends_at == datetime(2026, 11, 27, 3, 30, tzinfo=UTC)
    assert fired.external_url == (
        "https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
        "#alarmsV2:alarm/search-ranker-p99-latency"
    )
    assert fired.alerts[0].labels["metric"] == "AWS/SageMaker/ModelLatency"


def test_cloudwatch_insufficient_data_is_ignored() -> None:
    body = cloudwatch("INSUFFICIENT_DATA", "2026-11-27T03:00:00.000+0000")
    assert isinstance(example("cloudwatch").parse(body), Ignored)


def test_cloudwatch_subscription_is_confirmed_through_sns() -> None:
    receiver = example("cloudwatch")
    assert receiver.text_bodies and receiver.bearer  # SNS: text/plain, basic-auth token
    # SNS's HTTP/HTTPS subscription confirmation JSON format
    # (docs.aws.amazon.com/sns/latest/dg/http-subscription-confirmation-json.html).
    url = "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:eu-west-1:210987654321:firebreak-alarms&Token=2336412f37fb"
    got = receiver.parse(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
            "Token": "2336412f37fb",
            "TopicArn": "arn:aws:sns:eu-west-1:210987654321:firebreak-alarms",
            "Message": "You have chosen to subscribe to the topic arn:aws:sns:eu-west-1:…",
            "SubscribeURL": url,
            "Timestamp": "2026-11-27T02:00:00.000Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLEpH+...",
            "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
        }
    )
    assert got == SubscriptionRequest(
        source="cloudwatch",
        topic="arn:aws:sns:eu-west-1:210987654321:firebreak-alarms",
        subscribe_url=url,
    )


# --- Sentry: an issue alert's webhook (docs.sentry.io/organization/integrations/
# integration-platform/webhooks/issue-alerts/) and the issue resource's "resolved"
# (…/webhooks/issues/).


def sentry_alert() -> dict[str, Any]:
    event_id = "9c1d6a2e4b7f4e0a8d3c5b1f2e6a7d90"
    return {
        "action": "triggered",
        "actor": {"id": "sentry", "name": "Sentry", "type": "application"},
        "data": {
            "event": {
                "culprit": "ranker.features in fetch_features",
                "datetime": "2026-11-27T03:00:00.000000Z",
                "event_id": event_id,
                "issue_url": "https://sentry.io/api/0/issues/4402917733/",
                "issue_id": "4402917733",
                "level": "error",
                "platform": "python",
                "project": 7,
                "tags": [["environment", "production"], ["handled", "no"], ["level", "error"]],
                "timestamp": 1795748400.0,
                "title": "RankerTimeout: feature store did not answer in 250 ms",
                "type": "error",
                "url": f"https://sentry.io/api/0/projects/acme/search-ranker/events/{event_id}/",
                "web_url": f"https://sentry.io/organizations/acme/issues/4402917733/events/{event_id}/",
            },
            "triggered_rule": "Ranker errors above baseline",
            "issue_alert": {"title": "Ranker errors above baseline", "settings": []},
        },
        "installation": {"uuid": "3f1e9b2c-6d4a-4c8e-9f7b-2a1d5e8c0b64"},
    }


def sentry_issue(action: str, status: str) -> dict[str, Any]:
    return {
        "action": action,
        "actor": {"id": 12, "name": "Ana", "type": "user"},
        "data": {
            "issue": {
                "assignedTo": None,
                "count": "31",
                "culprit": "ranker.features in fetch_features",
                "firstSeen": "2026-11-27T02:58:41.102000Z",
                "id": "4402917733",
                "lastSeen": "2026-11-27T03:12:09.554000Z",
                "level": "error",
                "metadata": {"type": "RankerTimeout", "value": "feature store did not answer"},
                "permalink": None,
                "platform": "python",
                "project": {"id": "7", "name": "search-ranker", "slug": "search-ranker"},
                "shortId": "SEARCH-RANKER-2F",
                "status": status,
                "statusDetails": {},
                "substatus": None,
                "title": "RankerTimeout: feature store did not answer in 250 ms",
                "type": "error",
                "userCount": 9,
            }
        },
        "installation": {"uuid": "3f1e9b2c-6d4a-4c8e-9f7b-2a1d5e8c0b64"},
    }


def test_sentry_issue_alert_then_issue_resolved() -> None:
    receiver = example("sentry")
    fired = alerting(receiver.parse(sentry_alert()))
    resolved = alerting(receiver.parse(sentry_issue("resolved", "resolved")))
    assert fired.group_key == resolved.group_key == "4402917733"
    assert fired.alerts[0].fingerprint == resolved.alerts[0].fingerprint
    assert fired.alerts[0].status == AlertStatus.FIRING
    assert resolved.alerts[0].status == AlertStatus.RESOLVED
    assert fired.title == "RankerTimeout: feature store did not answer in 250 ms"
    assert fired.service == resolved.service == "search-ranker"
    assert fired.severity == "error"
    assert fired.alerts[0].labels["environment"] == "production"
    assert resolved.alerts[0].ends_at == NOW  # a resolution carries no time of its own


@pytest.mark.parametrize("action", ["created", "assigned", "archived", "unresolved"])
def test_sentry_other_issue_actions_are_ignored(action: str) -> None:
    assert isinstance(example("sentry").parse(sentry_issue(action, "unresolved")), Ignored)


def test_sentry_bodies_are_signed_instead_of_bearing_the_token() -> None:
    receiver = example("sentry")
    assert not receiver.bearer and receiver.verify is not None
    raw = json.dumps(sentry_alert()).encode()
    digest = hmac.new(SENTRY_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    receiver.verify({"Sentry-Hook-Signature": digest}, raw, 0.0)


# --- Superwise: the webhook format of docs.superwise.ai/v0.1/docs/slack-webhook (subject,
# description, attributes, severity Info|Medium|Error|Critical, timestamp, link). Superwise
# sends nothing when an incident closes.


def superwise(severity: str) -> dict[str, Any]:
    return {
        "subject": "Input drift on search-ranker",
        "description": "Feature query_length drifted from its training distribution.",
        "attributes": {"model_name": "search-ranker", "policy": "Feature drift"},
        "severity": severity,
        "timestamp": "2026-11-27T03:00:00",
        "link": "https://portal.superwise.ai/incidents/7b3e2f90",
    }


def test_superwise_incident_fires() -> None:
    fired = alerting(example("superwise").parse(superwise("Critical")))
    assert fired.group_key == fired.alerts[0].fingerprint == "Input drift on search-ranker"
    assert fired.alerts[0].status == AlertStatus.FIRING
    assert (fired.title, fired.service) == ("Input drift on search-ranker", "search-ranker")
    assert fired.severity == "Critical"
    assert fired.alerts[0].starts_at == NOW
    assert alerting(example("superwise").parse(superwise("Medium"))).severity == "warning"


def test_superwise_info_is_ignored() -> None:
    assert isinstance(example("superwise").parse(superwise("Info")), Ignored)


def test_a_source_cannot_take_a_built_in_receivers_name(tmp_path: Path) -> None:
    path = tmp_path / "firebreak.yaml"
    path.write_text('sources:\n  grafana:\n    group_key: "{{ payload.id }}"\n    title: t\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "sources.grafana: /webhooks/grafana is a built-in receiver" in str(caught.value)


def test_every_built_in_receiver_is_a_name_no_config_source_may_take() -> None:
    built = receivers(config=FirebreakConfig(), clock=FakeClock(), environ={})
    assert set(built) | {"changes"} == set(BUILT_IN_SOURCES)

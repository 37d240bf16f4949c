from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.alerts.schemas import AlertBatch, AlertStatus, Ignored, Notification, SubscriptionRequest
from bot.alerts.sources.errors import BadSignature, Unreadable
from bot.alerts.sources.receiver import Receiver
from bot.alerts.sources.templated import SourceError, compile_source, make_receiver
from bot.config import SourceSpec

NOW = datetime(2026, 11, 27, 3, 30, tzinfo=UTC)
SECRET = "s3cret-signing-key-9f2c"

DATADOG = {
    "group_key": "{{ payload.alert_id }}",
    "title": "{{ payload.alert_title }}",
    "status": "{{ 'resolved' if payload.alert_transition == 'Recovered' else 'firing' }}",
    "service": "{{ payload.service }}",
    "severity": "{{ payload.priority }}",
    "description": "{{ payload.body }}",
    "link": "{{ payload.link }}",
    "started_at": "{{ payload.date }}",
    "labels": {"team": "{{ payload.team }}"},
}


def body(**kw: Any) -> dict[str, Any]:
    return {
        "alert_id": "1234",
        "alert_title": "Ranker p99 above 800 ms",
        "alert_transition": "Triggered",
        "service": "search-ranker",
        "priority": "P2",
        "body": "p99 was 912 ms over 5 min",
        "link": "https://app.datadoghq.com/monitors/1234",
        "date": "1795748400000",
        "team": "search",
        **kw,
    }


def receiver(environ: dict[str, str] | None = None, **fields: Any) -> Receiver:
    spec = SourceSpec.model_validate({**DATADOG, **fields})
    return make_receiver("datadog", spec, clock=lambda: NOW, environ=environ or {})


def read(payload: Any, **fields: Any) -> Notification:
    return receiver(**fields).parse(payload)


def batch(payload: Any, **fields: Any) -> AlertBatch:
    notification = read(payload, **fields)
    assert isinstance(notification, AlertBatch)
    return notification


def unreadable(payload: Any, **fields: Any) -> Unreadable:
    with pytest.raises(Unreadable) as caught:
        read(payload, **fields)
    return caught.value


def test_a_firing_notification_is_one_keyed_group_of_one_alert() -> None:
    got = batch(body())
    assert (got.source, got.group_key, got.keyed) == ("datadog", "1234", True)
    assert (got.title, got.service, got.severity) == (
        "Ranker p99 above 800 ms",
        "search-ranker",
        "P2",
    )
    assert got.external_url == "https://app.datadoghq.com/monitors/1234"
    [alert] = got.alerts
    assert alert.status == AlertStatus.FIRING and alert.ends_at is None
    assert alert.fingerprint == "1234"  # alert_key defaults to the group key
    assert alert.starts_at == datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    assert alert.labels == {"team": "search", "alertname": "Ranker p99 above 800 ms"}
    assert got.common_labels == alert.labels
    assert alert.annotations == {
        "summary": "Ranker p99 above 800 ms",
        "description": "p99 was 912 ms over 5 min",
    }
    assert alert.generator_url == "https://app.datadoghq.com/monitors/1234"


def test_a_resolved_notification_ends_when_its_time_says() -> None:
    got = batch(body(alert_transition="Recovered", date="1795750200"))
    [alert] = got.alerts
    resolved_at = datetime(2026, 11, 27, 3, 30, tzinfo=UTC)
    assert alert.status == AlertStatus.RESOLVED
    assert alert.ends_at == alert.starts_at == resolved_at
    assert (got.group_key, alert.fingerprint) == ("1234", "1234")


def test_a_resolved_notification_without_a_time_ends_on_receipt() -> None:
    [alert] = batch(body(alert_transition="Recovered", date="")).alerts
    assert alert.ends_at == NOW


@pytest.mark.parametrize(
    ("word", "expected"),
    [(" Firing ", AlertStatus.FIRING), ("RESOLVED", AlertStatus.RESOLVED)],
)
def test_status_words_ignore_case_and_spaces(word: str, expected: AlertStatus) -> None:
    [alert] = batch(body(state=word), status="{{ payload.state }}").alerts
    assert alert.status == expected


def test_ignore_reads_no_other_field() -> None:
    # The title's field is missing: an ignored notification never gets that far.
    got = read({"state": "ignore"}, status="{{ payload.state }}")
    assert got == Ignored(source="datadog", reason="the status expression says ignore")


def test_an_unknown_status_lists_the_allowed_words() -> None:
    error = unreadable(body(state="ok"), status="{{ payload.state }}")
    assert (error.field, error.expression) == ("status", "{{ payload.state }}")
    assert error.reason == "rendered 'ok'; expected one of firing, resolved, ignore"


def test_alert_key_splits_a_group_into_alerts() -> None:
    got = batch(body(host="ip-10-0-0-7"), alert_key="{{ payload.alert_id }}/{{ payload.host }}")
    assert got.group_key == "1234" and got.alerts[0].fingerprint == "1234/ip-10-0-0-7"


def test_an_alert_key_too_long_for_the_store_is_hashed() -> None:
    long_key = "k" * 129
    [alert] = batch(body(key=long_key), alert_key="{{ payload.key }}").alerts
    assert alert.fingerprint == hashlib.sha256(long_key.encode()).hexdigest()


def test_long_titles_are_cut_to_the_store_and_long_group_keys_hashed() -> None:
    got = batch(body(alert_title="t" * 400, alert_id="g" * 10_001))
    assert got.title is not None and len(got.title) == 300 and got.title.endswith("…")
    assert got.group_key == hashlib.sha256(("g" * 10_001).encode()).hexdigest()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("1795748400", datetime(2026, 11, 27, 3, 0, tzinfo=UTC)),  # epoch seconds
        ("1795748400.5", datetime(2026, 11, 27, 3, 0, 0, 500000, tzinfo=UTC)),
        ("1795748400000", datetime(2026, 11, 27, 3, 0, tzinfo=UTC)),  # epoch milliseconds
        ("2026-11-27T04:00:00+01:00", datetime(2026, 11, 27, 3, 0, tzinfo=UTC)),
        ("2026-11-27T03:00:00Z", datetime(2026, 11, 27, 3, 0, tzinfo=UTC)),
        ("2026-11-27T03:00:00.000+0000", datetime(2026, 11, 27, 3, 0, tzinfo=UTC)),  # CloudWatch
        ("", NOW),  # none given: received now
    ],
)
def test_started_at_reads_rfc3339_and_epochs(given: str, expected: datetime) -> None:
    assert batch(body(date=given)).alerts[0].starts_at == expected


def test_started_at_absent_from_the_spec_is_the_receipt() -> None:
    spec = {k: v for k, v in DATADOG.items() if k != "started_at"}
    got = make_receiver(
        "datadog", SourceSpec.model_validate(spec), clock=lambda: NOW, environ={}
    ).parse(body())
    assert isinstance(got, AlertBatch) and got.alerts[0].starts_at == NOW


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("yesterday", "'yesterday' is not a time"),
        ("2026-11-27T03:00:00", "has no zone"),
        ("99999999999999999999999", "is out of range for a time"),
    ],
)
def test_an_unreadable_time_names_the_field(given: str, reason: str) -> None:
    error = unreadable(body(date=given))
    assert (error.field, error.expression) == ("started_at", "{{ payload.date }}")
    assert reason in error.reason


def test_a_missing_field_names_the_field_and_expression() -> None:
    payload = body()
    del payload["alert_id"]
    error = unreadable(payload)
    assert (error.field, error.expression) == ("group_key", "{{ payload.alert_id }}")
    assert error.reason == "'dict object' has no attribute 'alert_id'"
    assert "group_key" in str(error) and "{{ payload.alert_id }}" in str(error)


def test_a_missing_label_names_the_label() -> None:
    payload = body()
    del payload["team"]
    error = unreadable(payload)
    assert (error.field, error.expression) == ("labels.team", "{{ payload.team }}")


def test_a_wrong_type_is_unreadable() -> None:
    error = unreadable(body(alert_id=7), group_key="{{ payload.alert_id + '-dd' }}")
    assert error.field == "group_key"
    assert error.reason.startswith("TypeError: unsupported operand")


@pytest.mark.parametrize("field", ["group_key", "title"])
def test_required_fields_must_not_render_empty(field: str) -> None:
    error = unreadable(body(blank="   "), **{field: "{{ payload.blank }}"})
    assert (error.field, error.expression, error.reason) == (
        field,
        "{{ payload.blank }}",
        "is empty",
    )


def test_empty_optional_fields_and_labels_are_left_out() -> None:
    got = batch(body(service=None, priority="", body=None, link="", team=""))
    [alert] = got.alerts
    assert (got.service, got.severity, got.external_url, alert.generator_url) == (None,) * 4
    assert alert.annotations == {"summary": "Ranker p99 above 800 ms"}
    assert alert.labels == {"alertname": "Ranker p99 above 800 ms"}


def test_unknown_fields_of_the_body_are_simply_unused() -> None:
    assert batch(body(org={"id": 9}, extra=[1, 2])).group_key == "1234"


def test_a_body_that_is_not_an_object_can_be_read_too() -> None:
    got = batch(
        [{"id": "a1", "name": "Drift"}],
        group_key="{{ payload[0].id }}",
        title="{{ payload[0].name }}",
        status="firing",
        started_at=None,
        service=None,
        severity=None,
        description=None,
        link=None,
        labels={},
    )
    assert (got.group_key, got.title) == ("a1", "Drift")


def test_from_json_reads_a_string_field() -> None:
    message = '{"AlarmName": "ranker-latency", "NewStateValue": "ALARM"}'
    got = batch(
        body(Message=message),
        title="{{ (payload.Message | from_json).AlarmName }}",
        status="{{ {'ALARM': 'firing'}.get((payload.Message | from_json).NewStateValue) }}",
    )
    assert got.title == "ranker-latency" and got.alerts[0].status == AlertStatus.FIRING


@pytest.mark.parametrize(
    ("message", "reason"),
    [("not json", "from_json: not JSON: Expecting value"), (42, "from_json: expects a string")],
)
def test_from_json_failures_are_unreadable(message: object, reason: str) -> None:
    error = unreadable(body(Message=message), title="{{ (payload.Message | from_json).x }}")
    assert error.field == "title" and error.reason.startswith(reason)


@pytest.mark.parametrize(
    "tags",
    [
        ["env:prod", "service:search-ranker"],
        "monitor, env:prod, service:search-ranker",
        [["env", "prod"], ["service", "search-ranker"]],  # Sentry's pairs
        {"service": "search-ranker"},
    ],
)
def test_tag_finds_a_value_by_name(tags: object) -> None:
    assert batch(body(tags=tags), service="{{ payload.tags | tag('service') }}").service == (
        "search-ranker"
    )


@pytest.mark.parametrize("tags", [["env:prod"], "", None, []])
def test_tag_is_empty_when_absent(tags: object) -> None:
    assert batch(body(tags=tags), service="{{ payload.tags | tag('service') }}").service is None


def test_tag_of_a_missing_field_names_the_field() -> None:
    error = unreadable(body(), service="{{ payload.tags | tag('service') }}")
    assert error.field == "service" and error.reason == "'dict object' has no attribute 'tags'"


def test_tag_of_a_number_is_unreadable() -> None:
    error = unreadable(body(tags=5), service="{{ payload.tags | tag('service') }}")
    assert error.reason == "tag: expects a list or a comma-separated string, got int"


def test_the_sandbox_refuses_to_change_the_body() -> None:
    error = unreadable(body(queue=[]), title="{{ payload.queue.append(1) }}")
    assert error.field == "title" and error.reason.startswith("SecurityError: access to")


def test_a_syntax_error_is_refused_when_compiling() -> None:
    spec = SourceSpec.model_validate({**DATADOG, "title": "{{ payload.alert_title "})
    with pytest.raises(SourceError) as caught:
        compile_source("datadog", spec)
    message = str(caught.value)
    assert message.startswith("sources.datadog.title: not a valid expression")
    assert "'{{ payload.alert_title '" in message


def test_a_label_syntax_error_names_the_label() -> None:
    spec = SourceSpec.model_validate({**DATADOG, "labels": {"team": "{% if %}"}})
    with pytest.raises(SourceError, match=r"^sources\.datadog\.labels\.team: "):
        compile_source("datadog", spec)


def test_alertname_is_the_title_and_cannot_be_a_label() -> None:
    spec = SourceSpec.model_validate({**DATADOG, "labels": {"alertname": "{{ payload.x }}"}})
    with pytest.raises(SourceError, match=r"^sources\.datadog\.labels\.alertname: "):
        compile_source("datadog", spec)


def test_the_receiver_takes_text_bodies_and_passes_spec_settings() -> None:
    got = receiver(confirm_subscription=True, sample=body())
    assert got.text_bodies and got.confirm_subscription and got.sample == body()
    assert got.bearer and got.verify is None  # no signature: the webhook token


SIGNED = {"signature": {"header": "X-Hook-Signature", "secret_env": "HOOK_SECRET"}}
RAW = b'{"alert_id": "1234"}'
GOOD = hmac.new(SECRET.encode(), RAW, hashlib.sha256).hexdigest()


def signed_receiver() -> Receiver:
    got = receiver(environ={"HOOK_SECRET": SECRET}, **SIGNED)
    assert not got.bearer and got.verify is not None
    return got


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Hook-Signature": GOOD},
        {"x-hook-signature": f" {GOOD.upper()} "},
        {"X-Hook-Signature": f"sha256={GOOD}"},
    ],
)
def test_a_good_signature_passes(headers: dict[str, str]) -> None:
    verify = signed_receiver().verify
    assert verify is not None
    verify(headers, RAW, 0.0)


@pytest.mark.parametrize(
    ("headers", "raw", "reason"),
    [
        ({}, RAW, "missing X-Hook-Signature header"),
        ({"X-Hook-Signature": "  "}, RAW, "missing X-Hook-Signature header"),
        ({"X-Hook-Signature": GOOD}, RAW + b" ", "X-Hook-Signature does not match the body"),
        ({"X-Hook-Signature": "0" * 64}, RAW, "X-Hook-Signature does not match the body"),
    ],
)
def test_a_bad_or_missing_signature_is_refused(
    headers: dict[str, str], raw: bytes, reason: str
) -> None:
    verify = signed_receiver().verify
    assert verify is not None
    with pytest.raises(BadSignature) as caught:
        verify(headers, raw, 0.0)
    assert str(caught.value) == reason and SECRET not in str(caught.value)


@pytest.mark.parametrize("environ", [{}, {"HOOK_SECRET": ""}])
def test_a_missing_signing_secret_is_refused_when_building(environ: dict[str, str]) -> None:
    with pytest.raises(SourceError) as caught:
        receiver(environ=environ, **SIGNED)
    message = str(caught.value)
    assert message.startswith("sources.datadog.signature.secret_env: environment variable")
    assert "HOOK_SECRET" in message


def sns(**kw: Any) -> dict[str, Any]:
    # The shape of SNS's HTTP/HTTPS subscription confirmation (docs.aws.amazon.com/sns/latest/
    # dg/http-subscription-confirmation-json.html).
    return {
        "Type": "SubscriptionConfirmation",
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37fb687f5d51e6e2425dacbba2a4f6",
        "TopicArn": "arn:aws:sns:eu-west-1:210987654321:firebreak-alarms",
        "Message": "You have chosen to subscribe to the topic …",
        "SubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=2336",
        "Timestamp": "2026-11-27T03:00:00.000Z",
        **kw,
    }


@pytest.mark.parametrize(
    "url",
    [
        "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=2336",
        "https://sns.cn-north-1.amazonaws.com.cn/?Action=ConfirmSubscription&Token=2336",
        "https://sns.us-gov-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=2336",
    ],
)
def test_an_sns_subscription_request_is_answered_before_any_expression(url: str) -> None:
    got = read(sns(SubscribeURL=url))  # none of the Datadog fields: no expression ran
    assert got == SubscriptionRequest(
        source="datadog",
        topic="arn:aws:sns:eu-west-1:210987654321:firebreak-alarms",
        subscribe_url=url,
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://attacker.example.com/?Action=ConfirmSubscription",
        "http://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription",
        "https://sns.eu-west-1.amazonaws.com.attacker.example/",
        "https://sns.eu-west-1.amazonaws.com@attacker.example/",
        "https://evilsns.eu-west-1.amazonaws.com/",
        "https://[sns.eu-west-1.amazonaws.com/",
        "",
        None,
    ],
)
def test_a_subscribe_url_outside_amazon_sns_is_refused(url: str | None) -> None:
    error = unreadable(sns(SubscribeURL=url))
    assert (error.field, error.expression) == ("SubscribeURL", "payload.SubscribeURL")


def test_an_sns_unsubscribe_confirmation_is_ignored() -> None:
    got = read(sns(Type="UnsubscribeConfirmation"))
    assert isinstance(got, Ignored) and got.source == "datadog"

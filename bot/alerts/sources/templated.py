"""Config-defined alert sources: firebreak.yaml's `sources:` entries, each read by sandboxed
Jinja2 expressions over the parsed JSON body (`payload`).

Each field of a SourceSpec is a template rendered to a string. What it renders to is then read
by the rules below (status words, times, keys); anything an expression cannot read raises
errors.Unreadable naming the field and the expression, and the HTTP layer answers 422.

Times: `started_at` is the time the sender gives its notification. For a firing one that is
when the problem started; for a resolved one it is when it resolved (Datadog's $DATE,
CloudWatch's StateChangeTime and Sentry's timestamps all mean "when this happened"), so a
resolved alert ends then. Without a time the notification's receipt stands in for it. A
resolved alert's start is that same moment: the batch is `keyed`, so the store matches it to
the firing occurrence by its key, not by its start.

Amazon SNS: a subscription's confirmation request is answered before any expression runs,
and only for an https SubscribeURL on an SNS host (Firebreak may fetch it)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, Undefined
from jinja2.exceptions import UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.alerts.schemas import (
    Alert,
    AlertBatch,
    AlertStatus,
    Ignored,
    Notification,
    SubscriptionRequest,
)
from bot.alerts.sources.errors import BadSignature, Unreadable
from bot.alerts.sources.receiver import Receiver, Verify
from bot.config import SignatureSpec, SourceSpec

# The store's limits: incidents.title is 300 characters, alerts.fingerprint 128.
TITLE_MAX = 300
FINGERPRINT_MAX = 128
# No store limit on group keys; longer than a group key of Alertmanager's, a key is hashed
# rather than cut, so that two long keys differing at the end stay two groups.
GROUP_KEY_MAX = 10_000
REASON_MAX = 300  # an error's text quoted back to the sender
STATUSES = ("firing", "resolved", "ignore")
IGNORE_REASON = "the status expression says ignore"
# Epoch numbers above this are milliseconds: 1e11 seconds is the year 5138, 1e11 ms is 1973.
MILLISECONDS_ABOVE = 1e11
EPOCH = re.compile(r"\d+(\.\d+)?")
# SNS endpoints: sns.<region>.amazonaws.com, or .amazonaws.com.cn in the China regions.
SNS_HOST = re.compile(r"sns\.[a-z]{2}(-[a-z]+)+-\d+\.amazonaws\.com(\.cn)?")
# Read in this order: an `ignore` status skips the rest (those bodies may lack the fields).
SCALAR_FIELDS = (
    "status",
    "group_key",
    "title",
    "alert_key",
    "service",
    "severity",
    "description",
    "link",
    "started_at",
)


class SourceError(ValueError):
    """A source that cannot be built: the message names `sources.<name>.<field>`."""


class _FilterFailed(Exception):
    """A filter refused its input; the message says why (it becomes Unreadable's reason)."""


def _defined(value: object) -> None:
    # str() of a StrictUndefined raises its UndefinedError ("… has no attribute …"), which
    # names the missing field better than a filter's complaint about its input would.
    if isinstance(value, Undefined):
        str(value)


def _from_json(value: object) -> Any:
    """A JSON document inside a string field (Amazon SNS's Message) → its value."""
    _defined(value)
    if not isinstance(value, str | bytes):
        raise _FilterFailed(f"from_json: expects a string, got {type(value).__name__}")
    try:
        return json.loads(value)
    except ValueError as exc:
        raise _FilterFailed(f"from_json: not JSON: {exc}") from exc


def _tag(value: object, name: str) -> str:
    """The value of tag `name` in ["env:prod", "service:x"], "env:prod, service:x", or Sentry's
    [["env", "prod"], …] pairs; "" when absent."""
    _defined(value)
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return str(value.get(name, ""))
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        raise _FilterFailed(
            f"tag: expects a list or a comma-separated string, got {type(value).__name__}"
        )
    for item in value:
        key, found = _tag_pair(item)
        if key == name:
            return found
    return ""


def _tag_pair(item: object) -> tuple[str, str]:
    if isinstance(item, list | tuple) and len(item) == 2:
        return str(item[0]).strip(), str(item[1]).strip()
    key, _, found = str(item).strip().partition(":")
    return key.strip(), found.strip()


def _environment() -> ImmutableSandboxedEnvironment:
    # Autoescape off: what renders is data, escaped wherever it is shown later. JSON null
    # renders as "" rather than "None", so an absent optional value reads as absent.
    env = ImmutableSandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        finalize=lambda value: "" if value is None else value,
    )
    env.filters["from_json"] = _from_json
    env.filters["tag"] = _tag
    return env


@dataclass(frozen=True)
class Expression:
    field: str
    text: str
    template: Template

    def render(self, payload: Any) -> str:
        """The stripped result; any failure is Unreadable (the body does not fit the source)."""
        try:
            return self.template.render(payload=payload).strip()
        except UndefinedError as exc:
            reason = exc.message or "undefined value"
        except _FilterFailed as exc:
            reason = str(exc)
        except Exception as exc:  # a team's expression may fail any way; all are the same 422
            reason = f"{type(exc).__name__}: {exc}"
        raise self.unreadable(reason)

    def unreadable(self, reason: str) -> Unreadable:
        return Unreadable(field=self.field, expression=self.text, reason=reason[:REASON_MAX])


@dataclass(frozen=True)
class CompiledSource:
    """A source's expressions, compiled once: read() turns a parsed body into what it says."""

    name: str
    fields: dict[str, Expression]
    labels: dict[str, Expression]

    def read(self, payload: Any, *, now: datetime) -> Notification:
        sns = _sns_handshake(self.name, payload)
        if sns is not None:
            return sns
        status = self._status(payload)
        if status is None:
            return Ignored(source=self.name, reason=IGNORE_REASON)
        values = {f: self.fields[f].render(payload) for f in SCALAR_FIELDS[1:] if f in self.fields}
        return self._batch(payload, status=status, values=values, now=now)

    def _status(self, payload: Any) -> AlertStatus | None:
        expression = self.fields["status"]
        word = expression.render(payload).lower()
        if word not in STATUSES:
            raise expression.unreadable(f"rendered {word!r}; expected one of {', '.join(STATUSES)}")
        return None if word == "ignore" else AlertStatus(word)

    def _batch(
        self, payload: Any, *, status: AlertStatus, values: dict[str, str], now: datetime
    ) -> AlertBatch:
        group_key = self._required(values, "group_key")
        title = _shorten(self._required(values, "title"), TITLE_MAX)
        link = values.get("link") or None
        annotations = {"summary": title}
        if values.get("description"):
            annotations["description"] = values["description"]
        starts, ends = self._times(values.get("started_at", ""), status=status, now=now)
        alert = Alert(
            fingerprint=_hashed(values.get("alert_key") or group_key, FINGERPRINT_MAX),
            status=status,
            labels={**self._labels(payload), "alertname": title},
            annotations=annotations,
            starts_at=starts,
            ends_at=ends,
            generator_url=link,
        )
        return AlertBatch(
            source=self.name,
            group_key=_hashed(group_key, GROUP_KEY_MAX),
            alerts=[alert],
            common_labels=dict(alert.labels),
            common_annotations=dict(annotations),
            external_url=link,
            title=title,
            keyed=True,
            service=values.get("service") or None,
            severity=values.get("severity") or None,
        )

    def _times(
        self, text: str, *, status: AlertStatus, now: datetime
    ) -> tuple[datetime, datetime | None]:
        """The alert's start and end: a resolved notification's time is when it resolved."""
        at = self._moment(text) or now
        return at, (at if status == AlertStatus.RESOLVED else None)

    def _required(self, values: dict[str, str], field: str) -> str:
        if not values[field]:
            raise self.fields[field].unreadable("is empty")
        return values[field]

    def _labels(self, payload: Any) -> dict[str, str]:
        rendered = {key: e.render(payload) for key, e in self.labels.items()}
        return {key: value for key, value in rendered.items() if value}

    def _moment(self, text: str) -> datetime | None:
        if not text:
            return None
        try:
            return _parse_moment(text)
        except ValueError as exc:
            raise self.fields["started_at"].unreadable(str(exc)) from exc


def _parse_moment(text: str) -> datetime:
    """RFC 3339 with a zone, or epoch seconds or milliseconds."""
    if EPOCH.fullmatch(text):
        number = float(text)
        seconds = number / 1000 if number > MILLISECONDS_ABOVE else number
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):  # which one depends on the platform
            raise ValueError(f"{text[:40]!r} is out of range for a time") from None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text[:40]!r} is not a time: give RFC 3339 (2026-11-27T03:00:00Z) or epoch "
            "seconds or milliseconds"
        ) from None
    if moment.tzinfo is None:
        raise ValueError(f"{text[:40]!r} has no zone: add one (Z, +01:00)")
    return moment.astimezone(UTC)


def _shorten(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def _hashed(key: str, most: int) -> str:
    return key if len(key) <= most else hashlib.sha256(key.encode()).hexdigest()


def _sns_handshake(name: str, payload: Any) -> Notification | None:
    """Amazon SNS's own messages about the subscription (not a topic's notifications)."""
    if not isinstance(payload, dict):
        return None
    kind = payload.get("Type")
    if kind == "UnsubscribeConfirmation":
        return Ignored(source=name, reason="Amazon SNS unsubscribe confirmation")
    if kind != "SubscriptionConfirmation":
        return None
    url = _sns_subscribe_url(payload.get("SubscribeURL"))
    topic = str(payload.get("TopicArn", ""))
    return SubscriptionRequest(source=name, topic=topic, subscribe_url=url)


def _sns_subscribe_url(url: object) -> str:
    # Firebreak may fetch this URL (confirm_subscription): never one outside Amazon SNS.
    if not isinstance(url, str) or not url:
        raise _refused("missing: a SubscriptionConfirmation must give the URL that confirms it")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError as exc:  # e.g. an unclosed [IPv6] host
        raise _refused(f"not a URL: {exc}") from exc
    if parts.scheme != "https" or not SNS_HOST.fullmatch(host):
        raise _refused(
            f"refused: not an Amazon SNS address (https://sns.<region>.amazonaws.com/…), "
            f"host {host[:80]!r}"
        )
    return url


def _refused(reason: str) -> Unreadable:
    return Unreadable(field="SubscribeURL", expression="payload.SubscribeURL", reason=reason)


def compile_source(name: str, spec: SourceSpec) -> CompiledSource:
    """Every expression of `spec`, compiled once. Raises SourceError naming the field."""
    env = _environment()
    texts = {f: getattr(spec, f) for f in SCALAR_FIELDS if getattr(spec, f) is not None}
    if "alertname" in spec.labels:
        raise SourceError(
            f"sources.{name}.labels.alertname: the alertname label is always the title; "
            "set `title` instead"
        )
    return CompiledSource(
        name=name,
        fields={f: _compile(env, name=name, field=f, text=t) for f, t in texts.items()},
        labels={
            key: _compile(env, name=name, field=f"labels.{key}", text=text)
            for key, text in spec.labels.items()
        },
    )


def _compile(env: ImmutableSandboxedEnvironment, *, name: str, field: str, text: str) -> Expression:
    try:
        template = env.from_string(text)
    except TemplateSyntaxError as exc:
        raise SourceError(
            f"sources.{name}.{field}: not a valid expression ({exc.message}): {text!r}"
        ) from exc
    return Expression(field=field, text=text, template=template)


def make_receiver(
    name: str,
    spec: SourceSpec,
    *,
    clock: Callable[[], datetime],
    environ: Mapping[str, str],
) -> Receiver:
    """The receiver answering /webhooks/<name>. Raises SourceError when an expression does not
    compile or the signature's secret is not in the environment."""
    source = compile_source(name, spec)
    verify = _verifier(name, spec.signature, environ) if spec.signature else None

    def parse(body: Any) -> Notification:
        return source.read(body, now=clock())

    return Receiver(
        parse=parse,
        verify=verify,
        bearer=verify is None,  # a sender that signs cannot also send the bearer token
        text_bodies=True,  # Amazon SNS posts its JSON as text/plain
        confirm_subscription=spec.confirm_subscription,
        sample=spec.sample,
    )


def _verifier(name: str, spec: SignatureSpec, environ: Mapping[str, str]) -> Verify:
    secret = environ.get(spec.secret_env, "")
    if not secret:
        # The variable's name only: its value is a secret, and it is unset here anyway.
        raise SourceError(
            f"sources.{name}.signature.secret_env: environment variable {spec.secret_env} is "
            f"not set or empty; it holds the secret that signs {spec.header}"
        )
    key = secret.encode()
    header = spec.header

    def verify(headers: Mapping[str, str], raw: bytes, now: float) -> None:
        given = _header(headers, header).strip().lower().removeprefix("sha256=")
        if not given:
            raise BadSignature(f"missing {header} header")
        expected = hmac.new(key, raw, hashlib.sha256).hexdigest()
        # compare_digest: the time taken must not reveal how much of the signature matched.
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise BadSignature(f"{header} does not match the body")

    return verify


def _header(headers: Mapping[str, str], name: str) -> str:
    # Starlette's headers ignore case; a plain mapping (tests, other callers) may not.
    found = headers.get(name)
    if found is not None:
        return found
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), "")

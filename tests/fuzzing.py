"""What the fuzz tests share (tests/unit/test_fuzz*.py): property-based fuzzing of every HTTP
endpoint (hypothesis), over 2,000 generated requests in all.

Webhook bodies start from a valid notification and get one change each: either one that keeps
it valid (odd but storable Unicode, 100 kB labels, unknown extra fields) or one that breaks it
(a required field missing or of the wrong type, an unknown payload version, NUL or a lone
surrogate, a naive time, deep nesting, an oversized body, a wrong content type). The oracle:
no 5xx ever; every 4xx is JSON with an `error`; a valid notification opens exactly one incident
holding exactly what was sent; anything refused stores nothing.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from bot.config import FirebreakConfig, SourceSpec
from tests.payloads import am_alert, am_notification, grafana_notification
from tests.scenario import WEBHOOK_TOKEN, Bot, clean_env, running_bot

# Examples per endpoint; together over 2,000 requests.
EXAMPLES = {
    "alertmanager": 450,
    "grafana": 300,
    "generic": 300,
    "list": 300,
    "ref": 300,
    "slack": 400,
    "senders": 300,  # PagerDuty, Opsgenie and a config source, 100 each
}
FUZZ = settings(
    deadline=None,
    derandomize=True,  # the same requests on every run, so CI is reproducible
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
        HealthCheck.large_base_example,
    ],
)
AUTH = {"Authorization": f"Bearer {WEBHOOK_TOKEN}", "Content-Type": "application/json"}
MAX_BODY = 1_048_576

_unique = itertools.count(1)


@dataclass
class Store:
    path: Path

    def counts(self) -> tuple[int, int]:
        with sqlite3.connect(self.path) as db:
            incidents = db.execute("SELECT count(*) FROM incidents").fetchone()[0]
            alerts = db.execute("SELECT count(*) FROM alerts").fetchone()[0]
        return int(incidents), int(alerts)


@contextmanager
def fuzzed_bot(tmp: Path) -> Iterator[tuple[Bot, Store]]:
    """The bot the fuzz tests share, with its store (a module's, in tests/unit/conftest.py)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        clean_env(monkeypatch)
        config = FirebreakConfig(broadcast_channel="incidents", sources={"monitor": MONITOR})
        with running_bot(tmp, config) as bot:
            yield bot, Store(tmp / "firebreak.db")


# --- text ----------------------------------------------------------------------------------

# Anything storable: every plane, right-to-left marks, combining marks, emoji; no NUL and no
# lone surrogates (category Cs).
storable_text = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40
)
odd_text = st.one_of(
    storable_text,
    st.sampled_from(["\u202e", "\u200f", "\ufeff", "e\u0301", "\U0001f525", "\u05e9", "x"]).map(
        lambda c: c * 100_000
    ),
)
unstorable_text = st.tuples(storable_text, st.sampled_from(["\x00", "\ud800", "\udfff"])).map(
    "".join
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | storable_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(storable_text, inner, max_size=3),
    max_leaves=8,
)
not_a_string = json_values.filter(lambda v: not isinstance(v, str))
not_a_mapping = json_values.filter(lambda v: not isinstance(v, dict))
not_a_time = (
    st.none()
    | st.lists(st.integers(), max_size=2)
    | st.dictionaries(storable_text, st.integers(), max_size=2)
)


@dataclass
class Case:
    """One request body and whether it is a valid notification."""

    body: bytes
    valid: bool
    content_type: str = "application/json"
    why: str = ""


def case_of(payload: Any, valid: bool, why: str) -> Case:
    raw = encode(payload)
    if len(raw) > MAX_BODY:  # several 100 kB labels, escaped: valid, but too large
        return Case(raw, False, why=f"{why}, {len(raw)} bytes")
    return Case(raw, valid, why=why)


def encode(payload: Any) -> bytes:
    # Lone surrogates only survive as JSON escapes: ensure_ascii writes them as \\udXXX.
    return json.dumps(payload, ensure_ascii=True).encode()


# --- Alertmanager and Grafana notifications --------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def keeps_valid() -> st.SearchStrategy[tuple[str, Mutation]]:
    def labels(values: dict[str, str]) -> Mutation:
        return lambda body: body["alerts"][0]["labels"].update(values)

    def annotations(values: dict[str, str]) -> Mutation:
        return lambda body: body["alerts"][0]["annotations"].update(values)

    def extra(key: str, value: Any) -> Mutation:
        return lambda body: body.setdefault(f"x-{key}", value)

    return st.one_of(
        st.dictionaries(storable_text, odd_text, max_size=3).map(lambda v: ("labels", labels(v))),
        st.dictionaries(storable_text, odd_text, max_size=2).map(
            lambda v: ("annotations", annotations(v))
        ),
        st.tuples(storable_text, json_values).map(lambda kv: ("extra field", extra(*kv))),
        st.just(("as sent", lambda body: None)),
    )


def breaks(version: str) -> st.SearchStrategy[tuple[str, Mutation]]:
    def drop(path: tuple[str, ...]) -> tuple[str, Mutation]:
        def apply(body: dict[str, Any]) -> None:
            target = body["alerts"][0] if path[0] == "alerts[0]" else body
            del target[path[-1]]

        return f"missing {'.'.join(path)}", apply

    def top(key: str, value: Any) -> tuple[str, Mutation]:
        return f"{key}={value!r:.40}", lambda body: body.__setitem__(key, value)

    def alert(key: str, value: Any) -> tuple[str, Mutation]:
        return f"alerts[0].{key}={value!r:.40}", lambda body: body["alerts"][0].__setitem__(
            key, value
        )

    def label(value: Any) -> tuple[str, Mutation]:
        return f"label {value!r:.40}", lambda body: body["alerts"][0]["labels"].__setitem__(
            "team", value
        )

    required = [("status",), ("alerts",), ("groupKey",), ("version",)] + [
        # No fingerprint is valid: Alertmanager before 0.19 sends none (derived from labels).
        ("alerts[0]", key)
        for key in ("status", "labels", "startsAt")
    ]
    return st.one_of(
        st.sampled_from(required).map(drop),
        (st.text(max_size=5) | st.integers())
        .filter(lambda v: v != version)
        .map(lambda v: top("version", v)),
        storable_text.filter(lambda v: v not in ("firing", "resolved")).map(
            lambda v: top("status", v)
        ),
        json_values.filter(lambda v: not isinstance(v, list)).map(lambda v: top("alerts", v)),
        not_a_string.map(lambda v: top("groupKey", v)),
        st.just(top("alerts", [])),
        st.just(top("groupKey", "")),
        st.integers(max_value=-1).map(lambda v: top("truncatedAlerts", v)),
        not_a_mapping.map(lambda v: alert("labels", v)),
        not_a_time.map(lambda v: alert("startsAt", v)),
        st.just(alert("startsAt", "2026-11-27T03:00:00")),  # no zone
        st.just(alert("fingerprint", "")),
        st.just(alert("fingerprint", "f" * 129)),
        not_a_string.map(label),
        unstorable_text.map(label),
    )


def notifications(version: str) -> st.SearchStrategy[tuple[bool, str, Mutation]]:
    return st.one_of(
        keeps_valid().map(lambda m: (True, *m)),
        breaks(version).map(lambda m: (False, *m)),
    )


def unique(body: dict[str, Any]) -> dict[str, Any]:
    """A new alert group and occurrence per example, so a valid one always opens an incident."""
    n = next(_unique)
    body["groupKey"] = f'{{}}:{{fuzz="{n}"}}'
    body["alerts"][0]["fingerprint"] = f"fuzz{n:012d}"
    return body


def raw_bodies() -> st.SearchStrategy[Case]:
    """Bodies that are not JSON documents at all, or not in JSON's clothes."""
    nested = st.integers(33, 3_000).map(lambda depth: ("[" * depth + "]" * depth).encode())
    return st.one_of(
        st.binary(max_size=200).map(lambda b: Case(b, False, why="bytes")),
        nested.map(lambda b: Case(b, False, why="nested")),
        st.integers(MAX_BODY + 1, MAX_BODY + 5_000).map(
            lambda n: Case(b" " * n, False, why="too large")
        ),
        st.sampled_from(
            ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "x/y"]
        ).map(lambda ct: Case(encode(am_notification()), False, ct, why="content type")),
    )


def webhook_cases(version: str, build: Callable[[], dict[str, Any]]) -> st.SearchStrategy[Case]:
    def to_case(choice: tuple[bool, str, Mutation]) -> Case:
        valid, why, mutate = choice
        body = unique(build())
        mutate(body)
        return case_of(body, valid, why)

    return st.one_of(
        notifications(version).map(to_case),
        raw_bodies(),
    )


def check_webhook(bot: Bot, store: Store, source: str, case: Case) -> None:
    before = store.counts()
    headers = {**AUTH, "Content-Type": case.content_type}
    response = bot.http.post(f"/webhooks/{source}", content=case.body, headers=headers)
    assert response.status_code < 500, (case.why, response.text[:300])
    after = store.counts()
    if case.valid:
        assert response.status_code == 200, (case.why, response.text[:300])
        assert response.json()["opened"] is True, case.why
        assert after == (before[0] + 1, before[1] + 1), case.why
        sent = json.loads(case.body)["alerts"][0]
        stored = bot.incident(response.json()["incident"])["occurrences"][0]
        assert stored["labels"] == sent["labels"] and stored["annotations"] == sent.get(
            "annotations", {}
        )
    else:
        assert 400 <= response.status_code < 500, (case.why, response.text[:300])
        assert isinstance(response.json()["error"], str), case.why
        assert after == before, f"{case.why} stored something"


def grafana_body() -> dict[str, Any]:
    return grafana_notification()


def alertmanager_body() -> dict[str, Any]:
    return am_notification(am_alert())


# --- generic --------------------------------------------------------------------------------


def generic_cases() -> st.SearchStrategy[Case]:
    def base() -> dict[str, Any]:
        n = next(_unique)
        return {
            "dedup_key": f"fuzz-generic-{n}",
            "title": "Feature store is stale",
            "started_at": "2026-11-27T01:00:00Z",
        }

    def valid(extra: dict[str, Any]) -> Case:
        return case_of({**base(), **extra}, True, f"valid {sorted(extra)}")

    def changed(valid: bool) -> Callable[[tuple[str, Any]], Case]:
        def case(change: tuple[str, Any]) -> Case:
            key, value = change
            body = base()
            if value is _DROP:
                del body[key]
            else:
                body[key] = value
            return case_of(body, valid, f"{key}={value!r:.40}")

        return case

    optional = st.fixed_dictionaries(
        {},
        optional={
            "title": storable_text.filter(lambda t: 0 < len(t) <= 300),
            "service": storable_text.filter(lambda t: len(t) <= 200),
            "severity": storable_text.filter(lambda t: len(t) <= 40),
            "description": storable_text,
            "labels": st.dictionaries(storable_text, odd_text, max_size=3),
            "status": st.just("firing"),
        },
    )
    # Senders add fields of their own, and may give no start (it is then the time received).
    lenient = st.one_of(
        st.just(("started_at", _DROP)),
        st.just(("started_at", None)),
        st.tuples(storable_text, json_values).filter(lambda kv: kv[0] not in _GENERIC_FIELDS),
    )
    broken = st.one_of(
        st.sampled_from(["dedup_key", "title"]).map(lambda k: (k, _DROP)),
        not_a_string.map(lambda v: ("title", v)),
        st.just(("title", "")),
        st.just(("title", "t" * 301)),
        st.just(("dedup_key", "k" * 201)),
        st.just(("started_at", "2026-11-27T01:00:00")),
        not_a_time.filter(lambda v: v is not None).map(lambda v: ("started_at", v)),
        storable_text.filter(lambda v: v not in ("firing", "resolved")).map(
            lambda v: ("status", v)
        ),
        not_a_mapping.map(lambda v: ("labels", v)),
        unstorable_text.map(lambda v: ("title", v)),
    )
    return st.one_of(
        optional.map(valid), lenient.map(changed(True)), broken.map(changed(False)), raw_bodies()
    )


_DROP = object()
_GENERIC_FIELDS = {
    "dedup_key",
    "title",
    "status",
    "service",
    "severity",
    "description",
    "source_url",
    "runbook_url",
    "labels",
    "started_at",
    "ended_at",
}


# --- PagerDuty, Opsgenie, a config source ----------------------------------------------------

MONITOR = SourceSpec(
    group_key="{{ payload.id }}",
    title="{{ payload.subject }}",
    status="{{ 'resolved' if payload.state == 'ok' else 'firing' }}",
    severity="{{ payload.level }}",
    started_at="{{ payload.at }}",
    labels={"model": "{{ payload.attributes.model }}"},
)


def sender_bodies() -> dict[str, Callable[[], dict[str, Any]]]:
    """A valid body per sender, each of a new group (the shapes of tests/unit/http/
    test_alert_sources.py)."""

    def pagerduty() -> dict[str, Any]:
        n = next(_unique)
        data = {
            "id": f"QFUZZ{n}",
            "type": "incident",
            "title": "Ranker CTR low",
            "created_at": "2026-11-27T02:58:00Z",
            "html_url": "https://acme.pagerduty.com/incidents/QFUZZ",
            "service": {"id": "P1", "summary": "search-ranker"},
            "urgency": "high",
        }
        event = {"id": f"ev-{n}", "event_type": "incident.triggered", "resource_type": "incident"}
        return {"event": {**event, "occurred_at": "2026-11-27T03:00:00Z", "data": data}}

    def opsgenie() -> dict[str, Any]:
        n = next(_unique)
        alert = {
            "alertId": f"fuzz-{n}",
            "alias": f"fuzz-{n}",
            "message": "Fraud latency high",
            "tags": ["service:checkout-fraud"],
            "createdAt": 1795143480000,
            "priority": "P2",
        }
        return {"action": "Create", "alert": alert, "source": {"name": "x", "type": "api"}}

    def monitor() -> dict[str, Any]:
        n = next(_unique)
        return {
            "id": f"m-{n}",
            "subject": "Feature drift",
            "state": "alerting",
            "level": "critical",
            "at": "2026-11-27T03:00:00Z",
            "attributes": {"model": "ranker"},
        }

    return {"pagerduty": pagerduty, "opsgenie": opsgenie, "monitor": monitor}


def sender_cases() -> st.SearchStrategy[tuple[str, Case]]:
    """One change to a valid body, anywhere in it: a value replaced by any JSON, or dropped.
    Valid or not, the answer is a 200 or a JSON 4xx, never a 5xx."""

    def mutate(choice: tuple[str, int, Any]) -> tuple[str, Case]:
        source, pick, value = choice
        body = sender_bodies()[source]()
        places = list(_places(body))
        parent, key = places[pick % len(places)]
        if value is _DROP:
            del parent[key]
        else:
            parent[key] = value
        return source, Case(encode(body), valid=False, why=f"{source} {key}={value!r:.40}")

    return st.tuples(
        st.sampled_from(sorted(sender_bodies())),
        st.integers(min_value=0, max_value=50),
        json_values | st.just(_DROP),
    ).map(mutate)


def _places(body: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    for key, value in body.items():
        yield body, key
        if isinstance(value, dict):
            yield from _places(value)


# --- the JSON API ---------------------------------------------------------------------------


# --- Slack ----------------------------------------------------------------------------------


def slack_bodies() -> st.SearchStrategy[tuple[bytes, str]]:
    """Signed bodies that Slack never sends: garbage, and its shapes with wrong insides."""
    form = "application/x-www-form-urlencoded"
    shaped = st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                ["block_actions", "view_submission", "event_callback", "shortcut"]
            )
            | storable_text
        },
        optional={
            "team": json_values,
            "user": json_values,
            "actions": st.lists(json_values, max_size=2),
            "view": json_values,
            "event": json_values,
            "channel": json_values,
            "container": json_values,
        },
    )
    return st.one_of(
        st.binary(max_size=300).map(lambda b: (b, form)),
        storable_text.map(lambda t: (t.encode(), form)),
        json_values.map(lambda v: (encode(v), "application/json")),
        shaped.map(lambda v: (encode(v), "application/json")),
        shaped.map(lambda v: (urlencode({"payload": json.dumps(v)}).encode(), form)),
        st.dictionaries(storable_text, storable_text, max_size=4).map(
            lambda d: (urlencode(d).encode(), form)
        ),
    )

"""Scenario tests of the webhook receivers (bot/http/webhooks.py): the whole app over HTTP,
with the embedded Slack stand-in answering as Slack."""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy.exc import (
    DBAPIError,
    InterfaceError,
    InternalError,
    OperationalError,
    ProgrammingError,
)
from starlette.types import Receive, Scope, Send

from bot.alerts.sources import alertmanager
from bot.alerts.sources.registry import receivers
from bot.config import FirebreakConfig
from bot.http.webhooks import ParsedLately
from bot.incidents import recording
from tests.payloads import am_alert, am_notification, grafana_notification
from tests.polling import wait_until
from tests.scenario import WEBHOOK_TOKEN, Bot, clean_env, running_bot, settled


@pytest.fixture
def bot(tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    clean_env(monkeypatch)
    with running_bot(tmp_path, config) as running:
        yield running


def test_alertmanager_alert_opens_an_incident_channel(bot: Bot) -> None:
    response = bot.webhook("alertmanager", am_notification())
    assert response.status_code == 200, response.text
    assert response.json() == {
        "incident": "INC-1",
        "opened": True,
        "firing": 1,
        "resolved": 0,
        "ignored": 0,
    }

    incident = bot.announced("INC-1")
    channel = bot.workspace.channel_by_name(incident["channel_name"])
    assert channel is not None and channel["id"] == incident["channel_id"]
    assert incident["channel_name"] == "inc-1-rankerndcgdrop-on-search-ranker"

    [invite] = bot.workspace.calls_to("conversations.invite")
    assert invite.args["channel"] == channel["id"]
    assert invite.args["users"] == "U0ANA0001,U0BEN0002"

    [announcement] = [m for m in bot.workspace.messages(channel["id"]) if m.get("blocks")]
    assert announcement["blocks"][0]["text"]["text"] == "INC-1: RankerNDCGDrop on search-ranker"
    broadcast = bot.workspace.channel_by_name("incidents")
    assert broadcast is not None
    assert [m["text"] for m in bot.workspace.messages(broadcast["id"])] == [announcement["text"]]

    listed = bot.http.get("/api/incidents").json()
    assert listed == [
        {
            "id": "INC-1",
            "number": 1,
            "title": "RankerNDCGDrop on search-ranker",
            "status": "investigating",
            "severity": "SEV1",
            "service": "search-ranker",
            "source": "alertmanager",
            "channel_id": channel["id"],
            "channel_name": channel["name"],
            "commander": None,
            "scribe": None,
            "created_at": listed[0]["created_at"],
            "updated_at": listed[0]["updated_at"],
            "resolved_at": None,
            "alerts": 1,
            "alerts_firing": 1,
            "drill": False,
        }
    ]


def test_repeats_update_the_incident_and_resolution_is_recorded(bot: Bot) -> None:
    bot.webhook("alertmanager", am_notification())
    bot.announced("INC-1")
    again = bot.webhook("alertmanager", am_notification())
    assert again.json()["incident"] == "INC-1" and again.json()["opened"] is False
    resolved = am_notification(am_alert(status="resolved", ends_at="2026-11-27T03:30:00Z"))
    assert bot.webhook("alertmanager", resolved).json()["resolved"] == 1
    assert bot.webhook("alertmanager", resolved).json()["resolved"] == 0  # a duplicate delivery

    timeline = bot.incident("INC-1")["timeline"]
    assert [t["kind"] for t in timeline].count("alerts.all_resolved") == 1
    assert len(bot.workspace.calls_to("conversations.create")) == 1
    channel_id = bot.incident("INC-1")["channel_id"]
    wait_until(
        lambda: any("All alerts" in m["text"] for m in bot.workspace.messages(channel_id)),
        what="all-resolved message in the incident channel",
    )


def test_a_burst_of_changes_to_one_incident_leaves_its_announcement_showing_the_last(
    bot: Bot,
) -> None:
    """However the burst's chat follow-ups interleave or merge (tests/test_tasks.py has the
    merging itself), the card ends up showing every alert."""
    bot.webhook("alertmanager", am_notification())
    channel_id = bot.announced("INC-1")["channel_id"]
    bursts = [am_notification(am_alert(fingerprint=f"{n:016x}")) for n in range(1, 13)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda body: bot.webhook("alertmanager", body), bursts))
    assert [a.json()["firing"] for a in answers] == [1] * 12

    def fields() -> list[str]:
        [card] = [m for m in bot.workspace.messages(channel_id) if m.get("blocks")]
        return [f["text"] for b in card["blocks"] for f in b.get("fields", [])]

    wait_until(lambda: "*Alerts firing*\n13" in fields(), what="13 alerts on the card")


def test_twenty_concurrent_deliveries_open_one_incident_and_one_channel(
    tmp_path: Path, config: FirebreakConfig, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    with running_bot(tmp_path, config, FIREBREAK_DATABASE_URL=db_url) as bot:
        body = am_notification()
        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(lambda _: bot.webhook("alertmanager", body), range(20)))
        assert [a.status_code for a in answers] == [200] * 20
        assert sum(a.json()["opened"] for a in answers) == 1
        assert {a.json()["incident"] for a in answers} == {"INC-1"}
        bot.announced("INC-1")
        settled(bot)  # the other nineteen deliveries' follow-ups have run to their end
        assert [i["id"] for i in bot.http.get("/api/incidents").json()] == ["INC-1"]
        assert len(bot.incident("INC-1")["occurrences"]) == 1
        created = [c for c in bot.workspace.calls_to("conversations.create") if c.status == 200]
        assert len(created) == 1
        assert len(bot.workspace.calls_to("chat.postMessage")) == 2  # channel and broadcast


def test_grafana_and_generic_webhooks(bot: Bot) -> None:
    assert bot.webhook("grafana", grafana_notification()).json()["incident"] == "INC-1"
    generic = {
        "dedup_key": "feature-store-stale",
        "title": "Feature store is stale",
        "service": "search-ranker",
        "severity": "high",
        "started_at": "2026-11-27T01:00:00Z",
    }
    assert bot.webhook("generic", generic).json()["incident"] == "INC-2"
    assert bot.incident("INC-1")["severity"] == "SEV3"
    assert bot.incident("INC-2")["severity"] == "SEV2"


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_webhooks_need_the_bearer_token(bot: Bot, token: str | None) -> None:
    response = bot.webhook("alertmanager", am_notification(), token=token)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert bot.http.get("/api/incidents").json() == []


def test_bad_bodies_get_a_4xx_that_names_the_problem(bot: Bot) -> None:
    auth = {"Authorization": "Bearer test-webhook-token-7a1e"}
    not_json = bot.http.post(
        "/webhooks/alertmanager",
        content=b"{nope",
        headers={**auth, "Content-Type": "application/json"},
    )
    assert not_json.status_code == 400 and not_json.json()["error"] == "invalid_json"

    form = bot.http.post(
        "/webhooks/alertmanager",
        content=b"a=b",
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 415

    body = am_notification()
    del body["alerts"][0]["startsAt"]
    invalid = bot.webhook("alertmanager", body)
    assert invalid.status_code == 422
    assert invalid.json()["detail"] == [
        {"field": "alerts[0].startsAt", "message": "Field required"}
    ]

    wrong_version = bot.webhook("alertmanager", am_notification(version="5"))
    assert (
        wrong_version.status_code == 422 and wrong_version.json()["detail"][0]["field"] == "version"
    )

    assert bot.webhook("alertmanager", [1, 2]).status_code == 422
    deep: object = {}
    for _ in range(100):
        deep = {"a": deep}
    assert bot.webhook("alertmanager", deep).json()["error"] == "invalid_json"

    big = am_notification(padding="x" * 1_100_000)
    too_big = bot.webhook("alertmanager", big)
    assert too_big.status_code == 413 and too_big.json()["error"] == "body_too_large"

    unknown = bot.webhook("nagios", am_notification())
    assert unknown.status_code == 404 and "alertmanager" in unknown.json()["message"]

    assert bot.http.get("/api/incidents").json() == []


def test_odd_unicode_is_stored_exactly_or_refused_by_name(
    tmp_path: Path, config: FirebreakConfig, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    with running_bot(tmp_path, config, FIREBREAK_DATABASE_URL=db_url) as bot:
        auth = {"Authorization": f"Bearer {WEBHOOK_TOKEN}", "Content-Type": "application/json"}
        # JSON may escape NUL and lone surrogates; neither can be stored as text (PostgreSQL).
        for bad in ('"a\\u0000b"', '"\\ud800"'):
            raw = json.dumps(am_notification(am_alert(team="PLACEHOLDER"))).replace(
                '"PLACEHOLDER"', bad
            )
            refused = bot.http.post("/webhooks/alertmanager", content=raw, headers=auth)
            assert refused.status_code == 400 and refused.json()["error"] == "invalid_text"
            assert refused.json()["message"].startswith("alerts[0].labels.team holds a NUL")
        # Right-to-left marks, emoji and a 100 kB label are text like any other: kept as sent.
        rtl = "\u202eknar-hcraes\u202c \u05e9\u05dc\u05d5\u05dd \U0001f525"
        huge = "x" * 100_000
        body = am_notification(am_alert(alertname=rtl, service=huge, note=huge))
        accepted = bot.webhook("alertmanager", body)
        assert accepted.status_code == 200, accepted.text
        incident = bot.incident("INC-1")
        [alert] = incident["occurrences"]
        assert alert["labels"]["alertname"] == rtl and alert["labels"]["note"] == huge
        assert incident["service"] == huge[:200]  # a service name is what fits its column
        assert incident["title"].startswith(rtl)


def test_grafana_signature_when_a_secret_is_set(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    secret = "grafana-hmac-secret-91c0"
    with running_bot(tmp_path, config, FIREBREAK_GRAFANA_SECRET=secret) as bot:
        raw = json.dumps(grafana_notification()).encode()
        stamp = str(int(time.time()))

        def post(headers: dict[str, str]) -> httpx.Response:
            return bot.http.post(
                "/webhooks/grafana",
                content=raw,
                headers={
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {WEBHOOK_TOKEN}",
                    **headers,
                },
            )

        unsigned = post({})
        assert unsigned.status_code == 401 and unsigned.json() == {
            "error": "bad_signature",
            "message": "missing X-Grafana-Alerting-Signature header",
        }
        forged = hmac.new(b"guess", raw, sha256).hexdigest()
        assert post({"X-Grafana-Alerting-Signature": forged}).status_code == 401
        old = str(int(time.time()) - 600)
        replayed = hmac.new(secret.encode(), f"{old}:".encode() + raw, sha256).hexdigest()
        assert (
            post(
                {
                    "X-Grafana-Alerting-Signature": replayed,
                    "X-Grafana-Alerting-Signature-Timestamp": old,
                }
            ).status_code
            == 401
        )
        assert bot.http.get("/api/incidents").json() == []

        good = hmac.new(secret.encode(), f"{stamp}:".encode() + raw, sha256).hexdigest()
        accepted = post(
            {"X-Grafana-Alerting-Signature": good, "X-Grafana-Alerting-Signature-Timestamp": stamp}
        )
        assert accepted.status_code == 200 and accepted.json()["incident"] == "INC-1"
        # A signature of the body alone would verify forever: the timestamp is required.
        body_only = hmac.new(secret.encode(), raw, sha256).hexdigest()
        timeless = post({"X-Grafana-Alerting-Signature": body_only})
        assert timeless.status_code == 401 and timeless.json()["error"] == "bad_signature"
        assert timeless.json()["message"].startswith(
            "missing X-Grafana-Alerting-Signature-Timestamp header"
        )
        # Other sources are not Grafana's to sign.
        assert bot.webhook("alertmanager", am_notification()).status_code == 200


def test_slack_rate_limit_is_waited_out(bot: Bot) -> None:
    bot.workspace.fail("conversations.create", status=429, retry_after=1)
    bot.webhook("alertmanager", am_notification())
    incident = bot.announced("INC-1", timeout=15)
    creates = bot.workspace.calls_to("conversations.create")
    assert [c.status for c in creates] == [429, 200]
    assert incident["channel_id"] is not None


def test_database_outage_is_a_503_alertmanager_retries(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def store_down(*_: object) -> None:
        raise OperationalError("INSERT …", {}, Exception("could not connect to server"))

    # The writer's round fails, then each notification on its own: the sender hears 503.
    monkeypatch.setattr(recording, "record_one", store_down)
    response = bot.webhook("alertmanager", am_notification())
    assert response.status_code == 503
    assert response.json()["error"] == "unavailable" and response.headers["Retry-After"] == "5"
    assert "could not connect" not in response.text  # driver details stay in the log


@pytest.mark.parametrize(
    ("raised", "status"),
    [
        # asyncpg on a connection the server dropped: the pool drops its connections; an outage.
        (InterfaceError("SELECT …", {}, Exception("closed"), connection_invalidated=True), 503),
        # ...or, when it had read the server's goodbye before the close, InternalClientError.
        (InternalError("SELECT …", {}, Exception("closed"), connection_invalidated=True), 503),
        # The same class for anything else is a bug, answered as any bug is.
        (ProgrammingError("SELECT …", {}, Exception("no such column")), 500),
    ],
)
def test_a_dropped_connection_is_a_503_and_other_driver_errors_a_500(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, raised: DBAPIError, status: int
) -> None:
    async def failing(*_: object) -> None:
        raise raised

    monkeypatch.setattr(recording, "record_one", failing)
    response = bot.webhook("alertmanager", am_notification())
    assert response.status_code == status
    if status == 503:
        assert response.json()["error"] == "unavailable"
    assert "closed" not in response.text and "no such column" not in response.text
    # /metrics counts it as what it was answered as: the store unavailable, or a bug.
    reason = "unavailable" if status == 503 else "exception"
    counted = 'firebreak_webhook_requests_total{outcome="error",reason="%s",source="alertmanager"}'
    assert f"{counted % reason} 1.0" in bot.runtime.metrics.exposition().decode()


def test_a_body_parsed_lately_is_not_parsed_again_within_bounds() -> None:
    batch = alertmanager.parse(am_notification())
    other = alertmanager.parse(am_notification(am_alert(fingerprint="0000000000000009")))
    lately = ParsedLately(most=2, largest=64)
    assert lately.get("alertmanager", b"{1}") is None
    lately.keep("alertmanager", b"{1}", batch)
    assert lately.get("alertmanager", b"{1}") is batch
    assert lately.get("grafana", b"{1}") is None  # what a body says depends on its source
    lately.keep("alertmanager", b"{2}", other)
    assert lately.get("alertmanager", b"{1}") is batch  # used lately: kept over {2}
    lately.keep("alertmanager", b"{3}", other)
    assert lately.get("alertmanager", b"{2}") is None  # the least lately used went
    assert lately.get("alertmanager", b"{1}") is batch
    lately.keep("alertmanager", b"{" + b"x" * 64 + b"}", batch)
    assert lately.get("alertmanager", b"{" + b"x" * 64 + b"}") is None  # too large to keep


def test_only_parsers_that_read_the_body_alone_are_pure() -> None:
    built = receivers(
        config=FirebreakConfig(), clock=lambda: datetime.now(UTC), environ={}, grafana_secret="s"
    )
    assert {name for name, receiver in built.items() if receiver.pure} == {
        "alertmanager",
        "grafana",
    }


def test_a_repeated_body_is_answered_as_the_first_was_parsed(bot: Bot) -> None:
    body = am_notification()
    first = bot.webhook("alertmanager", body)
    again = bot.webhook("alertmanager", body)
    assert first.json()["opened"] and not again.json()["opened"]
    assert again.json()["incident"] == first.json()["incident"]
    # The same bytes with one alert more are another notification: parsed, and recorded.
    more = bot.webhook("alertmanager", am_notification(am_alert(), am_alert(fingerprint="2")))
    assert more.json()["firing"] == 1


def test_alert_webhooks_skip_the_routes_and_changes_take_theirs(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot's app serves alert sources ahead of its routes (bot.http.direct); the answers
    are the routes' own (every other test here goes the same way)."""
    routed: list[str] = []
    handle = APIRoute.handle

    async def noted(route: APIRoute, scope: Scope, receive: Receive, send: Send) -> None:
        routed.append(scope["path"])
        await handle(route, scope, receive, send)

    monkeypatch.setattr(APIRoute, "handle", noted)
    assert bot.webhook("alertmanager", am_notification()).status_code == 200
    assert bot.webhook("nosuchsource", am_notification()).status_code == 404
    change = {"id": "d-1", "kind": "deploy", "service": "search-ranker", "version": "v2"}
    assert bot.webhook("changes", change).status_code == 201
    assert routed == ["/webhooks/changes"]

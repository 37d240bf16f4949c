"""Bounded work: bodies that cannot be read are 400s, notifications carry at most
FIREBREAK_MAX_ALERTS alerts, rendering runs off the event loop, timelines come in pages."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import insert

from bot.config import FirebreakConfig
from bot.incidents.models import TimelineEntry
from bot.incidents.schemas import IncidentDetail
from bot.postmortem import flows as postmortem_flows
from tests.payloads import am_alert, am_notification, grafana_notification
from tests.polling import wait_until
from tests.scenario import SIGNING_SECRET, WEBHOOK_TOKEN, Bot, clean_env, running_bot
from tests.servers import slack_headers

LONG = "9" * 5000  # a JSON number Python will not read as an int (4,300 digits at most)


@pytest.fixture
def bot(tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    clean_env(monkeypatch)
    with running_bot(tmp_path, config) as running:
        yield running


def post_raw(bot: Bot, path: str, raw: str) -> httpx.Response:
    return bot.http.post(
        path,
        content=raw,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {WEBHOOK_TOKEN}"},
    )


def test_a_number_too_long_to_read_is_a_400_that_says_so_everywhere(bot: Bot) -> None:
    bodies = {
        "/webhooks/alertmanager": am_notification(),
        "/webhooks/grafana": grafana_notification(),
        "/webhooks/generic": {"dedup_key": "k", "title": "t", "started_at": "2026-11-27T03:00Z"},
        "/webhooks/changes": {"id": "c1", "kind": "deploy", "service": "search-ranker"},
    }
    for path, body in bodies.items():
        raw = json.dumps({**body, "padding": 0}).replace('"padding": 0', f'"padding": {LONG}')
        refused = post_raw(bot, path, raw)
        assert refused.status_code == 400, (path, refused.text)
        assert refused.json()["error"] == "invalid_json"
        assert refused.json()["message"].startswith("the body is not valid JSON: Exceeds the limit")
        assert "4300 digits" in refused.json()["message"]

    # Slack's endpoint parses JSON too: an Events API body, and interactivity's payload field.
    event = f'{{"type": "event_callback", "event_id": "Ev1", "event_time": {LONG}}}'.encode()
    signed = slack_headers(SIGNING_SECRET, event, content_type="application/json")
    answer = bot.http.post("/slack/events", content=event, headers=signed)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_json"
    assert answer.json()["message"].startswith("the body is not valid JSON: Exceeds the limit")
    form = urlencode({"payload": f'{{"type": "block_actions", "n": {LONG}}}'}).encode()
    answer = bot.http.post(
        "/slack/events", content=form, headers=slack_headers(SIGNING_SECRET, form)
    )
    assert answer.status_code == 400
    assert answer.json()["message"].startswith("the payload field is not valid JSON: Exceeds")
    assert bot.http.get("/api/incidents").json() == []


def minimal_alert(n: int) -> dict[str, Any]:
    return {
        "status": "firing",
        "labels": {"alertname": "Flood", "n": str(n)},
        "startsAt": "2026-11-27T03:00:00Z",
        "fingerprint": f"{n:016x}",
    }


def test_more_alerts_than_allowed_are_refused_whole(bot: Bot) -> None:
    flood = am_notification(*(minimal_alert(n) for n in range(7000)))
    raw = json.dumps(flood, separators=(",", ":"))
    assert len(raw) < 1_048_576  # within the body limit: the count refuses it, not the size
    refused = post_raw(bot, "/webhooks/alertmanager", raw)
    assert refused.status_code == 413
    assert refused.json() == {
        "error": "too_many_alerts",
        "message": "the notification carries 7000 alerts; 1000 at most (FIREBREAK_MAX_ALERTS; "
        "Alertmanager's webhook_configs max_alerts truncates them)",
    }
    grafana = grafana_notification()
    grafana["alerts"] = grafana["alerts"] * 1001
    assert bot.webhook("grafana", grafana).status_code == 413
    assert bot.http.get("/api/incidents").json() == []  # nothing stored


def test_the_alert_limit_is_a_setting(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    with running_bot(tmp_path, config, FIREBREAK_MAX_ALERTS="2") as bot:
        three = am_notification(*(am_alert(fingerprint=f"f{n}") for n in range(3)))
        assert bot.webhook("alertmanager", three).status_code == 413
        two = am_notification(*(am_alert(fingerprint=f"f{n}") for n in range(2)))
        assert bot.webhook("alertmanager", two).json()["firing"] == 2


class Held:
    """A stand-in for slow CPU work: blocks its thread until released."""

    def __init__(self) -> None:
        self.started = threading.Semaphore(0)
        self.release = threading.Event()

    def hold(self) -> None:
        self.started.release()
        assert self.release.wait(20), "never released"


def test_postmortems_and_incident_details_are_rendered_off_the_event_loop(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten postmortems and a detail asked at once, their rendering held: /healthz answers
    meanwhile (were the rendering on the event loop, it would wait for it, here forever)."""
    assert bot.webhook("alertmanager", am_notification()).status_code == 200
    held = Held()
    render, full = postmortem_flows.render, IncidentDetail.full

    def slow_render(**kwargs: Any) -> str:
        held.hold()
        return render(**kwargs)

    def slow_full(incident: Any, runs: Any = ()) -> IncidentDetail:
        held.hold()
        return full(incident, runs)

    monkeypatch.setattr(postmortem_flows, "render", slow_render)
    monkeypatch.setattr(IncidentDetail, "full", slow_full)
    with ThreadPoolExecutor(max_workers=11) as pool:
        asked = [pool.submit(bot.http.get, "/api/incidents/INC-1/postmortem") for _ in range(10)]
        asked.append(pool.submit(bot.http.get, "/api/incidents/INC-1"))
        assert held.started.acquire(timeout=10), "no rendering started"
        try:
            health = httpx.get(f"{bot.http.base_url}/healthz", timeout=2)
            assert health.json() == {"status": "ok"}
            assert not any(a.done() for a in asked)  # all still rendering
        finally:
            held.release.set()
        answers = [a.result(timeout=20) for a in asked]
    assert all(a.status_code == 200 for a in answers)
    assert answers[0].text.startswith("# INC-1 postmortem")


def test_the_timeline_comes_in_pages_with_its_total(bot: Bot) -> None:
    assert bot.webhook("alertmanager", am_notification()).status_code == 200
    first = bot.announced("INC-1")
    start = len(first["timeline"])
    assert first["timeline_total"] == start and first["timeline_offset"] == 0
    assert first["timeline_limit"] == 200

    async def add_notes() -> None:
        ctx = bot.runtime.deps.ctx
        now = ctx.clock()
        async with ctx.sessions.begin() as session:
            await session.execute(
                insert(TimelineEntry),
                [
                    {
                        "incident_id": 1,
                        "at": now + timedelta(seconds=n),
                        "kind": "note",
                        "text": f"note {n}",
                        "recorded_at": now,
                    }
                    for n in range(450)
                ],
            )

    bot.server.run(add_notes)
    total = start + 450
    page = bot.incident("INC-1")
    assert page["timeline_total"] == total and len(page["timeline"]) == 200
    last = bot.http.get(
        "/api/incidents/INC-1", params={"timeline_offset": total - 5, "timeline_limit": 1000}
    ).json()
    assert [t["text"] for t in last["timeline"]] == [f"note {n}" for n in range(445, 450)]
    assert last["occurrences"] and last["title"] == first["title"]  # the rest as before
    for bad in ({"timeline_limit": 0}, {"timeline_limit": 1001}, {"timeline_offset": -1}):
        answer = bot.http.get("/api/incidents/INC-1", params=bad)
        assert answer.status_code == 422 and answer.json()["error"] == "invalid_request", bad
    wait_until(lambda: bot.busy() == [], what="the bot to settle")

"""Test alerts from the page's menu, through the bot's own webhook (token and all)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from bot.alerts.sources.registry import receivers
from bot.config import FirebreakConfig, SourceSpec
from bot.sample_alerts import ALERTNAME, SOURCES, SampleAlerts
from tests.fakes import FakeClock
from tests.polling import wait_until
from tests.scenario import WEBHOOK_TOKEN, clean_env, running_bot
from tests.unit.localslack.htmlforms import forms


def test_fire_and_resolve_from_the_page_open_and_close_the_incident(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    config.alerts.service_label = "app"  # sample alerts are labelled as this config reads them
    with (
        running_bot(tmp_path, config) as bot,
        httpx.Client(base_url=bot.http.base_url, follow_redirects=True, timeout=10) as browser,
    ):
        [menu] = [
            f for f in forms(browser.get(bot.page_url).text) if f.action.endswith("/fire-alert")
        ]
        assert menu.fields["service"] == "search-ranker"

        fired = browser.post(menu.action, data={**menu.fields, "status": "firing"})
        assert "✓ Sent ModelQualityDrop firing on search-ranker: INC-1 opened." in fired.text
        incident = bot.announced("INC-1")
        assert incident["service"] == "search-ranker" and incident["severity"] == "SEV1"
        assert incident["title"] == "search-ranker: model quality dropped (test alert)"
        assert incident["group_key"] == f'{{}}:{{alertname="{ALERTNAME}", app="search-ranker"}}'
        assert incident["channel_name"] in browser.get("/").text  # the newest channel is shown

        again = browser.post(menu.action, data={**menu.fields, "status": "firing"})
        assert "INC-1 updated." in again.text
        resolved = browser.post(menu.action, data={**menu.fields, "status": "resolved"})
        assert "INC-1&#39;s alert is resolved." in resolved.text

        def all_resolved() -> list[dict[str, str]] | None:
            current = bot.incident("INC-1")
            kinds = [t["kind"] for t in current["timeline"]]
            return current["occurrences"] if "alerts.all_resolved" in kinds else None

        [occurrence] = wait_until(all_resolved, what="the alert resolved on the timeline")
        assert occurrence["status"] == "resolved"
        assert len(bot.http.get("/api/incidents").json()) == 1


def test_a_refused_webhook_is_reported_not_remembered(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    with running_bot(tmp_path, config) as bot:
        asyncio.run(refused_then_taken(f"{bot.http.base_url}/webhooks", config))


async def refused_then_taken(url: str, config: FirebreakConfig) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        wrong = SampleAlerts(config, webhooks_url=url, token="not-the-token", client=client)
        ok, told = await wrong.fire(service="search-ranker", resolved=False)
        assert not ok
        assert told.startswith("The webhook answered 401 to ModelQualityDrop firing")
        assert WEBHOOK_TOKEN not in told and "not-the-token" not in told

        right = SampleAlerts(config, webhooks_url=url, token=WEBHOOK_TOKEN, client=client)
        assert await right.fire(service="search-ranker", resolved=False) == (
            True,
            "Sent ModelQualityDrop firing on search-ranker: INC-1 opened.",
        )

        gone = SampleAlerts(
            config, webhooks_url="http://127.0.0.1:9/nothing", token=None, client=client
        )
        ok, told = await gone.fire(service="search-ranker", resolved=True)
        assert not ok and told.startswith("Could not send ModelQualityDrop resolved")


@pytest.mark.parametrize("source", SOURCES)
def test_every_senders_test_alert_opens_and_resolves_through_its_own_receiver(
    source: str, tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    with running_bot(tmp_path, config) as bot:
        asyncio.run(fire_and_resolve(f"{bot.http.base_url}/webhooks", config, source))
        incident = bot.announced("INC-1")
        assert incident["source"] == source and incident["service"] == "search-ranker"
        assert [o["status"] for o in incident["occurrences"]] == ["resolved"]


async def fire_and_resolve(url: str, config: FirebreakConfig, source: str) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        samples = SampleAlerts(config, webhooks_url=url, token=WEBHOOK_TOKEN, client=client)
        ok, told = await samples.fire(service="search-ranker", resolved=False, source=source)
        assert ok and told.endswith("INC-1 opened."), told
        ok, told = await samples.fire(service="search-ranker", resolved=False, source=source)
        assert ok and told.endswith("INC-1 updated."), told
        ok, told = await samples.fire(service="search-ranker", resolved=True, source=source)
        assert ok and told.endswith("INC-1's alert is resolved."), told


def test_a_config_sources_sample_is_offered_and_sent(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    config.sources = {
        "monitor": SourceSpec(
            group_key="{{ payload.id }}",
            title="{{ payload.what }}",
            service="{{ payload.model }}",
            sample={"id": "drift-1", "what": "Feature drift on ranker", "model": "search-ranker"},
        ),
        "unsampled": SourceSpec(group_key="{{ payload.id }}", title="{{ payload.id }}"),
    }
    with (
        running_bot(tmp_path, config) as bot,
        httpx.Client(base_url=bot.http.base_url, follow_redirects=True, timeout=10) as browser,
    ):
        menu = [
            f for f in forms(browser.get(bot.page_url).text) if f.action.endswith("/fire-alert")
        ]
        assert [f.fields["source"] for f in menu if "service" not in f.fields] == ["monitor"]
        asyncio.run(send_sample(f"{bot.http.base_url}/webhooks", config))
        assert bot.announced("INC-1")["title"] == "Feature drift on ranker"


async def send_sample(url: str, config: FirebreakConfig) -> None:
    built = receivers(config=config, clock=FakeClock(), environ={})
    async with httpx.AsyncClient(timeout=10) as client:
        samples = SampleAlerts(
            config, webhooks_url=url, token=WEBHOOK_TOKEN, client=client, receivers=built
        )
        assert samples.samples() == ["monitor"]
        ok, told = await samples.fire(service="", resolved=False, source="monitor")
        assert (ok, told) == (True, "Sent the monitor sample: INC-1 opened.")

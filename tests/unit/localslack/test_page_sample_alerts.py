"""The page's "Fire test alert" menu: one form per service it knows, each firing or
resolving through the sample alerts, with what happened shown as a banner."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from bot.localslack.mrkdwn import emoji
from bot.localslack.page import build_page
from bot.localslack.state import Workspace

from .conftest import KEYED, PAGE, SITE, Call
from .htmlforms import forms


@dataclass
class FakeSampleAlerts:
    answer: tuple[bool, str] = (
        True,
        "Sent ModelQualityDrop firing on search-ranker: INC-1 opened.",
    )
    fired: list[tuple[str, bool]] = field(default_factory=list)
    sources_fired: list[str] = field(default_factory=list)

    def services(self) -> list[str]:
        return ["checkout-fraud", "search-ranker"]

    def sources(self) -> list[str]:
        return ["alertmanager", "pagerduty"]

    def samples(self) -> list[str]:
        return ["datadog"]

    async def fire(self, *, service: str, resolved: bool, source: str) -> tuple[bool, str]:
        self.fired.append((service, resolved))
        self.sources_fired.append(source)
        return self.answer


@pytest.fixture
def samples() -> FakeSampleAlerts:
    return FakeSampleAlerts()


@pytest.fixture
async def page(ws: Workspace, samples: FakeSampleAlerts) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_page(ws, access=PAGE, alerts=samples))
    async with httpx.AsyncClient(
        transport=transport, base_url=SITE, follow_redirects=True, cookies=KEYED
    ) as client:
        yield client


async def test_one_form_per_service_that_fires_and_resolves(
    page: httpx.AsyncClient, samples: FakeSampleAlerts, ws: Workspace
) -> None:
    channel = ws.ensure_channel("incidents")["id"]
    html = (await page.get("/", params={"channel": channel})).text

    menu = [f for f in forms(html) if f.action == f"{SITE}/fire-alert"]
    assert [f.fields.get("service") for f in menu] == ["checkout-fraud", "search-ranker", None]
    assert all(f.buttons == ["Fire", "Resolve"] for f in menu[:2])
    assert menu[1].selects["source"] == [
        ("alertmanager", "alertmanager"),
        ("pagerduty", "pagerduty"),
    ]
    assert menu[1].fields["source"] == "alertmanager"  # selected first

    fired = await page.post(menu[1].action, data={**menu[1].fields, "status": "firing"})
    assert samples.fired == [("search-ranker", False)]
    assert samples.sources_fired == ["alertmanager"]
    # Firing shows the newest channel (the incident's, once it opens), with the news.
    assert str(fired.url) == f"{SITE}/"
    assert '<div class="banner ok" role="status">✓ Sent ModelQualityDrop firing' in fired.text

    samples.answer = (False, "The webhook answered 401 to ModelQualityDrop resolved")
    resolved = await page.post(menu[1].action, data={**menu[1].fields, "status": "resolved"})
    assert samples.fired[-1] == ("search-ranker", True)
    assert str(resolved.url) == f"{SITE}/?channel={channel}"
    assert '<div class="banner" role="alert">⚠ The webhook answered 401' in resolved.text


async def test_each_sender_and_each_config_sample_can_be_fired(
    page: httpx.AsyncClient, samples: FakeSampleAlerts, ws: Workspace
) -> None:
    html = (await page.get("/")).text
    *services, datadog = [f for f in forms(html) if f.action == f"{SITE}/fire-alert"]
    await page.post(services[0].action, data={**services[0].fields, "source": "pagerduty"})
    assert samples.fired == [("checkout-fraud", False)]
    assert datadog.fields["source"] == "datadog" and datadog.buttons == ["Fire"]
    await page.post(datadog.action, data={**datadog.fields, "status": "firing"})
    assert samples.sources_fired == ["pagerduty", "datadog"]
    shown = await page.post("/fire-alert", data={"service": "search-ranker", "source": "x<y"})
    assert "No source &#39;x&lt;y&#39; to fire a test alert from." in shown.text
    assert len(samples.fired) == 2


async def test_an_unknown_service_is_refused_without_firing(
    page: httpx.AsyncClient, samples: FakeSampleAlerts
) -> None:
    shown = await page.post("/fire-alert", data={"service": "nope<b>", "status": "firing"})
    assert samples.fired == []
    assert "No service &#39;nope&lt;b&gt;&#39; to fire a test alert for." in shown.text


async def test_no_menu_without_a_drill(ws: Workspace) -> None:
    transport = httpx.ASGITransport(app=build_page(ws, access=PAGE))
    async with httpx.AsyncClient(transport=transport, base_url=SITE, cookies=KEYED) as client:
        html = (await client.get("/")).text
        refused = await client.post("/fire-alert", data={"service": "search-ranker"})
    assert "Fire test alert" not in html
    assert refused.status_code == 303


# Characters an emoji font draws: on a machine without one they would show as empty boxes.
EMOJI_CHARACTERS = re.compile("[\U0001f300-\U0001faff\u2b50\u2705\u274c\u23e9-\u23f3]")


async def test_the_page_draws_its_own_emoji_as_images(page: httpx.AsyncClient, call: Call) -> None:
    private = call("conversations.create", name="inc-9-secret", is_private=True)["channel"]["id"]

    html = (await page.get("/", params={"channel": private})).text

    assert f"<summary>{emoji('fire')} Fire test alert</summary>" in html
    assert f"{emoji('lock')}inc-9-secret" in html
    assert not EMOJI_CHARACTERS.search(html)

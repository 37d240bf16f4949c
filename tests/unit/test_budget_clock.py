"""The error-budget clock end to end, on the local page: a scripted incident whose clock ticks
down through the real scheduler, crosses the 50% and 100% thresholds with announcements, is
resolved from the page, and leaves a postmortem whose numbers can be recomputed by hand from
its own timeline.

The bot's clock is a FakeClock that starts at real time, so APScheduler (which runs on real
time) fires the budget job every second while the test moves the incident's time a minute on.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.budget.slo import Slo
from bot.config import FirebreakConfig
from bot.postmortem.filters import duration, percent
from bot.slack.blocks import actions
from tests.fakes import FakeClock
from tests.payloads import am_alert, am_notification
from tests.polling import wait_until
from tests.scenario import Bot, clean_env, running_bot
from tests.unit.localslack.htmlforms import form_to, form_with

ANA = "U0ANA0001"
BUDGET = timedelta(seconds=302.4)  # 99.95% of 7 days
_CONSUMED = re.compile(r"Consumed (\S+) \((\d+)%\)")
_ALERT_ROW = re.compile(r"^\| (\S+ \S+) UTC \| alertmanager \| Alert (firing|resolved): ", re.M)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def budget_clock(bot: Bot, channel: str) -> str | None:
    """The pinned budget message's text as it reads now (chat.update keeps its ts)."""
    pinned = {c.args["timestamp"] for c in bot.workspace.calls_to("pins.add") if c.status == 200}
    return next((m["text"] for m in bot.workspace.messages(channel) if m["ts"] in pinned), None)


def consumed_now(bot: Bot, channel: str) -> tuple[str, int] | None:
    found = _CONSUMED.search(budget_clock(bot, channel) or "")
    return (found[1], int(found[2])) if found else None


def page(browser: httpx.Client, channel: str) -> str:
    return browser.get("/", params={"channel": channel}).text


def test_a_scripted_incident_on_the_local_page(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    config.services["search-ranker"].slo = Slo(target=99.95, window="7d")
    config.reminders.budget_every = timedelta(seconds=1)
    with (
        running_bot(tmp_path, config, clock=clock) as bot,
        httpx.Client(base_url=bot.http.base_url, follow_redirects=True, timeout=10) as browser,
    ):
        acting = form_to(browser.get(bot.page_url).text, "/as")
        browser.post(acting.action, data={**acting.fields, "user": ANA})
        fired = clock() - timedelta(minutes=1)
        alert = am_notification(am_alert(starts_at=rfc3339(fired)))
        assert bot.webhook("alertmanager", alert).status_code == 200
        channel = bot.announced("INC-1")["channel_id"]
        broadcast = bot.workspace.channel_by_name("incidents")
        assert broadcast is not None

        # The clock ticks: each minute of the incident's time, one more minute of the 5m 2s.
        readings = [wait_until(lambda: consumed_now(bot, channel), what="the budget clock")]
        assert readings[0] == ("1m", 20)
        for _ in range(5):
            clock.advance(minutes=1)
            last = readings[-1]
            readings.append(
                wait_until(
                    lambda: (now := consumed_now(bot, channel)) != last and now,  # noqa: B023
                    what="the next tick",
                )
            )
        # 60 s of 302.4 s is 19.8%, shown rounded.
        assert readings == [("1m", 20), ("2m", 40), ("3m", 60), ("4m", 79), ("5m", 99), ("6m", 119)]
        # The countdown leads the pinned message, just under its title.
        assert (budget_clock(bot, channel) or "").split("\n")[1] == "*budget spent, 57s over*"
        # The topic holds no countdown: set once, when the channel opened, whatever the ticks.
        info = bot.workspace.channel_by_name(bot.incident("INC-1")["channel_name"])
        assert info is not None
        assert info["topic"]["value"] == "SEV1 · investigating · commander nobody"
        assert len(bot.workspace.calls_to("conversations.setTopic")) == 1

        # Both thresholds were announced in the broadcast channel, once each, and shown there.
        def thresholds_told() -> list[str]:
            texts = [m["text"] for m in bot.workspace.messages(broadcast["id"])]
            return [t for t in texts if "error budget" in t]

        wait_until(lambda: len(thresholds_told()) >= 2, what="both thresholds told")
        assert [t.split(" (")[0] for t in thresholds_told()] == [
            ":warning: search-ranker has used 50% of its error budget",
            ":rotating_light: search-ranker has spent its whole error budget",
        ]
        shown = page(browser, broadcast["id"])
        assert "has used 50% of its error budget" in shown
        assert "has spent its whole error budget" in shown
        # At 100% the traffic freeze is offered in the incident channel, as a button (told
        # after the broadcast, in another channel's queue: delivered in its own time).
        wait_until(lambda: "traffic-freeze" in page(browser, channel), what="the freeze offered")

        # The alert resolves; the commander resolves the incident from the page.
        resolved_at = clock()
        ended = am_notification(
            am_alert(status="resolved", starts_at=rfc3339(fired), ends_at=rfc3339(resolved_at))
        )
        assert bot.webhook("alertmanager", ended).status_code == 200
        clock.advance(minutes=2)
        composer = form_to(page(browser, channel), "/compose")
        browser.post(composer.action, data={**composer.fields, "text": "/incident resolve"})
        wait_until(
            lambda: actions.RESOLVE_CONFIRM in page(browser, channel), what="the confirmation"
        )
        button = form_with(page(browser, channel), actions.RESOLVE_CONFIRM)
        browser.post(button.action, data=button.fields)
        wait_until(lambda: bot.incident("INC-1")["status"] == "resolved", what="resolved")

        # The postmortem and its burn-down chart, shared in the channel in one message.
        shared = wait_until(
            lambda: next((m for m in bot.workspace.messages(channel) if m.get("files")), None),
            what="the postmortem shared",
        )
        names = [f["name"] for f in shared["files"]]
        assert names == [
            "INC-1-rankerndcgdrop-on-search-ranker.md",
            "INC-1-rankerndcgdrop-on-search-ranker-budget.png",
        ]
        assert all(name in page(browser, channel) for name in names)
        document = bot.workspace.file_content(shared["files"][0]["id"]).decode()
        chart = bot.workspace.file_content(shared["files"][1]["id"])
        assert chart.startswith(b"\x89PNG\r\n\x1a\n")
        # Stored as Slack stores an image, so it shows as a picture rather than a download.
        assert (shared["files"][1]["mimetype"], shared["files"][1]["filetype"]) == (
            "image/png",
            "png",
        )

    # A reviewer's check, by hand, from the document alone: the alert's firing and resolved rows
    # of its timeline give the bad time; 0.05% of 7 days is the budget.
    rows = {kind: datetime.fromisoformat(at) for at, kind in _ALERT_ROW.findall(document)}
    bad = rows["resolved"] - rows["firing"]
    assert bad == timedelta(minutes=6)
    assert f"consumed {duration(bad)} of bad time, {percent(bad / BUDGET)}" in document
    assert f"overspent by {duration(bad - BUDGET)}" in document
    assert "Priority action item required by the error-budget policy" in document

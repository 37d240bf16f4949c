"""People typed as "@name" on the local page reach the bot as Slack sends them (the manifest's
escaping on: <@U…|name>), so a handoff or a role can be given by name, as in Slack."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bot.config import FirebreakConfig
from tests.payloads import am_notification
from tests.polling import wait_until
from tests.scenario import clean_env, running_bot
from tests.unit.localslack.htmlforms import form_to

ANA, BEN = "U0ANA0001", "U0BEN0002"


def test_a_handoff_and_a_scribe_given_by_typed_name(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    with (
        running_bot(tmp_path, config) as bot,
        httpx.Client(base_url=bot.http.base_url, follow_redirects=True, timeout=10) as browser,
    ):
        bot.workspace.add_user(ANA, "ana")
        bot.workspace.add_user(BEN, "ben")

        def typed(channel: str, text: str) -> None:
            page = browser.get("/", params={"channel": channel}).text
            composer = form_to(page, "/compose")
            browser.post(composer.action, data={**composer.fields, "text": text})

        acting = form_to(browser.get(bot.page_url).text, "/as")
        browser.post(acting.action, data={**acting.fields, "user": ANA})
        assert bot.webhook("alertmanager", am_notification()).status_code == 200
        channel = bot.announced("INC-1")["channel_id"]

        typed(channel, "/incident commander me")
        wait_until(lambda: bot.incident("INC-1")["commander"] == ANA, what="ana in command")
        typed(channel, "/incident scribe @Ben")
        wait_until(lambda: bot.incident("INC-1")["scribe"] == BEN, what="ben scribing")
        typed(channel, "/incident handoff @ben")
        wait_until(lambda: bot.incident("INC-1")["handoff_to"] == BEN, what="the offer to ben")

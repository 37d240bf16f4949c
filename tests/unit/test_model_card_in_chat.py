"""Scenario: the whole bot, its embedded Slack stand-in and the example model service over real
HTTP: both copies of the announcement get the model card read from the service's target."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import FirebreakConfig, ServiceConfig
from bot.deploy.config import HttpTargetConfig
from tests.payloads import am_notification
from tests.polling import wait_until
from tests.scenario import Bot, clean_env, running_bot

ANA = "U0ANA0001"


@pytest.fixture
def bot(
    tmp_path: Path, config: FirebreakConfig, model_service: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Bot]:
    clean_env(monkeypatch)
    config.services["search-ranker"] = ServiceConfig(
        owners=[ANA], deploy=HttpTargetConfig(kind="http", url=model_service)
    )
    with running_bot(tmp_path, config) as running:
        yield running


def card_of(bot: Bot, channel: str) -> str | None:
    """The announcement's blocks, once they show the model card."""
    for message in bot.workspace.messages(channel):
        shown = str(message.get("blocks") or "")
        if "INC-1" in message.get("text", "") and "Model card" in shown:
            return shown
    return None


def test_both_announcements_show_the_model_card(bot: Bot) -> None:
    bot.webhook("alertmanager", am_notification())
    incident: dict[str, Any] = bot.announced("INC-1")
    broadcast = bot.workspace.channel_by_name("incidents")
    assert broadcast is not None

    for channel in (incident["channel_id"], broadcast["id"]):
        shown = wait_until(lambda: card_of(bot, channel), what="the model card")  # noqa: B023
        assert "`v42-bad`" in shown and "`v41`" in shown
        assert "not in the change feed" in shown
    page = bot.http.get("/", params={"channel": incident["channel_id"]}).text
    assert "Model card" in page and "v42-bad" in page and "Before it" in page
    timeline = bot.incident("INC-1")["timeline"]
    [entry] = [t for t in timeline if t["kind"] == "model.card"]
    assert entry["text"] == "Model card of search-ranker: live v42-bad, before it v41"

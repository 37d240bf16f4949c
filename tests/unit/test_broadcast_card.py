"""The broadcast channel's copy of the card follows the incident as the channel's copy does
(bot/incidents/sync.py): one rendering of the current state, with no button left that no longer
applies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import FirebreakConfig
from bot.slack.blocks import actions
from tests.payloads import am_notification
from tests.polling import wait_until
from tests.scenario import Bot, clean_env, running_bot

ANA, BEN = "U0ANA0001", "U0BEN0002"


@pytest.fixture
def bot(tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    clean_env(monkeypatch)
    with running_bot(tmp_path, config) as running:
        for user, name in ((ANA, "ana"), (BEN, "ben")):
            running.workspace.add_user(user, name)
        yield running


def card(bot: Bot, channel_id: str) -> dict[str, Any]:
    [message] = [m for m in bot.workspace.messages(channel_id) if m.get("blocks")]
    return message


def fields(message: dict[str, Any]) -> list[str]:
    return [f["text"] for b in message["blocks"] for f in b.get("fields", [])]


def buttons(message: dict[str, Any]) -> list[str]:
    return [
        e["action_id"]
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b.get("elements", [])
    ]


def test_the_broadcast_copy_shows_every_change_and_drops_stale_buttons(bot: Bot) -> None:
    assert bot.webhook("alertmanager", am_notification()).status_code == 200
    incident = bot.announced("INC-1")
    broadcast = bot.workspace.channel_by_name("incidents")
    assert broadcast is not None
    before = card(bot, broadcast["id"])
    assert actions.CLAIM_COMMANDER in buttons(before)

    channel = incident["channel_id"]
    bot.command("commander me", user=ANA, channel=channel)
    bot.command("severity SEV2", user=ANA, channel=channel)
    bot.command("scribe <@U0BEN0002>", user=ANA, channel=channel)

    def shows_the_roles() -> dict[str, Any] | None:
        now = card(bot, broadcast["id"])
        shown = fields(now)
        return now if f"*Commander*\n<@{ANA}>" in shown and f"*Scribe*\n<@{BEN}>" in shown else None

    now = wait_until(shows_the_roles, what="the broadcast card showing the roles")
    assert "SEV2" in now["text"] and "edited" in now  # updated in place, not posted again
    assert actions.CLAIM_COMMANDER not in buttons(now)
    assert actions.ACKNOWLEDGE not in buttons(now)
    # The two copies are one rendering (each channel's calls go out in their own turn).
    wait_until(
        lambda: card(bot, channel)["blocks"] == card(bot, broadcast["id"])["blocks"],
        what="the two copies alike",
    )

    bot.command("resolve", user=ANA, channel=channel)
    bot.click(actions.RESOLVE_CONFIRM, "1", user=ANA, channel=channel)
    bot.click(actions.RESOLVE_CONFIRM, "1:firing", user=ANA, channel=channel)  # asked again
    wait_until(
        lambda: bot.incident("INC-1")["status"] == "resolved", what="INC-1 resolved", timeout=10
    )
    wait_until(
        lambda: "*Status*\nresolved" in fields(card(bot, broadcast["id"])),
        what="the broadcast card resolved",
    )
    assert buttons(card(bot, broadcast["id"])) == []

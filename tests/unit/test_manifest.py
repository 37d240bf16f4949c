"""manifest.yaml asks for what the bot uses: its command, events, URLs and OAuth scopes."""

from __future__ import annotations

import re

import yaml

from bot.slack.listeners.commands.incident import COMMAND
from tests.paths import ROOT

# The bot scope each Web API method the bot calls needs (docs.slack.dev/reference/methods).
SCOPES = {
    "conversations_create": "channels:manage",
    "conversations_invite": "channels:manage",
    "conversations_setTopic": "channels:manage",
    "conversations_members": "channels:read",
    "conversations_history": "channels:history",
    "conversations_replies": "channels:history",
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "chat_postEphemeral": "chat:write",
    "chat_getPermalink": "chat:write",  # needs no scope of its own; any bot token may call it
    "files_upload_v2": "files:write",
    "pins_add": "pins:write",
    "users_info": "users:read",
}


def manifest() -> dict:  # type: ignore[type-arg]
    return dict(yaml.safe_load((ROOT / "manifest.yaml").read_text()))


def test_every_web_api_method_the_bot_calls_has_its_scope() -> None:
    called = set(
        re.findall(
            r'"((?:conversations|chat|users|pins|reactions|views|files)_\w+)"',
            (ROOT / "bot/slack/notifier.py").read_text(),
        )
    )
    called |= set(
        re.findall(
            r"client\.(users_\w+)\(",
            "".join(p.read_text() for p in (ROOT / "bot/slack").glob("*.py")),
        )
    )
    called |= set(
        re.findall(
            r"client\.(views_\w+)\(",
            "".join(p.read_text() for p in (ROOT / "bot/slack/listeners").rglob("*.py")),
        )
    )
    unknown = called - set(SCOPES) - {"views_open"}  # views.open needs no scope
    assert not unknown, f"add the scope for {unknown} to SCOPES and manifest.yaml"
    granted = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert {SCOPES[m] for m in called if m in SCOPES} <= granted


def test_command_events_and_urls() -> None:
    data = manifest()
    [command] = data["features"]["slash_commands"]
    assert command["command"] == COMMAND and command["should_escape"] is True
    settings = data["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {"pin_added", "reaction_added"}
    urls = {
        command["url"],
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    }
    assert {url.rsplit("/", 2)[-2:] == ["slack", "events"] for url in urls} == {True}
    assert {"pins:read", "reactions:read", "commands", "im:write"} <= set(
        data["oauth_config"]["scopes"]["bot"]
    )

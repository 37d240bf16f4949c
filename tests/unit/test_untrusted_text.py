"""Scenario: outside text is data. A hostile alert, hostile change events and hostile words typed
into `/incident` go through the whole bot; everything Slack receives (every Web API call, every
command answer and response_url reply, every topic) holds nothing active but Firebreak's own
mentions of the people and channels it knows, while the JSON API and the postmortem show the
text exactly as it was sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import FirebreakConfig, PermissionsConfig, ServiceConfig
from bot.deploy.config import HttpTargetConfig
from bot.mrkdwn import escape
from bot.slack.blocks import actions
from tests.inert import HOSTILE_TEXT, violations
from tests.payloads import am_alert, am_notification
from tests.polling import wait_until
from tests.scenario import Bot, clean_env, running_bot, settled

ANA, BEN = "U0ANA0001", "U0BEN0002"
GENERAL = "C0GENERAL1"
# The reproductions, and more of the same.
EVIL_SERVICE = "<!channel> <https://evil.example|click me>"
SUMMARY = "<!everyone> ranker down"
ALERTNAME = "RankerDown <!here>"
TITLE = "<!here|here> Checkout <@U0EVIL0001> & co &lt;b&gt;"


@pytest.fixture
def bot(
    tmp_path: Path, config: FirebreakConfig, model_service: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Bot]:
    clean_env(monkeypatch)
    config.services["search-ranker"] = ServiceConfig(
        owners=[ANA, BEN], deploy=HttpTargetConfig(kind="http", url=model_service)
    )
    # The hostile service is no configured one, so nobody is invited: let anyone work it.
    config.permissions = PermissionsConfig(change="anyone")
    with running_bot(tmp_path, config) as running:
        yield running


def typed(bot: Bot, words: str, *, user: str, channel: str) -> dict[str, Any]:
    """A command as Slack sends what a person typed: &, < and > escaped."""
    response = bot.command(escape(words), user=user, channel=channel)
    assert response.status_code == 200, response.text
    return dict(response.json()) if response.content else {}


def hostile_alert() -> dict[str, Any]:
    alert = am_alert(alertname=ALERTNAME, service=EVIL_SERVICE)
    alert["annotations"] = {
        "summary": SUMMARY,
        "description": HOSTILE_TEXT,
        "runbook_url": "javascript:alert('<!here>')",
    }
    alert["generatorURL"] = "https://prom.example/graph?g0.expr=up|<!channel>"
    return am_notification(alert, group_key='{}:{alertname="evil"}')


def change(event_id: str, **kw: Any) -> dict[str, Any]:
    body = {
        "id": event_id,
        "kind": "deploy",
        "service": EVIL_SERVICE,
        "version": "<!here>",
        "previous_version": "<@U0EVIL0001>",
        "author": "<!everyone>",
        "link": "https://evil.example/x|click me><!channel>",
    }
    return {**body, **kw}


def run_messages(bot: Bot, channel: str) -> list[dict[str, Any]]:
    return [m for m in bot.workspace.messages(channel) if "playbook traffic-freeze" in m["text"]]


def approve_freeze(bot: Bot, channel: str) -> None:
    asked = wait_until(
        lambda: [m for m in run_messages(bot, channel) if "Awaiting approval" in m["text"]],
        what="traffic-freeze awaiting approval",
    )[-1]
    approve = next(
        e
        for b in asked["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == actions.RUN_APPROVE
    )
    bot.click(
        actions.RUN_APPROVE, approve["value"], user=ANA, channel=channel, message_ts=asked["ts"]
    )
    wait_until(
        lambda: "Succeeded" in run_messages(bot, channel)[-1]["text"],
        timeout=30,
        what="traffic-freeze succeeded",
    )


def everything_slack_received(bot: Bot, answers: list[dict[str, Any]]) -> list[object]:
    """Every Web API call's arguments, every response_url reply and ephemeral message, every
    channel's topic, and the answers (acks) of the commands."""
    seen: list[object] = [call.args for call in bot.workspace.calls]
    for channel in bot.workspace.channels():
        seen.append({"topic": channel["topic"]["value"]})
        seen += bot.workspace.ephemeral(channel["id"])
    return seen + answers


def test_hostile_text_reaches_slack_inert_and_the_api_as_sent(bot: Bot, tmp_path: Path) -> None:
    answers: list[dict[str, Any]] = []
    # An alert whose service label, alert name, summary and description are hostile.
    assert bot.webhook("alertmanager", hostile_alert()).status_code == 200
    channel = str(bot.announced("INC-1")["channel_id"])
    answers.append(typed(bot, "commander me", user=ANA, channel=channel))
    wait_until(lambda: bot.incident("INC-1")["commander"] == ANA, what="ANA in command")

    answers.append(typed(bot, f"note {HOSTILE_TEXT}", user=ANA, channel=channel))
    answers.append(typed(bot, f"update {HOSTILE_TEXT}", user=ANA, channel=channel))
    answers.append(typed(bot, f"action prevent {HOSTILE_TEXT}", user=ANA, channel=channel))
    # The reproduction, as Slack sends `@channel` typed into a command: <!channel>.
    response = bot.command(
        "run traffic-freeze reason=<!channel> service=search-ranker", user=ANA, channel=channel
    )
    answers.append(response.json() if response.content else {})
    approve_freeze(bot, channel)

    # Change events: one of the hostile service (listed on the card), one during the freeze.
    assert bot.webhook("changes", change("evil-1")).status_code == 201
    during = change("evil-2", service="search-ranker", author="<#C0EVIL0001>")
    assert bot.webhook("changes", during).json()["during_freeze"] is True
    wait_until(
        lambda: any("Change during a freeze" in m["text"] for m in bot.workspace.messages(channel)),
        what="the freeze flag",
    )

    # A hostile message pinned onto the timeline (Slack holds it escaped, as typed).
    message = bot.workspace.add_message(channel, BEN, escape(HOSTILE_TEXT))
    pin = {
        "type": "pin_added",
        "user": ANA,
        "channel_id": channel,
        "event_ts": "1.0",
        "item": {"type": "message", "channel": channel, "message": {"ts": message["ts"]}},
    }
    assert bot.event(pin, event_id="Ev0HOSTILE").status_code == 200
    wait_until(
        lambda: [t for t in bot.incident("INC-1")["timeline"] if t["kind"] == "message"],
        what="the pinned message on the timeline",
    )

    # Echoes of what was typed, and the listings.
    answers.append(typed(bot, "<!channel>", user=ANA, channel=channel))  # no such subcommand
    answers.append(typed(bot, "run traffic-freeze <!here>", user=ANA, channel=channel))
    answers.append(typed(bot, "budget <!here>", user=ANA, channel=channel))
    answers.append(typed(bot, "drill <!here>", user=ANA, channel=channel))
    listing = typed(bot, "timeline", user=ANA, channel=channel)
    answers.append(listing)
    # Firebreak's mentions of the entry's people stay; the hostile words are shown as text.
    shown = str(listing["blocks"])
    assert f"<@{ANA}> took command" in shown and escape(HOSTILE_TEXT) in shown
    answers.append(typed(bot, f"declare {TITLE}", user=BEN, channel=GENERAL))
    bot.announced("INC-2")
    answers.append(typed(bot, "list", user=BEN, channel=GENERAL))

    # Resolved: the broadcast channel is told, with the incident's title (the alert's summary).
    answers.append(typed(bot, "resolve", user=ANA, channel=channel))
    bot.click(actions.RESOLVE_CONFIRM, "1", user=ANA, channel=channel)
    # Its alert still fires: Resolve asks a second time.
    bot.click(actions.RESOLVE_CONFIRM, "1:firing", user=ANA, channel=channel)
    wait_until(lambda: bot.incident("INC-1")["status"] == "resolved", what="INC-1 resolved")
    wait_until(
        lambda: bot.workspace.calls_to("files.completeUploadExternal"), what="the postmortem"
    )
    settled(bot)

    known_channels = {c["id"] for c in bot.workspace.channels()}
    received = everything_slack_received(bot, answers)
    found = violations(received, users={ANA, BEN}, channels=known_channels)
    assert not found, "\n".join(f"{sequence!r} in {text!r}" for sequence, text in found)

    said = "\n".join(
        str(call.args.get("text", "")) + str(call.args.get("blocks", ""))
        for call in bot.workspace.calls
    )
    assert escape(EVIL_SERVICE) in said  # the announcement's Service field
    assert f"{escape(SUMMARY)}" in said  # the broadcast on resolve
    assert "reason=&lt;!channel&gt;" in said  # the run message
    assert ":ice_cube: search-ranker is frozen: &lt;!channel&gt;" in said  # its Slack step
    assert escape(TITLE) in said and "&amp;lt;b&amp;gt;" in said

    # The JSON API shows what was sent.
    declared = bot.incident("INC-2")
    assert declared["title"] == TITLE
    assert f"INC-2 declared: {TITLE}" in [t["text"] for t in declared["timeline"]]
    opened = bot.incident("INC-1")
    assert opened["title"] == SUMMARY and opened["service"] == EVIL_SERVICE
    entries = {t["kind"]: t["text"] for t in opened["timeline"]}
    assert entries["note"] == HOSTILE_TEXT and entries["status.update"] == HOSTILE_TEXT
    assert entries["message"] == HOSTILE_TEXT
    # (`action` reads a word that looks like a mention as the item's owner.)
    assert entries["action"] == HOSTILE_TEXT.replace(" <@U0EVIL0001>", "")
    assert entries["freeze.started"].startswith("Changes to search-ranker frozen (<!channel>)")

    # So does the postmortem: the text as sent, never Slack's &lt; (people shown by name).
    [draft] = (tmp_path / "postmortems").glob("INC-1-*.md")
    markdown = draft.read_text()
    assert SUMMARY in markdown and "&amp;" not in markdown


def test_a_hostile_title_is_verbatim_in_the_api_and_inert_in_slack(bot: Bot) -> None:
    answer = typed(bot, f"declare {TITLE}", user=BEN, channel=GENERAL)
    assert answer["text"].startswith(f"INC-1 declared: {escape(TITLE)}.")
    incident = bot.announced("INC-1")
    assert incident["title"] == TITLE
    settled(bot)
    posted = [c.args for c in bot.workspace.calls_to("chat.postMessage")]
    assert posted and all(escape(TITLE) in str(args["text"]) for args in posted)
    found = violations(posted, users={BEN}, channels={str(incident["channel_id"])})
    assert not found


@pytest.fixture
def admin_bot(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Bot]:
    clean_env(monkeypatch)
    config.permissions = PermissionsConfig(change="anyone", admins=[ANA])
    with running_bot(tmp_path, config) as running:
        yield running


def test_a_run_on_a_hostile_service_and_its_refusals_are_inert(admin_bot: Bot) -> None:
    bot = admin_bot
    assert bot.webhook("alertmanager", hostile_alert()).status_code == 200
    channel = str(bot.announced("INC-1")["channel_id"])
    answers = [
        typed(bot, "run <!here>", user=ANA, channel=channel),
        typed(bot, "run traffic-freeze <!here>=1", user=ANA, channel=channel),
    ]
    # The freeze defaults to the incident's service: the hostile label, which has no target.
    typed(bot, "run traffic-freeze reason=why", user=ANA, channel=channel)
    asked = wait_until(
        lambda: [m for m in run_messages(bot, channel) if "Awaiting approval" in m["text"]],
        what="traffic-freeze awaiting approval",
    )[-1]
    value = next(
        e["value"]
        for b in asked["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == actions.RUN_APPROVE
    )
    bot.click(actions.RUN_APPROVE, value, user=BEN, channel=channel, message_ts=asked["ts"])
    wait_until(lambda: bot.workspace.ephemeral(channel, BEN), what="BEN refused")
    bot.click(actions.RUN_APPROVE, value, user=ANA, channel=channel, message_ts=asked["ts"])
    wait_until(lambda: "FAILED" in run_messages(bot, channel)[-1]["text"], what="the freeze failed")
    settled(bot)
    known_channels = {c["id"] for c in bot.workspace.channels()}
    found = violations(
        everything_slack_received(bot, answers), users={ANA, BEN}, channels=known_channels
    )
    assert not found, "\n".join(f"{sequence!r} in {text!r}" for sequence, text in found)

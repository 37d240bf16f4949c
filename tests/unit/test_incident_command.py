"""Scenario tests of incident command over HTTP: signed slash commands, button clicks, modal
submissions and Events API callbacks, against the embedded Slack stand-in."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bot.config import FirebreakConfig
from bot.localslack.server import LocalSlackServer
from bot.localslack.state import Workspace
from bot.slack.blocks import actions
from tests.fakes import FakeClock
from tests.payloads import am_notification
from tests.polling import wait_until
from tests.scenario import Bot, clean_env, running_bot, settled

ANA, BEN, CHO, OUTSIDER = "U0ANA0001", "U0BEN0002", "U0CHO0003", "U0OUT0009"


@pytest.fixture
def bot(tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    clean_env(monkeypatch)
    with running_bot(tmp_path, config) as running:
        for user, name in ((ANA, "ana"), (BEN, "ben"), (CHO, "cho"), (OUTSIDER, "olly")):
            running.workspace.add_user(user, name)
        yield running


def opened(bot: Bot) -> dict[str, Any]:
    assert bot.webhook("alertmanager", am_notification()).status_code == 200
    return bot.announced("INC-1")


def private_replies(bot: Bot, channel: str, user: str) -> list[str]:
    return [m["text"] for m in bot.workspace.ephemeral(channel, user)]


def timeline_kinds(bot: Bot) -> list[str]:
    return [t["kind"] for t in bot.incident("INC-1")["timeline"]]


def channel_texts(bot: Bot, channel: str) -> list[str]:
    return [m["text"] for m in bot.workspace.messages(channel)]


def test_roles_by_command_and_button_show_in_topic_and_announcement(bot: Bot) -> None:
    channel = opened(bot)["channel_id"]
    assert bot.command("commander me", user=ANA, channel=channel).status_code == 200
    wait_until(lambda: bot.incident("INC-1")["commander"] == ANA, what="ANA in command")

    announcement = next(m for m in bot.workspace.messages(channel) if m.get("blocks"))
    assert (
        bot.click(
            actions.CLAIM_SCRIBE, "1", user=BEN, channel=channel, message_ts=announcement["ts"]
        ).status_code
        == 200
    )
    wait_until(lambda: bot.incident("INC-1")["scribe"] == BEN, what="BEN scribing")

    def announcement_fields() -> list[str]:
        message = next(m for m in bot.workspace.messages(channel) if m.get("blocks"))
        return [
            f["text"]
            for b in message["blocks"]
            if b["type"] == "section"
            for f in b.get("fields", [])
        ]

    wait_until(lambda: f"*Scribe*\n<@{BEN}>" in announcement_fields(), what="the announcement")
    assert f"*Commander*\n<@{ANA}>" in announcement_fields()
    info = bot.workspace.channel_by_name(bot.incident("INC-1")["channel_name"])
    assert info is not None
    assert info["topic"]["value"] == f"SEV1 · investigating · commander <@{ANA}> · scribe <@{BEN}>"
    refreshed = next(m for m in bot.workspace.messages(channel) if m.get("blocks"))
    assert "edited" in refreshed  # updated in place with chat.update
    kinds = timeline_kinds(bot)
    assert {"role.commander", "role.scribe", "command"} <= set(kinds)
    assert bot.incident("INC-1")["acknowledged_at"] is not None


def test_people_outside_the_channel_are_refused_privately(bot: Bot) -> None:
    channel = opened(bot)["channel_id"]
    bot.command("commander me", user=OUTSIDER, channel=channel)
    wait_until(lambda: private_replies(bot, channel, OUTSIDER), what="a private refusal")
    assert "Only members of #inc-1-" in private_replies(bot, channel, OUTSIDER)[0]
    assert bot.incident("INC-1")["commander"] is None


def test_handoff_needs_the_new_commander_to_accept(bot: Bot) -> None:
    channel = opened(bot)["channel_id"]
    bot.command("commander me", user=ANA, channel=channel)
    bot.command(f"handoff <@{BEN}|ben>", user=ANA, channel=channel)
    offer = wait_until(
        lambda: next(
            (m for m in bot.workspace.messages(channel) if "offers command" in m["text"]), None
        ),
        what="the offer",
    )
    assert bot.incident("INC-1")["commander"] == ANA

    bot.click(actions.HANDOFF_ACCEPT, "1", user=CHO, channel=channel, message_ts=offer["ts"])
    wait_until(lambda: private_replies(bot, channel, CHO), what="the refusal to CHO")
    assert f"offered to <@{BEN}>; only they can accept" in private_replies(bot, channel, CHO)[0]
    assert bot.incident("INC-1")["commander"] == ANA

    bot.click(actions.HANDOFF_ACCEPT, "1", user=BEN, channel=channel, message_ts=offer["ts"])
    wait_until(lambda: bot.incident("INC-1")["commander"] == BEN, what="BEN in command")
    wait_until(
        lambda: any(
            f"<@{BEN}> now commands INC-1, taking over from <@{ANA}>" in text
            for text in channel_texts(bot, channel)
        ),
        what="the handover told",
    )

    def offer_now() -> str:
        return next(m["text"] for m in bot.workspace.messages(channel) if m["ts"] == offer["ts"])

    wait_until(
        lambda: offer_now() == f":handshake: <@{BEN}> accepted command.", what="the offer replaced"
    )


def test_lifecycle_commands_and_resolve_confirmation(bot: Bot) -> None:
    channel = opened(bot)["channel_id"]
    bot.command("status identified", user=ANA, channel=channel)
    bot.command("severity sev2", user=ANA, channel=channel)
    bot.command("update Rolled the ranker back to v41; NDCG recovering", user=ANA, channel=channel)
    wait_until(
        lambda: {"status.update", "severity.changed", "status.changed"} <= set(timeline_kinds(bot)),
        what="the three changes",
    )
    incident = bot.incident("INC-1")
    assert (incident["status"], incident["severity"]) == ("identified", "SEV2")
    broadcast = bot.workspace.channel_by_name("incidents")
    assert broadcast is not None
    wait_until(
        lambda: any("Status update on INC-1" in t for t in channel_texts(bot, broadcast["id"])),
        what="the update broadcast",
    )

    asked = bot.command("resolve", user=ANA, channel=channel).json()
    assert asked["text"].startswith("Resolve INC-1?")
    assert "1 alert is still firing" in asked["blocks"][0]["text"]["text"]
    buttons = asked["blocks"][-1]["elements"]
    assert [b["action_id"] for b in buttons] == [actions.RESOLVE_CONFIRM, actions.RESOLVE_CANCEL]
    assert bot.incident("INC-1")["status"] == "identified"  # nothing happens before the click

    # Its alert still fires: the click asks a second time (tests/unit/slack/blocks/
    # test_messages.py has what it shows), and only "Resolve anyway" resolves.
    bot.click(actions.RESOLVE_CONFIRM, "1", user=ANA, channel=channel)
    settled(bot)
    assert bot.incident("INC-1")["status"] == "identified"
    bot.click(actions.RESOLVE_CONFIRM, "1:firing", user=ANA, channel=channel)
    wait_until(lambda: bot.incident("INC-1")["status"] == "resolved", what="resolved")
    resolved = bot.incident("INC-1")
    assert resolved["resolved_at"] and resolved["mitigated_at"]
    wait_until(
        lambda: any("INC-1 resolved by" in t for t in channel_texts(bot, broadcast["id"])),
        what="the resolution broadcast",
    )

    bot.command("reopen", user=ANA, channel=channel)
    wait_until(lambda: bot.incident("INC-1")["status"] == "investigating", what="reopened")


def test_bad_arguments_get_a_private_answer(bot: Bot) -> None:
    channel = opened(bot)["channel_id"]
    assert (
        "Status is one of" in bot.command("status fixed", user=ANA, channel=channel).json()["text"]
    )
    assert (
        "Severity is one of" in bot.command("severity 9", user=ANA, channel=channel).json()["text"]
    )
    assert "Say who" in bot.command("commander ana", user=ANA, channel=channel).json()["text"]
    elsewhere = bot.command("status mitigated", user=ANA, channel="C0GENERAL1").json()["text"]
    assert elsewhere.startswith("Run `/incident status` in an incident's channel")
    assert bot.incident("INC-1")["status"] == "investigating"


def test_notes_pins_and_reactions_reach_the_timeline_once(bot: Bot) -> None:
    channel = opened(bot)["channel_id"]
    bot.command("note Feature store lag is 40 minutes", user=ANA, channel=channel)
    message = bot.workspace.add_message(channel, BEN, "Bad model v42 was promoted at 02:51")
    pin = {
        "type": "pin_added",
        "user": ANA,
        "channel_id": channel,
        "event_ts": "1.0",
        "item": {
            "type": "message",
            "channel": channel,
            "created_by": ANA,
            "message": {
                "type": "message",
                "ts": message["ts"],
                "user": BEN,
                "text": message["text"],
            },
        },
    }
    reaction = {
        "type": "reaction_added",
        "user": CHO,
        "reaction": "pushpin",
        "item_user": BEN,
        "event_ts": "2.0",
        "item": {"type": "message", "channel": channel, "ts": message["ts"]},
    }
    for retry in (None, 1, 2):  # Slack redelivers the same event, with X-Slack-Retry-Num
        assert bot.event(pin, event_id="Ev0PIN", retry=retry).status_code == 200
    assert bot.event(reaction, event_id="Ev0REACT").status_code == 200
    other = {**reaction, "reaction": "eyes"}
    assert bot.event(other, event_id="Ev0EYES").status_code == 200

    def flagged() -> list[dict[str, Any]]:
        return [t for t in bot.incident("INC-1")["timeline"] if t["kind"] == "message"]

    wait_until(flagged, what="the pinned message on the timeline")
    [entry] = flagged()
    assert entry["text"] == "Bad model v42 was promoted at 02:51" and entry["actor"] == BEN
    assert entry["link"].endswith(f"/archives/{channel}/p{message['ts'].replace('.', '')}")
    # The note's command is worked after its ack: it may land after the pin.
    notes = wait_until(
        lambda: [t["text"] for t in bot.incident("INC-1")["timeline"] if t["kind"] == "note"],
        what="the note",
    )
    assert notes == ["Feature store lag is 40 minutes"]

    shown = bot.command("timeline", user=ANA, channel=channel).json()
    assert shown["text"].startswith("Timeline of INC-1")
    assert "Bad model v42 was promoted" in str(shown["blocks"])


def test_concurrent_redeliveries_of_an_event_add_one_entry(
    tmp_path: Path,
    config: FirebreakConfig,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clean_env(monkeypatch)
    with running_bot(tmp_path, config, FIREBREAK_DATABASE_URL=db_url) as bot:
        bot.workspace.add_user(ANA, "ana")
        channel = opened(bot)["channel_id"]
        message = bot.workspace.add_message(channel, ANA, "Rolled back at 03:02")
        pin = {
            "type": "pin_added",
            "user": ANA,
            "channel_id": channel,
            "event_ts": "1.0",
            "item": {"type": "message", "channel": channel, "message": {"ts": message["ts"]}},
        }
        # Slack retries when the first answer is slow, so copies can arrive while one runs.
        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(
                pool.map(lambda n: bot.event(pin, event_id="Ev0RACE", retry=n or None), range(6))
            )
        assert [a.status_code for a in answers] == [200] * 6

        def entries() -> list[dict[str, Any]]:
            return [t for t in bot.incident("INC-1")["timeline"] if t["kind"] == "message"]

        wait_until(entries, what="the pinned message on the timeline")
        settled(bot)  # every copy's listener has run to its end
        assert [e["text"] for e in entries()] == ["Rolled back at 03:02"]
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_declare_modal_opens_and_its_answers_open_the_incident(bot: Bot) -> None:
    assert bot.command("declare", user=ANA).status_code == 200
    # views.open runs after the ack, so the modal can arrive a moment after the response.
    [view] = wait_until(bot.workspace.views, what="the declare modal")
    assert view["callback_id"] == actions.DECLARE_VIEW

    empty = bot.submit_view(view, {}, user=ANA)
    assert empty.json() == {
        "response_action": "errors",
        "errors": {"title": "Give the incident a title."},
    }
    values = {
        "title": {"title": {"type": "plain_text_input", "value": "Fraud scores all zero"}},
        "severity": {"severity": {"type": "static_select", "selected_option": {"value": "SEV2"}}},
        "service": {
            "service": {"type": "static_select", "selected_option": {"value": "search-ranker"}}
        },
        "description": {"description": {"type": "plain_text_input", "value": "Since 02:40"}},
    }
    assert bot.submit_view(view, values, user=ANA).status_code == 200
    incident = bot.announced("INC-1")
    assert (incident["title"], incident["severity"], incident["service"]) == (
        "Fraud scores all zero",
        "SEV2",
        "search-ranker",
    )
    assert incident["description"] == "Since 02:40" and incident["declared_by"] == ANA


def test_socket_mode_receives_commands_over_a_websocket(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    workspace = Workspace(tokens=["xoxb-socket-1"], app_tokens=["xapp-socket-1"])
    workspace.add_user(ANA, "ana")
    workspace.ensure_channel("incidents")
    with (
        LocalSlackServer(workspace) as slack,
        running_bot(
            tmp_path,
            config,
            slack=workspace,
            socket_mode=True,
            SLACK_BOT_TOKEN="xoxb-socket-1",
            SLACK_APP_TOKEN="xapp-socket-1",
            FIREBREAK_SLACK_API_URL=slack.base_url,
            SLACK_SIGNING_SECRET=None,
        ) as bot,
    ):
        assert slack.socket_connected(timeout=10)
        payload = {
            "command": "/incident",
            "text": "help",
            "user_id": ANA,
            "channel_id": "C0X1",
            "team_id": "T0LOCAL01",
            "trigger_id": "t",
            "response_url": "http://127.0.0.1:9/",
        }
        reply = slack.socket_send("slash_commands", payload)
        assert reply is not None and "/incident declare [title]" in reply["text"]
        slack.socket_send("slash_commands", {**payload, "text": "declare Ranker is slow"})
        assert bot.announced("INC-1")["declared_by"] == ANA
        # Nothing unsigned gets in over HTTP, and in Socket Mode nothing signed is expected.
        assert bot.command("help").status_code == 401


def test_postmortem_draft_by_command_and_api(bot: Bot, config: FirebreakConfig) -> None:
    channel = opened(bot)["channel_id"]
    bot.command("commander me", user=ANA, channel=channel)
    bot.command("note Rolled back by hand at 03:12", user=ANA, channel=channel)
    wait_until(lambda: "note" in timeline_kinds(bot), what="the note")
    bot.command("postmortem", user=ANA, channel=channel)
    path = config.postmortem.folder / "INC-1-rankerndcgdrop-on-search-ranker.md"
    wait_until(path.exists, what="the draft file")
    assert "Rolled back by hand at 03:12" in path.read_text()
    served = bot.http.get("/api/incidents/INC-1/postmortem")
    assert served.status_code == 200 and served.headers["content-type"].startswith("text/markdown")
    assert served.text.startswith("# INC-1 postmortem:")
    assert bot.http.get("/api/incidents/INC-9/postmortem").json()["error"] == "not_found"
    # Shared in the channel through files.getUploadURLExternal → upload → completeUploadExternal.
    shared = wait_until(
        lambda: [m for m in bot.workspace.messages(channel) if m.get("files")],
        what="the draft shared in the channel",
    )
    [file] = shared[-1]["files"]
    assert file["name"] == path.name
    assert shared[-1]["text"].startswith(":page_facing_up: Postmortem draft of INC-1")
    assert bot.workspace.file_content(file["id"]) == path.read_bytes()
    uploads = [c.method for c in bot.workspace.calls if c.method.startswith("files.")]
    assert uploads[:2] == ["files.getUploadURLExternal", "files.completeUploadExternal"]


def test_the_budget_clock_is_pinned_in_the_channel(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.budget.slo import Slo

    clean_env(monkeypatch)
    config.services["search-ranker"].slo = Slo(target=99.95, window="7d")
    # The bot's clock is pinned 2 minutes after the alert started (tests/payloads.py): the
    # budget it shows does not depend on the day the test runs.
    with running_bot(tmp_path, config, clock=FakeClock()) as bot:
        channel = opened(bot)["channel_id"]
        budget = wait_until(
            lambda: next(
                (m for m in bot.workspace.messages(channel) if "Error budget" in m["text"]), None
            ),
            what="the budget message",
        )
        # The countdown first, under the title; then where the service stands.
        assert budget["text"].split("\n")[:4] == [
            ":hourglass_flowing_sand: *Error budget* (INC-1)",
            "*3m2s of budget left*",
            "*search-ranker* · SLO 99.95% over 7d (time-based) · budget 5m2s",
            "Consumed 1m59s (40%).",
        ]
        pins = [c for c in bot.workspace.calls_to("pins.add") if c.status == 200]
        assert [(c.args["channel"], c.args["timestamp"]) for c in pins] == [(channel, budget["ts"])]
        # The topic leaves the budget to the pinned message.
        info = bot.workspace.channel_by_name(bot.incident("INC-1")["channel_name"])
        assert info is not None and "budget" not in info["topic"]["value"]

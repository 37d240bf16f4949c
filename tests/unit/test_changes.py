"""Scenario: the change feed over HTTP, "What changed" in the announcement with its roll-back
button acting on the example model service, and the deploy gate around a freeze."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.changes.schemas import ChangeKind
from bot.config import FirebreakConfig, ServiceConfig
from bot.deploy.config import HttpTargetConfig
from bot.slack.blocks import actions
from tests.payloads import am_alert, am_notification
from tests.polling import wait_until
from tests.scenario import Bot, clean_env, running_bot

ANA, BEN = "U0ANA0001", "U0BEN0002"


@pytest.fixture
def bot(
    tmp_path: Path, config: FirebreakConfig, model_service: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Bot]:
    clean_env(monkeypatch)
    config.services["search-features"] = ServiceConfig(owners=[BEN])
    config.services["search-ranker"] = ServiceConfig(
        owners=[ANA, BEN],
        depends_on=["search-features"],
        deploy=HttpTargetConfig(kind="http", url=model_service),
    )
    with running_bot(tmp_path, config) as running:
        yield running


def change(event_id: str, ago: timedelta = timedelta(minutes=20), **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": event_id,
        "kind": "model_promotion",
        "service": "search-ranker",
        "version": "v42-bad",
        "previous_version": "v40",
        "author": "ml-pipeline",
        "link": "https://mlflow.example.com/models/search-ranker/versions/42",
        "time": (datetime.now(UTC) - ago).isoformat(),
    }
    body.update(kw)
    return body


def active_version(url: str) -> str:
    return str(httpx.get(f"{url}/v1/services/search-ranker").json()["active_version"])


def announcement(bot: Bot, channel: str) -> dict[str, Any]:
    return next(m for m in bot.workspace.messages(channel) if m.get("blocks"))


def buttons(message: dict[str, Any], action_id: str) -> list[dict[str, Any]]:
    found = []
    for block in message["blocks"]:
        elements = block.get("elements", []) + (
            [block["accessory"]] if "accessory" in block else []
        )
        found += [e for e in elements if e.get("action_id") == action_id]
    return found


def opened_and_commanded(bot: Bot) -> str:
    assert bot.webhook("alertmanager", am_notification()).status_code == 200
    channel = str(bot.announced("INC-1")["channel_id"])
    bot.command("commander me", user=ANA, channel=channel)
    wait_until(lambda: bot.incident("INC-1")["commander"] == ANA, what="ANA in command")
    return channel


def approve_latest_run(bot: Bot, channel: str, playbook: str) -> None:
    def asked() -> dict[str, Any] | None:
        runs = [m for m in bot.workspace.messages(channel) if f"playbook {playbook}" in m["text"]]
        return runs[-1] if runs and "Awaiting approval" in runs[-1]["text"] else None

    message = wait_until(asked, what=f"{playbook} awaiting approval")
    [approve] = buttons(message, actions.RUN_APPROVE)
    bot.click(
        actions.RUN_APPROVE, approve["value"], user=ANA, channel=channel, message_ts=message["ts"]
    )

    def done() -> bool:
        latest = [m for m in bot.workspace.messages(channel) if f"playbook {playbook}" in m["text"]]
        return "Succeeded" in latest[-1]["text"]

    try:
        wait_until(done, timeout=30, what=f"{playbook} succeeded")
    except AssertionError as exc:  # say what the channel showed: a timing failure needs its story
        seen = "\n".join(m["text"][:160] for m in bot.workspace.messages(channel))
        raise AssertionError(f"{exc}; the channel shows:\n{seen}") from exc


def test_every_change_kind_is_recorded_once_per_event_id(bot: Bot) -> None:
    for kind in ChangeKind:
        body = change(f"evt-{kind}", kind=kind.value)
        first = bot.webhook("changes", body)
        assert first.status_code == 201, first.text
        stored = first.json()
        assert (stored["kind"], stored["event_id"], stored["during_freeze"]) == (
            kind.value,
            f"evt-{kind}",
            False,
        )
        replay = bot.webhook("changes", {**body, "version": "other"})
        assert replay.status_code == 200 and replay.json() == stored


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "rollout"}, "kind"),
        ({"service": ""}, "service"),
        ({"time": "2026-11-27T02:00:00"}, "time"),
        ({"link": "javascript:alert(1)"}, "link"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_change_events_are_refused_naming_the_field(
    bot: Bot, body: dict[str, Any], field: str
) -> None:
    response = bot.webhook("changes", {**change("evt-bad"), **body})
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_change"
    assert [d["field"] for d in response.json()["detail"]] == [field]


def test_the_change_webhook_is_authenticated_and_wants_json(bot: Bot) -> None:
    assert bot.webhook("changes", change("evt-1"), token="wrong").status_code == 401
    assert bot.webhook("changes", change("evt-1"), token=None).status_code == 401
    sent = bot.http.post(
        "/webhooks/changes",
        content=json.dumps(change("evt-1")),
        headers={"Authorization": "Bearer test-webhook-token-7a1e", "Content-Type": "text/plain"},
    )
    assert sent.status_code == 415
    assert bot.webhook("changes", [1] * 10).status_code == 422


def test_roll_back_this_change_restores_its_previous_version(bot: Bot, model_service: str) -> None:
    assert bot.webhook("changes", change("promo-42")).status_code == 201
    old = change("old-1", ago=timedelta(hours=30), kind="config", version="c9")
    assert bot.webhook("changes", old).status_code == 201
    feature = change(
        "feat-1", ago=timedelta(hours=2), kind="feature_pipeline", service="search-features"
    )
    assert (
        bot.webhook("changes", {**feature, "version": "f2", "previous_version": "f1"}).status_code
        == 201
    )
    channel = opened_and_commanded(bot)

    message = announcement(bot, channel)
    texts = [
        b["text"]["text"] for b in message["blocks"] if b.get("text") and b["type"] == "section"
    ]
    listed = [t for t in texts if t.startswith("`")]
    assert len(listed) == 2  # the 30-hour-old change is outside the 24h look-back
    assert listed[0].startswith("`model_promotion` *search-ranker* v40 → v42-bad by ml-pipeline")
    assert listed[1].startswith("`feature_pipeline` *search-features* f1 → f2")
    rollback_buttons = buttons(message, actions.CHANGE_ROLLBACK)
    assert len(rollback_buttons) == 2

    # The alert resolves, so the playbook's last wait ends at once.
    resolved = am_notification(am_alert(status="resolved", ends_at="2026-11-27T03:30:00Z"))
    bot.webhook("alertmanager", resolved)
    bot.click(
        actions.CHANGE_ROLLBACK,
        rollback_buttons[0]["value"],
        user=BEN,
        channel=channel,
        message_ts=message["ts"],
    )
    assert active_version(model_service) == "v42-bad"  # nothing before approval
    approve_latest_run(bot, channel, "rollback")
    # The change's previous version (v40), not the version before the current one (v41).
    assert active_version(model_service) == "v40"
    steps = [t["text"] for t in bot.incident("INC-1")["timeline"] if t["kind"] == "playbook.step"]
    assert any('/rollback {"to_version": "v40"}' in s for s in steps)

    listing = bot.command("changes", user=ANA, channel=channel).json()  # the ack answers
    assert listing["text"] == "What changed before INC-1: 2 changes"
    assert buttons(listing, actions.CHANGE_ROLLBACK)


def test_a_running_canary_can_be_aborted_from_the_announcement(bot: Bot) -> None:
    canary = change("canary-1", kind="canary_start", version="v43", previous_version="v42-bad")
    assert bot.webhook("changes", canary).status_code == 201
    channel = opened_and_commanded(bot)
    [abort] = buttons(announcement(bot, channel), actions.ROLLOUT_END)
    assert abort["text"]["text"] == "Abort canary search-ranker v43"
    bot.click(actions.ROLLOUT_END, abort["value"], user=ANA, channel=channel)
    wait_until(
        lambda: any("canary aborted" in m["text"] for m in bot.workspace.messages(channel)),
        what="the abort told",
    )
    wait_until(
        lambda: not buttons(announcement(bot, channel), actions.ROLLOUT_END),
        what="the abort button gone",
    )
    kinds = [t["kind"] for t in bot.incident("INC-1")["timeline"]]
    assert "change.canary_abort" in kinds


def test_the_gate_answers_before_during_and_after_a_freeze(bot: Bot, model_service: str) -> None:
    gate = "/api/freeze?service=search-ranker"
    assert bot.http.get("/api/freeze").status_code == 422
    before = bot.http.get(gate)
    assert before.status_code == 200 and before.json() == {
        "service": "search-ranker",
        "frozen": False,
    }
    channel = opened_and_commanded(bot)
    bot.command("freeze", user=ANA, channel=channel)
    approve_latest_run(bot, channel, "traffic-freeze")
    during = bot.http.get(gate)
    assert during.status_code == 423
    answer = during.json()
    assert answer["frozen"] is True and answer["by"] == ANA and answer["incident"] == "INC-1"
    assert answer["reason"].startswith("INC-1: ") and answer["since"]
    assert bot.http.get("/api/freeze?service=checkout-fraud").status_code == 200

    late = bot.webhook("changes", change("late-deploy", ago=timedelta(0), kind="deploy"))
    assert late.status_code == 201 and late.json()["during_freeze"] is True
    wait_until(
        lambda: any(
            ":warning: Change during a freeze: deploy of search-ranker" in m["text"]
            for m in bot.workspace.messages(channel)
        ),
        what="the flag in the incident channel",
    )
    kinds = [t["kind"] for t in bot.incident("INC-1")["timeline"]]
    assert "change.during_freeze" in kinds and "freeze.started" in kinds

    bot.command("unfreeze", user=ANA, channel=channel)
    approve_latest_run(bot, channel, "traffic-unfreeze")
    after = bot.http.get(gate)
    assert after.status_code == 200 and after.json()["frozen"] is False
    assert bot.webhook("changes", change("later", kind="deploy")).json()["during_freeze"] is False


def test_a_complete_drill_touches_nothing_real(bot: Bot, model_service: str) -> None:
    listed = bot.command("drill", user=ANA).json()
    assert "`bad-model-promotion`" in listed["text"] and "`canary-latency`" in listed["text"]
    bot.command("drill bad-model-promotion", user=ANA)
    drill = bot.announced("INC-1")
    channel = str(drill["channel_id"])
    assert drill["drill"] is True and drill["channel_name"].startswith("drill-inc-1-")
    info = bot.workspace.channel_by_name(drill["channel_name"])
    assert info is not None and info["topic"]["value"].startswith("DRILL · SEV1")
    bot.command("commander me", user=ANA, channel=channel)
    bot.command("scribe me", user=BEN, channel=channel)
    wait_until(lambda: bot.incident("INC-1")["scribe"] == BEN, what="BEN scribing")

    message = announcement(bot, channel)
    assert message["text"].startswith(":red_circle: DRILL · INC-1")
    [promotion, _features] = buttons(message, actions.CHANGE_ROLLBACK)
    bot.click(
        actions.CHANGE_ROLLBACK,
        promotion["value"],
        user=ANA,
        channel=channel,
        message_ts=message["ts"],
    )
    approve_latest_run(bot, channel, "rollback")  # its alert-resolved wait ends: the drill recovers
    assert active_version(model_service) == "v42-bad"  # the real service never heard of it
    assert bot.http.get("/api/freeze?service=search-ranker").status_code == 200
    steps = [t["text"] for t in bot.incident("INC-1")["timeline"] if t["kind"] == "playbook.step"]
    assert any('POST drill://search-ranker/rollback {"to_version": "v41"}' in s for s in steps)

    bot.command("drill end", user=ANA, channel=channel)
    report = wait_until(
        lambda: [m["text"] for m in bot.workspace.messages(channel) if "DRILL report" in m["text"]],
        what="the drill report",
    )[0]
    assert "Commander claimed: " in report and "Scribe claimed: " in report
    assert "• Mitigation: `rollback` asked " in report and "finished " in report
    assert "Steps skipped: playbook:traffic-freeze, status:mitigated" in report
    assert bot.incident("INC-1")["status"] == "resolved"

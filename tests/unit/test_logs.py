"""Structured logs: one JSON object a line (FIREBREAK_LOG_FORMAT=json), with the incident's id."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot import logs
from bot.alerts.sources import alertmanager
from bot.context import Context
from bot.incidents import flows, intake
from bot.localslack.server import LocalSlackServer
from bot.localslack.state import Workspace
from tests.fakes import FakeChat
from tests.payloads import am_notification
from tests.polling import wait_until
from tests.processes import firebreak_command, process
from tests.servers import free_port


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """JSON lines of everything `bot.*` logs at INFO and above, as `firebreak serve` writes."""
    stream = io.StringIO()
    handler = logs.handler("json", stream)
    logger = logging.getLogger("bot")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_lines_logged_while_working_on_an_incident_carry_its_id(
    ctx: Context, chat: FakeChat, captured: io.StringIO
) -> None:
    chat.taken.add("inc-1-rankerndcgdrop-on-search-ranker")
    result = await intake.receive(ctx=ctx, batch=alertmanager.parse(am_notification()))
    assert result.incident_id == 1
    logging.getLogger("bot.test").warning("before any incident")
    await flows.open_in_chat(ctx=ctx, incident_id=1)
    logging.getLogger("bot.test").warning("after it")

    before, taken, after = lines(captured)
    assert before["message"] == "before any incident" and "incident" not in before
    assert taken["incident"] == "INC-1"
    assert taken["message"] == "channel name taken, trying another"
    assert taken["channel"] == "inc-1-rankerndcgdrop-on-search-ranker"  # from extra=
    assert taken["level"] == "info" and taken["logger"] == "bot.incidents.flows"
    assert "incident" not in after
    assert [c.name for c in chat.channels] == ["inc-1-rankerndcgdrop-on-search-ranker-2"]


def test_exceptions_are_one_line_too(captured: io.StringIO) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        with logs.incident_logs(7):
            logging.getLogger("bot.test").exception("it failed")
    [line] = lines(captured)
    assert line["incident"] == "INC-7" and line["message"] == "it failed"
    assert "ValueError: boom" in line["exception"]


def test_serve_writes_json_lines_with_the_incident(tmp_path: Path) -> None:
    workspace = Workspace(tokens=["xoxb-logs-1"])
    workspace.ensure_channel("incidents")
    workspace.fail("conversations.create", status=400, retry_after=None, error="name_taken")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "bot.log"
    with LocalSlackServer(workspace) as slack:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FIREBREAK_"))},
            "SLACK_BOT_TOKEN": "xoxb-logs-1",
            "SLACK_SIGNING_SECRET": "logs-secret",
            "FIREBREAK_SLACK_API_URL": slack.base_url,
            "FIREBREAK_DATABASE_URL": f"sqlite:///{tmp_path / 'firebreak.db'}",
            "FIREBREAK_LOG_FORMAT": "json",
        }
        with process(
            firebreak_command("serve", "--port", str(port), "--log-level", "info"),
            log=log,
            env=env,
            ready_url=f"{url}/healthz",
        ):
            httpx.post(f"{url}/webhooks/alertmanager", json=am_notification()).raise_for_status()
            wait_until(lambda: workspace.calls_to("chat.postMessage"), what="the announcement")
    written = [json.loads(line) for line in log.read_text().splitlines()]  # every line is JSON
    assert any(line["logger"].startswith("uvicorn") for line in written)
    [taken] = [line for line in written if line["message"].startswith("channel name taken")]
    assert taken["incident"] == "INC-1"

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.alerts.sources import alertmanager
from bot.config import FirebreakConfig
from bot.context import Context
from bot.incidents import intake
from bot.playbooks.engine import Runner
from bot.playbooks.loader import load_library
from bot.slack.deps import CONTEXT_KEY, Deps
from bot.slack.listeners.commands.incident import incident_command
from bot.tasks import Background
from tests.domain import load_incident
from tests.fakes import FakeChat, FakeProbe, FakeTargets
from tests.payloads import am_alert, am_notification


class FakeAck:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)

    @property
    def text(self) -> str:
        [call] = self.calls
        return str(call["text"])


@pytest.fixture
def deps(ctx: Context) -> Deps:
    runner = Runner(
        ctx=ctx, library=load_library(Path("playbooks")), targets=FakeTargets(), probe=FakeProbe()
    )
    return Deps(ctx=ctx, background=Background(), runner=runner)


class FakeClient:
    """The few Web API calls listeners make themselves (opening a modal)."""

    def __init__(self) -> None:
        self.views: list[dict[str, Any]] = []

    async def views_open(self, *, trigger_id: str, view: dict[str, Any]) -> dict[str, Any]:
        self.views.append({"trigger_id": trigger_id, **view})
        return {"ok": True}


async def run(
    deps: Deps,
    text: str,
    user: str = "U0DEV0009",
    channel: str = "C0GENERAL1",
    respond: FakeAck | None = None,
    client: FakeClient | None = None,
) -> FakeAck:
    ack = FakeAck()
    command = {
        "command": "/incident",
        "text": text,
        "user_id": user,
        "channel_id": channel,
        "trigger_id": "trig-1",
    }
    await incident_command(
        ack=ack,
        respond=respond or FakeAck(),
        command=command,
        client=client or FakeClient(),
        context={CONTEXT_KEY: deps},
    )
    return ack


async def test_help_lists_every_subcommand(deps: Deps) -> None:
    for text in ("help", "", "  HELP "):
        ack = await run(deps, text)
        assert "/incident declare [title]" in ack.text and "/incident list" in ack.text
        assert ack.calls[0]["response_type"] == "ephemeral"


async def test_unknown_subcommand_says_so_and_shows_help(deps: Deps) -> None:
    ack = await run(deps, "explode now")
    assert ack.text.startswith("I don't know `explode`") and "/incident list" in ack.text


async def test_declare_opens_an_incident_and_its_channel(deps: Deps, chat: FakeChat) -> None:
    ack = await run(deps, "declare   Ranker   returns junk")
    assert ack.text.startswith("INC-1 declared: Ranker returns junk")
    await asyncio.wait_for(deps.background.drain(timeout=5), 6)
    assert chat.channels[0].name == "inc-1-ranker-returns-junk"
    assert chat.invites == [(chat.channels[0].id, ["U0DEV0009"])]


async def test_declare_without_title_opens_the_form(deps: Deps, chat: FakeChat) -> None:
    client = FakeClient()
    ack = await run(deps, "declare", client=client)
    assert ack.calls == [{}]
    [view] = client.views
    assert view["trigger_id"] == "trig-1" and view["callback_id"] == "incident_declare"
    assert [b["block_id"] for b in view["blocks"]] == [
        "title",
        "severity",
        "service",
        "description",
    ]
    assert deps.background.pending == 0 and chat.channels == []


async def test_declare_refuses_a_long_title(deps: Deps, chat: FakeChat) -> None:
    assert "301 characters; 300 at most" in (await run(deps, "declare " + "x" * 301)).text
    assert deps.background.pending == 0 and chat.channels == []


async def test_list_shows_open_incidents(deps: Deps, ctx: Context) -> None:
    assert (await run(deps, "list")).text == "No open incidents."
    await intake.receive(ctx=ctx, batch=alertmanager.parse(am_notification()))
    ack = await run(deps, "list")
    assert ack.text.startswith("1 open incident:")
    assert (
        "*INC-1* RankerNDCGDrop on search-ranker · SEV1 · investigating · search-ranker" in ack.text
    )
    assert ack.calls[0]["blocks"][0]["type"] == "header"


async def test_long_lists_are_cut_with_a_pointer(deps: Deps, ctx: Context) -> None:
    for i in range(55):
        body = am_notification(am_alert(fingerprint=f"f{i}"), group_key=f"g{i}")
        await intake.receive(ctx=ctx, batch=alertmanager.parse(body))
    ack = await run(deps, "list")
    assert ack.text.startswith("55 open incidents:")
    assert ack.text.count("*INC-") == 50
    assert ack.text.endswith("… and 5 more: GET /api/incidents?status=open")
    assert len(ack.calls[0]["blocks"]) <= 50


async def test_slack_refusals_reach_the_user_and_the_log(
    deps: Deps, chat: FakeChat, caplog: pytest.LogCaptureFixture
) -> None:
    chat.fail_create = "restricted_action"
    respond = FakeAck()
    ack = await run(deps, "declare Ranker returns junk", respond=respond)
    assert ack.text.startswith("INC-1 declared")
    [reply] = respond.calls
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith(":warning: Slack refused `restricted_action")
    assert "restricted_action" in caplog.text


async def test_commands_outside_an_incident_channel_say_where_to_run_them(deps: Deps) -> None:
    ack = await run(deps, "status mitigated")
    assert ack.text == (
        "Run `/incident status` in an incident's channel (like #inc-7-…). "
        "`/incident list` shows the open ones."
    )


async def test_slack_escaping_is_undone_before_storing(deps: Deps) -> None:
    ack = await run(deps, "declare Ranker &amp; recs &lt;broken&gt;")
    assert ack.text.startswith("INC-1 declared: Ranker &amp; recs &lt;broken&gt;")
    assert (await load_incident(deps.ctx, 1)).title == "Ranker & recs <broken>"


async def test_budget_shows_where_the_service_stands(
    deps: Deps, ctx: Context, config: FirebreakConfig
) -> None:
    from bot.budget.slo import Slo

    assert "Which service?" in (await run(deps, "budget")).text
    assert (await run(deps, "budget search-ranker")).text == (
        "search-ranker has no SLO in firebreak.yaml."
    )
    config.services["search-ranker"].slo = Slo(target=99.9, window="30d")
    await intake.receive(ctx=ctx, batch=alertmanager.parse(am_notification()))
    text = (await run(deps, "budget search-ranker")).text
    assert text.startswith("*search-ranker* · SLO 99.9% over 30d (time-based) · budget 43m12s")
    assert "Consumed 1m59s (5%); 41m12s left." in text
    assert "Burning at 1,000 times the sustainable rate: exhausted at 03:41 UTC" in text


async def test_action_items_reach_the_postmortem(deps: Deps, ctx: Context) -> None:
    from bot.postmortem import flows as postmortem
    from tests.domain import incident_with_channel

    incident = await incident_with_channel(ctx)
    channel = incident.channel_id
    assert channel is not None
    said = await run(
        deps,
        "action prevent Canary every ranker model <@U0BEN0002|ben> due=2026-12-04",
        user="U0ANA0001",
        channel=channel,
    )
    assert said.calls == [{}]  # acked; the confirmation came through respond
    bad = await run(deps, "action Fix it due=someday", user="U0ANA0001", channel=channel)
    assert "a due date is like due=2026-12-04" in bad.text
    [item] = [t for t in (await load_incident(ctx, incident.id)).timeline if t.kind == "action"]
    assert item.text == "Canary every ranker model"
    assert item.data == {"owner": "U0BEN0002", "action_type": "prevent", "due": "2026-12-04"}
    draft = await postmortem.draft(ctx, incident_id=incident.id)
    assert "| prevent | Canary every ranker model | @U0BEN0002 | _to file_ | 2026-12-04 |" in draft

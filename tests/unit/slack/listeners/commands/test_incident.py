from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.alerts.sources import alertmanager
from bot.config import FirebreakConfig
from bot.context import Context
from bot.incidents import intake
from bot.localslack.mrkdwn import Formatter
from bot.playbooks.engine import Runner
from bot.playbooks.loader import load_library
from bot.slack.deps import CONTEXT_KEY, Deps
from bot.slack.listeners.commands.incident import SUBCOMMANDS, incident_command
from bot.tasks import Background
from tests.domain import load_incident
from tests.fakes import FakeChat, FakeClock, FakeProbe, FakeTargets
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


async def test_a_typo_gets_the_nearest_name_not_the_help(deps: Deps) -> None:
    assert (await run(deps, "hep")).text == "I don't know `hep`. Did you mean `/incident help`?"
    assert (await run(deps, "Comander me")).text == (
        "I don't know `Comander`. Did you mean `/incident commander`?"
    )
    # Playbooks are names too; two near ones are both offered.
    assert (await run(deps, "heuristic-falback")).text.endswith(
        "Did you mean `/incident heuristic-fallback`?"
    )
    assert (await run(deps, "frez")).text.endswith(
        "Did you mean `/incident freeze` or `/incident unfreeze`?"
    )


async def test_a_name_near_nothing_gets_a_pointer_to_help(deps: Deps) -> None:
    ack = await run(deps, "explode now")
    assert ack.text == "I don't know `explode`. `/incident help` lists the commands."
    assert ack.calls[0]["response_type"] == "ephemeral"
    # What was typed is outside text: escaped, and cut when long.
    assert (await run(deps, "<!channel>")).text.startswith("I don't know `&lt;!channel&gt;`.")
    assert f"`{'x' * 40}…`" in (await run(deps, "x" * 500)).text


async def test_a_playbook_by_its_name_runs_as_run_does(deps: Deps, chat: FakeChat) -> None:
    from tests.domain import incident_with_channel

    incident = await incident_with_channel(deps.ctx, members=("U0ANA0001",))
    channel = incident.channel_id
    assert channel is not None
    for text in (
        "run heuristic-fallback service=search-ranker --dry-run",
        "heuristic-fallback service=search-ranker --dry-run",
        "HEURISTIC-FALLBACK   service=search-ranker   --dry-run",
    ):
        ack = await run(deps, text, user="U0ANA0001", channel=channel)
        assert ack.calls == [{}]
    views = [replace(view, run_id=0) for _, view in chat.runs]
    assert len(views) == 3 and views[0] == views[1] == views[2]
    assert views[0].playbook == "heuristic-fallback" and views[0].dry_run
    assert views[0].params["service"] == "search-ranker"
    # Its arguments are read as run reads them, and the refusals name it.
    bad = await run(deps, "heuristic-fallback service", user="U0ANA0001", channel=channel)
    assert bad.text == "`service` is not `key=value` or `--dry-run`."
    elsewhere = await run(deps, "traffic-freeze --dry-run")
    assert elsewhere.text.startswith("Run `/incident traffic-freeze` in an incident's channel")
    kinds = [t.kind for t in (await load_incident(deps.ctx, incident.id)).timeline]
    assert kinds.count("command") == 4


async def test_a_built_in_wins_over_a_playbook_of_its_name(deps: Deps) -> None:
    library = deps.runner.library.playbooks
    library["list"] = library["traffic-unfreeze"].model_copy(update={"name": "list"})
    assert (await run(deps, "list")).text == "No open incidents."
    help_lines = (await run(deps, "help")).text.splitlines()
    assert [line for line in help_lines if line.startswith("• `/incident list")] == [
        "• `/incident list` — show the open incidents"
    ]


async def test_help_lists_the_playbooks_after_the_built_ins(deps: Deps) -> None:
    lines = (await run(deps, "help")).text.splitlines()
    usages = [line.split("`")[1] for line in lines[1:]]
    assert usages.index("/incident help") < usages.index(
        "/incident heuristic-fallback [key=value …] [--dry-run]"
    )
    assert usages[-3:] == [
        f"/incident {name} [key=value …] [--dry-run]"
        for name in ("heuristic-fallback", "traffic-freeze", "traffic-unfreeze")
    ]
    # The rollback playbook is reached by the rollback shortcut: listed once.
    assert sum(u.startswith("/incident rollback") for u in usages) == 1
    assert lines[-1] == (
        "• `/incident traffic-unfreeze [key=value …] [--dry-run]` — "
        "Lift the freeze of the service's deploys and traffic shifts."
    )


async def test_help_is_one_closed_code_span_per_line(deps: Deps) -> None:
    text = (await run(deps, "help")).text
    header, *lines = text.splitlines()
    assert header == "*Firebreak* — `/incident` commands:"
    assert len(lines) == len(SUBCOMMANDS) + 3
    for line in lines:
        found = re.match(r"• `(/incident [^`]+)` — ", line)
        assert found, line
        assert "<" not in line and ">" not in line, line  # &lt;…&gt;, as Slack asks
        assert line.count("`") % 2 == 0, line  # what else is code closes too
    assert "• `/incident note &lt;text&gt;` — add a line to the timeline" in lines
    # As the stand-in draws it: every usage a code span, no backtick left over.
    html = str(Formatter(users={}, channels={}).mrkdwn(text))
    assert "`" not in html
    assert html.count("• <code>/incident ") == len(lines)
    assert "<code>/incident note &lt;text&gt;</code>" in html


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
    assert text.startswith(
        "*41m12s of budget left*\n"
        "*search-ranker* · SLO 99.9% over 30d (time-based) · budget 43m12s\n"
        "Consumed 1m59s (5%).\n"
    )
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


async def test_the_commander_syntax_suggested_is_the_one_that_works(
    deps: Deps, chat: FakeChat, clock: FakeClock
) -> None:
    from bot.incidents import nudges, reminders
    from tests.domain import incident_with_channel

    ana, ben = "U0ANA0001", "U0BEN0002"
    incident = await incident_with_channel(deps.ctx, members=(ana, ben))
    channel = incident.channel_id
    assert channel is not None
    clock.advance(minutes=2)
    assert await nudges.fire(deps.ctx, incident_id=incident.id, kind=reminders.COMMANDER)
    [(_, reminder)] = chat.reminded
    [suggested] = re.findall(r"`/incident ([^`]+)`", reminder.text)
    assert suggested == "commander me"
    assert (await run(deps, suggested, user=ana, channel=channel)).calls == [{}]
    assert (await load_incident(deps.ctx, incident.id)).commander == ana
    respond = FakeAck()
    await run(deps, "ack", user=ben, channel=channel, respond=respond)
    refused = respond.text  # acked first, refused once the domain said no
    assert refused.startswith("Only the commander")
    assert re.findall(r"`/incident ([^`]+)`", refused) == ["commander me"]

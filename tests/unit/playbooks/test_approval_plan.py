"""The approval card's plan: what each step will change, read from the deployment target when
the run is asked for; a target that cannot be read leaves it "unknown" and the card is posted."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import httpx
import pytest

from bot.config import FirebreakConfig
from bot.context import Context
from bot.deploy.adapters.http import HttpTarget
from bot.deploy.config import HttpTargetConfig
from bot.deploy.ports import DeploymentTarget, NoTarget, State
from bot.deploy.recording import DrillTargets
from bot.incidents.models import Incident
from bot.playbooks import progress
from bot.playbooks.engine import Runner
from bot.playbooks.loader import load_library
from bot.playbooks.ports import RunView
from bot.playbooks.runs import RunStatus
from bot.slack.blocks.runs import PLAN_NOTE, run_message
from tests.domain import commanded_incident
from tests.fakes import FakeChat, FakeProbe, FakeTarget
from tests.paths import ROOT
from tests.servers import free_port

ANA, BEN = "U0ANA0001", "U0BEN0002"
LATER = "(uses results of earlier steps: known when it runs)"


@pytest.fixture(autouse=True)
def ana_owns_the_ranker(config: FirebreakConfig) -> None:
    config.services["search-ranker"].owners = [ANA]


@dataclass
class OneTarget:
    target: DeploymentTarget | None

    def for_service(self, service: str) -> DeploymentTarget:
        if service != "search-ranker" or self.target is None:
            raise NoTarget(f"{service} has no deployment target in firebreak.yaml")
        return self.target


@dataclass
class ReadableFake(FakeTarget):
    """FakeTarget that reads its state as the adapters do, or hangs doing it."""

    read_hang_s: float = 0.0
    reads: list[str] = field(default_factory=list)

    async def read_state(self, service: str, *, timeout_s: float) -> State:
        self.reads.append(service)
        await asyncio.sleep(self.read_hang_s)
        return self.state(service)


def http_target(url: str) -> HttpTarget:
    config = HttpTargetConfig.model_validate({"kind": "http", "url": url})
    return HttpTarget(config, service="search-ranker")


def runner(ctx: Context, target: DeploymentTarget | None) -> Runner:
    return Runner(
        ctx=ctx,
        library=load_library(ROOT / "playbooks"),
        targets=OneTarget(target),
        probe=FakeProbe(),
    )


async def commanded(ctx: Context) -> Incident:
    return await commanded_incident(ctx, commander=ANA, members=(BEN,))


async def asked(
    ctx: Context, chat: FakeChat, target: DeploymentTarget | None, name: str
) -> RunView:
    incident = await commanded(ctx)
    run = await runner(ctx, target).request(incident_id=incident.id, name=name, params={}, by=BEN)
    assert run.status == RunStatus.AWAITING_APPROVAL
    [(_, view)] = chat.runs
    assert view.awaiting_approval
    return view


def card_text(view: RunView) -> str:
    _, blocks = run_message(view)
    return "\n".join(
        str(block.get("text", {}).get("text", ""))
        + "".join(str(e.get("text", "")) for e in block.get("elements", []))
        for block in blocks
    )


async def test_a_rollback_shows_from_which_version_to_which(
    ctx: Context, chat: FakeChat, model_service: str
) -> None:
    view = await asked(ctx, chat, http_target(model_service), "rollback")

    assert [s.detail for s in view.steps] == [
        "search-ranker: reads its state (now v42-bad, model)",
        "search-ranker: v42-bad → v41 (rollback)",
        LATER,
        "wait until alerts_resolved",
    ]
    assert all(s.status == "pending" for s in view.steps)
    text = card_text(view)
    assert "search-ranker: v42-bad → v41 (rollback)" in text and PLAN_NOTE in text
    # Read, not changed.
    async with httpx.AsyncClient() as client:
        state = (await client.get(f"{model_service}/v1/services/search-ranker")).json()
    assert state["active_version"] == "v42-bad"


async def test_a_refresh_while_awaiting_approval_keeps_the_plan_current(
    ctx: Context, chat: FakeChat
) -> None:
    target = ReadableFake()
    incident = await commanded(ctx)
    engine = runner(ctx, target)
    run = await engine.request(incident_id=incident.id, name="rollback", params={}, by=BEN)
    target.versions.append("v43")  # someone deployed meanwhile

    await engine.progress.refresh(run, incident)

    [(posted, first), (updated, again)] = chat.runs
    assert updated == posted and again.awaiting_approval
    assert first.steps[1].detail == "search-ranker: v42 → v41 (rollback)"
    assert again.steps[1].detail == "search-ranker: v43 → v42 (rollback)"
    assert target.reads == ["search-ranker", "search-ranker"]


async def test_a_rollback_to_a_given_version(ctx: Context, chat: FakeChat) -> None:
    incident = await commanded(ctx)
    await runner(ctx, ReadableFake()).request(
        incident_id=incident.id, name="rollback", params={"to_version": "v40"}, by=BEN
    )
    [(_, view)] = chat.runs
    assert view.steps[1].detail == "search-ranker: v42 → v40 (rollback)"


async def test_a_heuristic_switch_shows_the_mode_change(
    ctx: Context, chat: FakeChat, model_service: str
) -> None:
    view = await asked(ctx, chat, http_target(model_service), "heuristic-fallback")

    assert view.steps[1].detail == "search-ranker: model → heuristic"
    assert view.steps[2].detail == LATER  # its text names steps['before']


async def test_a_freeze_shows_what_it_freezes_and_why(ctx: Context, chat: FakeChat) -> None:
    target = ReadableFake(frozen=False)
    view = await asked(ctx, chat, target, "traffic-freeze")

    (freeze, _) = view.steps
    assert freeze.detail.startswith("search-ranker: deploys frozen (reason: INC-")
    assert freeze.detail.endswith(", at v42")
    assert target.reads == ["search-ranker"] and target.attempts == 0


async def test_an_unreachable_target_is_unknown_and_the_card_still_posted(
    ctx: Context, chat: FakeChat
) -> None:
    view = await asked(ctx, chat, http_target(f"http://127.0.0.1:{free_port()}"), "rollback")

    detail = view.steps[1].detail
    assert detail.startswith("search-ranker: current version unknown (")
    assert detail.endswith("→ the version before the current one (rollback)")
    assert "failed" in detail


async def test_a_target_that_does_not_answer_in_time_is_unknown(
    ctx: Context, chat: FakeChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "READ_STATE_S", 0.05)
    view = await asked(ctx, chat, ReadableFake(read_hang_s=5), "heuristic-fallback")

    assert view.steps[1].detail == (
        "search-ranker: current mode unknown (no answer within 0.05 s) → heuristic"
    )


async def test_a_target_that_cannot_read_its_state(ctx: Context, chat: FakeChat) -> None:
    view = await asked(ctx, chat, FakeTarget(), "traffic-freeze")
    assert "current version unknown (the fake target cannot report its state)" in (
        view.steps[0].detail
    )


async def test_a_service_without_a_target(ctx: Context, chat: FakeChat) -> None:
    view = await asked(ctx, chat, None, "rollback")
    assert "current version unknown (search-ranker has no deployment target" in (
        view.steps[1].detail
    )


async def test_a_dry_run_still_shows_the_exact_requests(ctx: Context, chat: FakeChat) -> None:
    incident = await commanded(ctx)
    run = await runner(ctx, ReadableFake()).request(
        incident_id=incident.id, name="rollback", params={}, by=BEN, dry_run=True
    )
    [(_, view)] = chat.runs
    assert view.steps[1].detail.startswith(
        "POST http://deploy.test/v1/services/search-ranker/rollback"
    )
    assert PLAN_NOTE not in card_text(view) and run.status == RunStatus.DRY_RUN


async def test_a_drill_plans_from_its_recording_targets_state() -> None:
    drills = DrillTargets()
    drills.seed(incident_id=7, service="search-ranker", active_version="v9", previous=["v8"])

    state = await progress._read_state(drills.for_incident(7), "search-ranker")

    assert isinstance(state, State) and state.active_version == "v9"
    assert drills.sent(7) == []  # planning records nothing

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.audit import service as audit
from bot.config import FirebreakConfig, ServiceConfig
from bot.context import Context
from bot.deploy.ports import DeployError
from bot.incidents import roles
from bot.incidents.errors import Refused
from bot.incidents.models import Incident
from bot.incidents.ports import MessageRef
from bot.metrics import Metrics
from bot.oncall import Rotation
from bot.playbooks import engine
from bot.playbooks.engine import Runner
from bot.playbooks.loader import load_library
from bot.playbooks.ports import RunView
from bot.playbooks.runs import RunStatus
from tests.domain import commanded_incident, incident_with_channel, load_incident
from tests.fakes import FakeChat, FakeClock, FakeProbe, FakeTarget, FakeTargets
from tests.paths import ROOT
from tests.polling import eventually

SHIPPED = ROOT / "playbooks"
ANA, BEN, CAROL = "U0ANA0001", "U0BEN0002", "U0CAROL003"


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "BACKOFF_BASE_S", 0.001)


@pytest.fixture(autouse=True)
def ana_owns_the_ranker(config: FirebreakConfig) -> None:
    """ANA has rights on search-ranker; BEN is only in the incident's channel."""
    config.services["search-ranker"].owners = [ANA]


@pytest.fixture
def target() -> FakeTarget:
    return FakeTarget()


@pytest.fixture
def runner(ctx: Context, target: FakeTarget) -> Runner:
    return Runner(
        ctx=ctx,
        library=load_library(SHIPPED),
        targets=FakeTargets({"search-ranker": target}),
        probe=FakeProbe(),
    )


async def commanded(ctx: Context) -> Incident:
    return await commanded_incident(ctx, commander=ANA, members=(BEN,))


async def test_dry_run_shows_exact_requests_and_changes_nothing(
    ctx: Context, runner: Runner, target: FakeTarget, chat: FakeChat
) -> None:
    incident = await commanded(ctx)
    run = await runner.request(
        incident_id=incident.id, name="rollback", params={}, by=BEN, dry_run=True
    )
    assert run.status == RunStatus.DRY_RUN and run.params == {
        "service": "search-ranker",
        "to_version": "",
    }
    assert target.attempts == 0 and target.versions[-1] == "v42"
    [(_, view)] = chat.runs
    assert view.dry_run and [s.status for s in view.steps] == ["planned"] * 4
    assert view.steps[1].detail == (
        f"POST http://deploy.test/v1/services/search-ranker/rollback "
        f"[Idempotency-Key: {run.step_key('main', 1)}]"
    )
    assert "uses results of earlier steps" in view.steps[2].detail


async def test_approved_run_rolls_back_and_records_every_step(
    ctx: Context, runner: Runner, target: FakeTarget, chat: FakeChat
) -> None:
    incident = await commanded(ctx)
    run = await runner.request(incident_id=incident.id, name="rollback", params={}, by=BEN)
    assert run.status == RunStatus.AWAITING_APPROVAL and target.attempts == 0
    assert chat.runs[-1][1].awaiting_approval

    with pytest.raises(Refused, match=f"Only someone with rights on search-ranker .*: <@{ANA}>"):
        await runner.approve(run_id=run.id, by=BEN)
    await runner.approve(run_id=run.id, by=ANA)
    with pytest.raises(Refused, match="is running, not awaiting approval"):
        await runner.approve(run_id=run.id, by=ANA)  # a double click starts nothing more
    done = await runner.execute(run.id)

    assert done.status == RunStatus.SUCCEEDED and done.approved_by == ANA
    assert target.versions[-1] == "v41" and target.executed == [
        ("rollback", run.step_key("main", 1))
    ]
    steps = [
        t.text
        for t in (await load_incident(ctx, incident.id)).timeline
        if t.kind == "playbook.step"
    ]
    assert len(steps) == 4
    assert steps[1].startswith(
        "rollback step 2/4 `roll back`: POST http://deploy.test/v1/services/search-ranker/rollback"
    )
    assert " → 200 in " in steps[1] and steps[1].endswith("ok: fake rollback → v41 (model)")
    assert (
        incident.channel_id,
        ":rewind: search-ranker rolled back from v42 to v41. Watching the alerts.",
    ) in chat.said
    progress = {ref.ts for ref, _ in chat.runs}
    assert len(progress) == 1 and len(chat.runs) > 5  # one message, updated in place
    assert chat.runs[-1][1].status == "succeeded"


async def test_a_state_changing_run_that_succeeds_marks_the_incident_mitigated(
    ctx: Context, runner: Runner, clock: FakeClock
) -> None:
    incident = await commanded(ctx)
    async with ctx.sessions.begin() as session:  # as if its alert had not resolved yet
        stored = await session.get(Incident, incident.id)
        assert stored is not None
        stored.mitigated_at = None
    clock.advance(minutes=2)
    await runner.request(incident_id=incident.id, name="rollback", params={}, by=BEN, dry_run=True)
    assert (await load_incident(ctx, incident.id)).mitigated_at is None  # a rehearsal is not

    run = await runner.request(incident_id=incident.id, name="rollback", params={}, by=BEN)
    await runner.approve(run_id=run.id, by=ANA)
    clock.advance(seconds=40)
    done = await runner.execute(run.id)
    # Impact stopped when the rollback succeeded: the budget ledger stops charging there.
    assert done.finished_at == clock.now
    assert (await load_incident(ctx, incident.id)).mitigated_at == clock.now


async def test_a_run_approved_as_its_message_appears_still_shows_how_it_ended(
    ctx: Context, runner: Runner, chat: FakeChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Approve works as soon as Slack shows the message. On a busy bot the click can come, and
    the run end, before the message's ts is stored: the message must not stay "awaiting"."""
    incident = await commanded(ctx)
    post = chat.post_run

    async def posted_then_approved_at_once(*, channel: str, run: RunView) -> MessageRef:
        ref = await post(channel=channel, run=run)
        await runner.approve(run_id=run.run_id, by=ANA)
        await runner.execute(run.run_id)
        return ref

    monkeypatch.setattr(chat, "post_run", posted_then_approved_at_once)
    run = await runner.request(incident_id=incident.id, name="rollback", params={}, by=BEN)
    [shown] = {ref.ts for ref, _ in chat.runs}
    assert run.progress_ts == shown
    assert chat.runs[0][1].awaiting_approval and chat.runs[-1][1].status == "succeeded"


async def test_transient_failures_are_retried_with_the_same_key(
    ctx: Context, runner: Runner, target: FakeTarget
) -> None:
    incident = await commanded(ctx)
    run = await runner.request(incident_id=incident.id, name="traffic-freeze", params={}, by=ANA)
    await runner.approve(run_id=run.id, by=ANA)
    target.fail_next = [
        DeployError("503 from deploy API", transient=True, status=503),
        DeployError("timed out", transient=True),
    ]
    done = await runner.execute(run.id)
    assert done.status == RunStatus.SUCCEEDED and target.frozen
    assert target.attempts == 3 and len(target.executed) == 1
    entry = next(
        t.text
        for t in (await load_incident(ctx, incident.id)).timeline
        if t.kind == "playbook.step"
    )
    assert ", 3 attempts: ok" in entry


async def test_a_client_error_is_not_retried_and_stops_the_run(
    ctx: Context, runner: Runner, target: FakeTarget, chat: FakeChat
) -> None:
    incident = await commanded(ctx)
    run = await runner.request(
        incident_id=incident.id, name="rollback", params={"to_version": "v7"}, by=ANA
    )
    await runner.approve(run_id=run.id, by=ANA)
    done = await runner.execute(run.id)
    assert done.status == RunStatus.FAILED
    assert done.error == "step 2 `roll back` failed"
    assert target.versions[-1] == "v42" and target.executed == []
    assert chat.said[-1][1].startswith(":x: rollback FAILED in INC-1: step 2 `roll back` failed")
    assert [s.status for s in chat.runs[-1][1].steps] == [
        "succeeded",
        "failed",
        "pending",
        "pending",
    ]


async def test_ended_runs_are_counted_by_outcome_with_their_duration(
    ctx: Context, target: FakeTarget
) -> None:
    metrics = Metrics()
    runner = Runner(
        ctx=ctx,
        library=load_library(SHIPPED),
        targets=FakeTargets({"search-ranker": target}),
        probe=FakeProbe(),
        meter=metrics,
    )
    incident = await commanded(ctx)

    async def approved(params: dict[str, str]) -> int:
        run = await runner.request(incident_id=incident.id, name="rollback", params=params, by=ANA)
        await runner.approve(run_id=run.id, by=ANA)
        return run.id

    await runner.execute(await approved({"to_version": "v7"}))  # the deploy API says 4xx
    await runner.execute(await approved({}))
    rejected = await runner.request(incident_id=incident.id, name="rollback", params={}, by=ANA)
    await runner.reject(run_id=rejected.id, by=ANA)

    def sample(name: str, outcome: str) -> float | None:
        labels = {"playbook": "rollback", "outcome": outcome}
        return metrics.registry.get_sample_value(name, labels)

    assert sample("firebreak_playbook_runs_total", "failed") == 1
    assert sample("firebreak_playbook_runs_total", "succeeded") == 1
    assert sample("firebreak_playbook_runs_total", "rejected") == 1
    assert sample("firebreak_playbook_run_duration_seconds_count", "succeeded") == 1
    assert (sample("firebreak_playbook_run_duration_seconds_sum", "succeeded") or 0) > 0
    assert sample("firebreak_playbook_run_duration_seconds_count", "rejected") is None


async def test_failure_runs_compensating_steps(
    ctx: Context, runner: Runner, target: FakeTarget
) -> None:
    incident = await commanded(ctx)
    run = await runner.request(
        incident_id=incident.id, name="heuristic-fallback", params={}, by=ANA
    )
    await runner.approve(run_id=run.id, by=ANA)
    target.fail_next = [DeployError("set_mode half done", transient=False, status=409)]
    target.fail_action = "set_mode"
    done = await runner.execute(run.id)
    assert done.status == RunStatus.FAILED
    assert done.error == "step 2 `switch to heuristic` failed; compensating steps ran"
    assert target.mode == "model" and target.executed == [
        ("set_mode", run.step_key("compensate-1", 0))
    ]


async def test_a_step_timeout_counts_as_transient(
    ctx: Context, runner: Runner, target: FakeTarget
) -> None:
    incident = await commanded(ctx)
    playbook = runner.library.playbooks["traffic-unfreeze"]
    playbook.steps[0].timeout = playbook.steps[0].timeout.__class__(seconds=0.05)
    playbook.steps[0].retries = 1
    target.hang_s = 0.2
    run = await runner.request(incident_id=incident.id, name="traffic-unfreeze", params={}, by=ANA)
    await runner.approve(run_id=run.id, by=ANA)
    done = await runner.execute(run.id)
    assert done.status == RunStatus.FAILED and target.attempts == 2


async def test_two_runs_changing_one_service_are_refused(ctx: Context, runner: Runner) -> None:
    incident = await commanded(ctx)
    first = await runner.request(incident_id=incident.id, name="traffic-freeze", params={}, by=ANA)
    second = await runner.request(incident_id=incident.id, name="rollback", params={}, by=ANA)
    await runner.approve(run_id=first.id, by=ANA)
    with pytest.raises(
        Refused, match=f"run #{first.id} \\(traffic-freeze\\) is changing search-ranker right now"
    ):
        await runner.approve(run_id=second.id, by=ANA)
    await runner.execute(first.id)
    await runner.approve(run_id=second.id, by=ANA)  # free again once the first finished


async def test_resume_after_a_crash_repeats_no_confirmed_step(
    ctx: Context, runner: Runner, target: FakeTarget, chat: FakeChat
) -> None:
    incident = await commanded(ctx)
    run = await runner.request(incident_id=incident.id, name="rollback", params={}, by=ANA)
    await runner.approve(run_id=run.id, by=ANA)
    target.hang_s, target.hang_action = 30, "rollback"  # the rollback call hangs …
    task = asyncio.create_task(runner.execute(run.id))
    await eventually(lambda: target.attempts >= 2, what="the fake target's second call")
    task.cancel()  # … and the bot dies
    with pytest.raises(asyncio.CancelledError):
        await task
    get_state_calls = target.attempts - 1

    [interrupted] = await runner.interrupt_unfinished()
    assert interrupted.status == RunStatus.INTERRUPTED
    assert chat.said[-1][1].startswith(
        f":warning: run #{run.id} (rollback) was interrupted when Firebreak stopped; the last "
        "confirmed step is 1 `before`."
    )
    target.hang_s = 0
    with pytest.raises(Refused, match="not running"):
        await runner.execute(run.id)
    await runner.resume(incident_id=incident.id, by=ANA)
    done = await runner.execute(run.id)
    assert done.status == RunStatus.SUCCEEDED and target.versions[-1] == "v41"
    assert target.attempts - get_state_calls == 2  # `before` was not read again
    assert target.executed == [("rollback", run.step_key("main", 1))]


async def test_parameters_are_checked(ctx: Context, runner: Runner) -> None:
    incident = await commanded(ctx)
    with pytest.raises(Refused, match="no playbook 'rolback'"):
        await runner.request(incident_id=incident.id, name="rolback", params={}, by=ANA)
    with pytest.raises(Refused, match="rollback has no parameter version"):
        await runner.request(
            incident_id=incident.id, name="rollback", params={"version": "1"}, by=ANA
        )


async def test_a_service_without_target_fails_plainly(ctx: Context, runner: Runner) -> None:
    incident = await commanded(ctx)
    ctx.config.permissions.admins.append(ANA)  # an unknown service: only admins have rights
    run = await runner.request(
        incident_id=incident.id, name="traffic-freeze", params={"service": "checkout-fraud"}, by=ANA
    )
    await runner.approve(run_id=run.id, by=ANA)
    done = await runner.execute(run.id)
    assert done.status == RunStatus.FAILED
    entry = next(
        t.text
        for t in (await load_incident(ctx, incident.id)).timeline
        if t.kind == "playbook.step"
    )
    assert "FAILED: checkout-fraud has no deployment target in firebreak.yaml" in entry


def custom(tmp_path: Path, steps: str) -> Path:
    (tmp_path / "custom.yaml").write_text(
        "name: custom\ndescription: test\nneeds_approval: false\n"
        "parameters: {service: {default: '{{ incident.service }}'}}\nsteps:\n" + steps
    )
    return tmp_path


async def test_http_request_and_waits_on_http_and_prometheus(
    ctx: Context, target: FakeTarget, tmp_path: Path
) -> None:
    incident = await commanded(ctx)
    probe = FakeProbe(statuses=[200, 503, 503, 200], values=[0.02, 0.05, 0.11])
    library = load_library(
        custom(
            tmp_path,
            """
  - name: purge cache
    action: http_request
    with: {method: POST, url: "http://cache.test/purge/{{ params.service }}", json: {all: true}}
  - name: healthy
    action: wait_for
    with: {condition: http, url: "http://svc.test/healthz", interval: 0s}
    timeout: 5s
  - name: ctr recovered
    action: wait_for
    with: {condition: prometheus, url: "http://prom.test", interval: 0s,
           query: "ctr{service='{{ params.service }}'}", op: ">=", threshold: 0.1}
    timeout: 5s
""",
        )
    )
    runner = Runner(
        ctx=ctx, library=library, targets=FakeTargets({"search-ranker": target}), probe=probe
    )
    run = await runner.request(incident_id=incident.id, name="custom", params={}, by=ANA)
    assert run.status == RunStatus.RUNNING  # needs no approval
    done = await runner.execute(run.id)
    steps = [
        t.text
        for t in (await load_incident(ctx, incident.id)).timeline
        if t.kind == "playbook.step"
    ]
    assert done.status == RunStatus.SUCCEEDED, steps
    method, url, headers, body = probe.sent[0]
    assert (method, url, body) == ("POST", "http://cache.test/purge/search-ranker", {"all": True})
    assert headers["Idempotency-Key"] == run.step_key("main", 0)
    assert [u for _, u, _, _ in probe.sent[1:]] == ["http://svc.test/healthz"] * 3
    assert probe.values == []  # polled until the third value crossed the threshold
    entries = [
        t.text
        for t in (await load_incident(ctx, incident.id)).timeline
        if t.kind == "playbook.step"
    ]
    assert entries[2].endswith("ok: prometheus after 3 checks")


async def test_a_wait_that_never_holds_times_out_without_retrying(
    ctx: Context, target: FakeTarget, tmp_path: Path
) -> None:
    incident = await commanded(ctx)
    probe = FakeProbe(statuses=[500])
    library = load_library(
        custom(
            tmp_path,
            """
  - name: healthy
    action: wait_for
    with: {condition: http, url: "http://svc.test/healthz", interval: 0.05s}
    timeout: 0.3s
    retries: 3
""",
        )
    )
    runner = Runner(ctx=ctx, library=library, targets=FakeTargets(), probe=probe)
    run = await runner.request(incident_id=incident.id, name="custom", params={}, by=ANA)
    done = await runner.execute(run.id)
    assert done.status == RunStatus.FAILED
    entry = next(
        t.text
        for t in (await load_incident(ctx, incident.id)).timeline
        if t.kind == "playbook.step"
    )
    assert "FAILED: timed out after 0.3s" in entry and "attempts" not in entry


async def audit_log(ctx: Context) -> list[tuple[str, str, str, bool, str]]:
    async with ctx.sessions() as session:
        return [
            (e.actor, e.action, e.playbook, e.allowed, e.reason)
            for e in await audit.entries(session=session)
        ]


RIGHTS_ON_RANKER = (
    f"Only someone with rights on search-ranker may change it: <@{ANA}>. "
    "Commanding the incident is not a right on a service."
)
ASKED = "a member of the incident channel may ask; someone with rights approves"


async def test_every_request_and_approval_decision_is_audited(ctx: Context, runner: Runner) -> None:
    incident = await commanded(ctx)
    run = await runner.request(incident_id=incident.id, name="rollback", params={}, by=BEN)
    with pytest.raises(Refused):
        await runner.approve(run_id=run.id, by=BEN)
    await runner.approve(run_id=run.id, by=ANA)
    with pytest.raises(Refused):
        await runner.approve(run_id=run.id, by=ANA)  # the second click of a double click
    other = await runner.request(incident_id=incident.id, name="traffic-freeze", params={}, by=BEN)
    await runner.reject(run_id=other.id, by=ANA)
    assert await audit_log(ctx) == [
        (BEN, "request", "rollback", True, ASKED),
        (BEN, "approve", "rollback", False, RIGHTS_ON_RANKER),
        (ANA, "approve", "rollback", True, "an owner of search-ranker"),
        (
            ANA,
            "approve",
            "rollback",
            False,
            f"run #{run.id} (rollback) is running, not awaiting approval.",
        ),
        (BEN, "request", "traffic-freeze", True, ASKED),
        (ANA, "reject", "traffic-freeze", True, "an owner of search-ranker"),
    ]
    async with ctx.sessions() as session:
        entries = await audit.entries(session=session, incident_id=incident.id)
    assert {e.run_id for e in entries} == {run.id, other.id}


async def test_commanding_the_incident_is_no_right_on_its_service(
    ctx: Context, runner: Runner, target: FakeTarget
) -> None:
    incident = await incident_with_channel(ctx, members=(BEN,))
    await roles.assign(ctx, incident_id=incident.id, role=roles.Role.COMMANDER, user=BEN, by=BEN)
    run = await runner.request(incident_id=incident.id, name="rollback", params={}, by=BEN)
    with pytest.raises(Refused) as refused:
        await runner.approve(run_id=run.id, by=BEN)
    assert str(refused.value) == RIGHTS_ON_RANKER  # says who may, by mention
    assert target.attempts == 0
    await runner.approve(run_id=run.id, by=ANA)


async def test_whoever_is_on_call_for_the_service_may_approve(ctx: Context, runner: Runner) -> None:
    incident = await commanded(ctx)
    ctx.config.services["search-ranker"].oncall = Rotation(users=[CAROL])
    run = await runner.request(incident_id=incident.id, name="rollback", params={}, by=BEN)
    approved = await runner.approve(run_id=run.id, by=CAROL)
    assert approved.approved_by == CAROL
    assert (await audit_log(ctx))[-1] == (
        CAROL,
        "approve",
        "rollback",
        True,
        "on call for search-ranker",
    )


async def test_a_target_beyond_the_incident_waits_for_someone_with_rights_on_it(
    ctx: Context, runner: Runner
) -> None:
    ctx.config.services["checkout-fraud"] = ServiceConfig(owners=[CAROL])
    ctx.config.services["search-features"] = ServiceConfig(owners=[ANA])
    ctx.config.services["search-ranker"].depends_on = ["search-features"]
    runner.library.playbooks["traffic-unfreeze"].needs_approval = False
    incident = await commanded(ctx)
    # Its own dependency: ANA has rights on it, so asking is deciding.
    ran = await runner.request(
        incident_id=incident.id,
        name="traffic-unfreeze",
        params={"service": "search-features"},
        by=ANA,
    )
    assert ran.status == RunStatus.RUNNING
    await runner.execute(ran.id)
    # An unrelated service: approval, whatever the playbook says, by whoever has rights on it.
    run = await runner.request(
        incident_id=incident.id,
        name="traffic-unfreeze",
        params={"service": "checkout-fraud"},
        by=ANA,
    )
    assert run.status == RunStatus.AWAITING_APPROVAL
    with pytest.raises(Refused, match=f"rights on checkout-fraud may change it: <@{CAROL}>"):
        await runner.approve(run_id=run.id, by=ANA)
    assert (await runner.approve(run_id=run.id, by=CAROL)).approved_by == CAROL


async def test_two_person_rule_the_asker_cannot_approve(ctx: Context, runner: Runner) -> None:
    ctx.config.playbooks.two_person = True
    ctx.config.services["search-ranker"].owners = [ANA, CAROL]
    incident = await commanded(ctx)
    run = await runner.request(incident_id=incident.id, name="rollback", params={}, by=ANA)
    with pytest.raises(Refused, match="needs a second person"):
        await runner.approve(run_id=run.id, by=ANA)
    assert (await runner.approve(run_id=run.id, by=CAROL)).approved_by == CAROL


async def test_a_playbook_that_runs_at_once_is_for_those_with_rights(
    ctx: Context, runner: Runner, target: FakeTarget
) -> None:
    incident = await commanded(ctx)
    runner.library.playbooks["traffic-unfreeze"].needs_approval = False
    # BEN may change the incident (he is in its channel) but not production.
    with pytest.raises(Refused, match="Only someone with rights on search-ranker"):
        await runner.request(incident_id=incident.id, name="traffic-unfreeze", params={}, by=BEN)
    ctx.config.playbooks.approvers.append(BEN)  # unless the team names him a responder
    run = await runner.request(incident_id=incident.id, name="traffic-unfreeze", params={}, by=BEN)
    assert run.status == RunStatus.RUNNING
    await runner.execute(run.id)
    assert [entry[1:] for entry in await audit_log(ctx)] == [
        ("run", "traffic-unfreeze", False, RIGHTS_ON_RANKER),
        ("run", "traffic-unfreeze", True, "a responder (playbooks.approvers)"),
    ]


async def join_channel(ctx: Context, incident: Incident, user: str) -> None:
    assert isinstance(ctx.chat, FakeChat) and incident.channel_id
    ctx.chat.channel_members[incident.channel_id].add(user)


async def test_resuming_a_run_is_for_those_with_rights(ctx: Context, runner: Runner) -> None:
    incident = await commanded(ctx)
    run = await runner.request(incident_id=incident.id, name="traffic-freeze", params={}, by=ANA)
    await runner.approve(run_id=run.id, by=ANA)
    await runner.mark_interrupted()  # as a restart would
    await join_channel(ctx, incident, BEN)
    with pytest.raises(Refused, match="Only someone with rights on search-ranker"):
        await runner.resume(incident_id=incident.id, by=BEN)
    resumed = await runner.resume(incident_id=incident.id, by=ANA)
    assert resumed.id == run.id
    assert [entry[:4] for entry in await audit_log(ctx)][-2:] == [
        (BEN, "resume", "traffic-freeze", False),
        (ANA, "resume", "traffic-freeze", True),
    ]

"""Running playbooks: request (or dry run), approval, execution step by step, resume.

Every run and step is written down before and after it acts, so a bot that dies mid-run knows,
at its next start, which steps were confirmed: `/incident run resume` continues from the first
step that was not, with the same idempotency keys, so the deployment API ignores a repeat.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot.deploy.ports import NoTarget, Probe, Targets
from bot.deploy.recording import DrillTargets
from bot.incidents import service as incidents_service
from bot.incidents import timeline
from bot.incidents.errors import NotFound, Refused
from bot.incidents.freezes import freeze_lifted, freeze_started
from bot.incidents.models import Incident
from bot.incidents.permissions import require_may_change
from bot.incidents.reading import load
from bot.logs import incident_logs
from bot.mrkdwn import escape
from bot.people import mention
from bot.playbooks.approvals import (
    decided,
    may_ask,
    may_run,
    out_of_scope,
    require_approver,
    require_rights,
    targets,
)
from bot.playbooks.events import StepConfirmed
from bot.playbooks.loader import Library
from bot.playbooks.models import OnFailure, Playbook, Step
from bot.playbooks.parameters import parameters
from bot.playbooks.ports import PlaybookContext, RunMeter
from bot.playbooks.progress import Progress, steps_of
from bot.playbooks.runs import PlaybookRun, RunStatus, StepRun, StepStatus
from bot.playbooks.steps import StepEnv, StepFailed, run_action
from bot.playbooks.templates import RenderError, incident_vars, render

log = logging.getLogger(__name__)


BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 8.0


@dataclass
class Runner:
    ctx: PlaybookContext
    library: Library
    targets: Targets
    probe: Probe
    # Drill incidents act here, never on `targets`.
    drills: DrillTargets = field(default_factory=DrillTargets)
    meter: RunMeter | None = None
    # Each run's random id, the root of its idempotency keys (tests pass a counter).
    new_uid: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)
    progress: Progress = field(init=False)

    def __post_init__(self) -> None:
        self.progress = Progress(
            ctx=self.ctx,
            library=self.library,
            targets=self.targets,
            probe=self.probe,
            drills=self.drills,
        )

    # --- asking ---------------------------------------------------------------------------

    async def request(
        self, *, incident_id: int, name: str, params: dict[str, str], by: str, dry_run: bool = False
    ) -> PlaybookRun:
        """A dry run is planned and shown at once; a real run waits for approval when the
        playbook needs it or it targets a service beyond the incident's, or starts (the caller
        runs `execute`)."""
        playbook = self._playbook(name)
        incident = await load(self.ctx, incident_id=incident_id)
        resolved = parameters(playbook, params, incident)
        services = targets(playbook, resolved, incident)
        if dry_run:  # it changes nothing: for anyone in the channel
            await require_may_change(self.ctx, incident, by)
            run = await self._create(incident, playbook, resolved, by, RunStatus.DRY_RUN)
        elif playbook.needs_approval or out_of_scope(self.ctx, incident, services):
            async with decided(self.ctx, "request", playbook.name, incident, by) as decision:
                decision.reason = await may_ask(self.ctx, incident, by)
                run = await self._plan(
                    incident, playbook, resolved, by, RunStatus.AWAITING_APPROVAL
                )
                decision.run_id = run.id
        else:  # it runs at once: asking is deciding, so the approvers' rule applies
            async with decided(self.ctx, "run", playbook.name, incident, by) as decision:
                decision.reason = await may_run(self.ctx, incident, playbook, services, by)
                run = await self._plan(incident, playbook, resolved, by, RunStatus.RUNNING)
                decision.run_id = run.id
        # A dry run shows its rehearsal; the approver sees what will change, read from the
        # targets now (bot.playbooks.progress).
        await self.progress.post(run, incident)
        if run.status == RunStatus.AWAITING_APPROVAL:
            await self._note(
                incident, f"{mention(by)} asked to run {playbook.name}; awaiting approval", by, run
            )
        return run

    async def start(
        self, *, incident_id: int, name: str, params: dict[str, str], by: str, dry_run: bool = False
    ) -> PlaybookRun:
        """Request a run and, when it needs no approval, run it to the end."""
        run = await self.request(
            incident_id=incident_id, name=name, params=params, by=by, dry_run=dry_run
        )
        if run.status == RunStatus.RUNNING:
            return await self.execute(run.id)
        return run

    async def approve(self, *, run_id: int, by: str) -> PlaybookRun:
        run, incident = await self._load(run_id)
        async with decided(self.ctx, "approve", run.playbook, incident, by, run) as decision:
            decision.reason = require_approver(self.ctx, run, self._targets(run, incident), by)
            now = self.ctx.clock()
            try:
                async with self.ctx.sessions.begin() as session:
                    # Only one click wins: a double-clicked approval starts one run.
                    started = await session.execute(
                        update(PlaybookRun)
                        .where(
                            PlaybookRun.id == run_id,
                            PlaybookRun.status == RunStatus.AWAITING_APPROVAL,
                        )
                        .values(status=RunStatus.RUNNING, approved_by=by, started_at=now)
                    )
            except IntegrityError as exc:
                raise Refused(await self._busy(run)) from exc
            if started.rowcount != 1:  # type: ignore[attr-defined]
                raise Refused(await self._not_awaiting(run_id))
        run, incident = await self._load(run_id)
        await self._note(incident, f"{mention(by)} approved {run.playbook}", by, run)
        await self.progress.refresh(run, incident)
        return run

    async def reject(self, *, run_id: int, by: str) -> PlaybookRun:
        run, incident = await self._load(run_id)
        async with decided(self.ctx, "reject", run.playbook, incident, by, run) as decision:
            decision.reason = (
                "withdrawn by whoever asked for it"
                if by == run.requested_by
                else require_rights(self.ctx, self._targets(run, incident), by)
            )
            async with self.ctx.sessions.begin() as session:
                done = await session.execute(
                    update(PlaybookRun)
                    .where(
                        PlaybookRun.id == run_id, PlaybookRun.status == RunStatus.AWAITING_APPROVAL
                    )
                    .values(status=RunStatus.REJECTED, approved_by=by, finished_at=self.ctx.clock())
                )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise Refused(await self._not_awaiting(run_id))
        run, incident = await self._load(run_id)
        await self._note(incident, f"{mention(by)} rejected {run.playbook}", by, run)
        await self.progress.refresh(run, incident)
        self._count(run.playbook, RunStatus.REJECTED, None)
        return run

    async def resume(self, *, incident_id: int, by: str) -> PlaybookRun:
        incident = await load(self.ctx, incident_id=incident_id)
        await require_may_change(self.ctx, incident, by)
        async with self.ctx.reading() as session:
            run = (
                await session.scalars(
                    select(PlaybookRun)
                    .where(
                        PlaybookRun.incident_id == incident_id,
                        PlaybookRun.status == RunStatus.INTERRUPTED,
                    )
                    .order_by(PlaybookRun.id.desc())
                    .limit(1)
                )
            ).one_or_none()
        if run is None:
            raise Refused(f"No interrupted playbook run in {incident.ref} to resume.")
        async with decided(self.ctx, "resume", run.playbook, incident, by, run) as decision:
            playbook = self._playbook(run.playbook)
            decision.reason = await may_run(
                self.ctx, incident, playbook, self._targets(run, incident), by
            )
            try:
                async with self.ctx.sessions.begin() as session:
                    await session.execute(
                        update(PlaybookRun)
                        .where(PlaybookRun.id == run.id)
                        .values(status=RunStatus.RUNNING, error=None)
                    )
            except IntegrityError as exc:
                raise Refused(await self._busy(run)) from exc
        await self._note(incident, f"{mention(by)} resumed {run.playbook}", by, run)
        return run

    async def interrupt_unfinished(self) -> list[PlaybookRun]:
        """At start: runs the last process left running did not finish. Say where they stopped."""
        runs = await self.mark_interrupted()
        await self.announce_interrupted(runs)
        return runs

    async def mark_interrupted(self) -> list[PlaybookRun]:
        """Before serving: nothing of this process runs yet, so every `running` run is stale."""
        async with self.ctx.sessions.begin() as session:
            runs = list(
                (
                    await session.scalars(
                        select(PlaybookRun).where(PlaybookRun.status == RunStatus.RUNNING)
                    )
                ).all()
            )
            for run in runs:
                run.status = RunStatus.INTERRUPTED
        return runs

    async def announce_interrupted(self, runs: list[PlaybookRun]) -> None:
        for run in runs:
            confirmed = [
                s
                for s in await steps_of(self.ctx, run.id)
                if s.phase == "main" and s.status == StepStatus.SUCCEEDED
            ]
            last = (
                f"the last confirmed step is {len(confirmed)} `{confirmed[-1].name}`"
                if confirmed
                else "no step was confirmed"
            )
            incident = await load(self.ctx, incident_id=run.incident_id)
            text = (
                f":warning: {run.ref} was interrupted when Firebreak stopped; {last}. "
                "`/incident run resume` continues without repeating confirmed steps."
            )
            await self._note(incident, text, "firebreak", run)
            if incident.channel_id:
                await self.ctx.chat.say(channel=incident.channel_id, text=escape(text))
            await self.progress.refresh(run, incident)

    async def _plan(
        self,
        incident: Incident,
        playbook: Playbook,
        params: dict[str, str],
        by: str,
        status: RunStatus,
    ) -> PlaybookRun:
        if not incident.is_open:
            raise Refused(f"{incident.ref} is resolved; reopen it before mitigating.")
        return await self._create(incident, playbook, params, by, status)

    # --- running ----------------------------------------------------------------------------

    async def execute(self, run_id: int) -> PlaybookRun:
        """Run the steps that are not yet confirmed. Safe to call again after a crash."""
        run, incident = await self._load(run_id)
        if run.status != RunStatus.RUNNING:
            raise Refused(f"{run.ref} is {run.status.replace('_', ' ')}, not running.")
        started = time.monotonic()
        with incident_logs(incident.id):
            try:
                finished = await self._execute(run, incident)
            except Exception:
                self._count(run.playbook, "error", time.monotonic() - started)
                raise
        self._count(run.playbook, finished.status, time.monotonic() - started)
        return finished

    async def _execute(self, run: PlaybookRun, incident: Incident) -> PlaybookRun:
        run_id = run.id
        playbook = self._playbook(run.playbook)
        done = {s.position: s for s in await steps_of(self.ctx, run_id) if s.phase == "main"}
        results = {
            s.name: s.result or {} for s in done.values() if s.status == StepStatus.SUCCEEDED
        }
        failure: str | None = None
        for position, step in enumerate(playbook.steps):
            previous = done.get(position)
            if previous is not None and previous.status in (
                StepStatus.SUCCEEDED,
                StepStatus.SKIPPED,
            ):
                continue  # confirmed before a crash: never repeated
            ok = await self._run_step(run, incident, playbook, "main", position, step, results)
            if ok or step.on_failure is OnFailure.CONTINUE:
                continue
            failure = f"step {position + 1} `{step.name}` failed"
            if step.on_failure is OnFailure.COMPENSATE:
                for index, undo in enumerate(step.compensate):
                    await self._run_step(
                        run, incident, playbook, f"compensate-{position}", index, undo, results
                    )
                failure += "; compensating steps ran"
            break
        return await self._finish(run_id, failure)

    async def _run_step(
        self,
        run: PlaybookRun,
        incident: Incident,
        playbook: Playbook,
        phase: str,
        position: int,
        step: Step,
        results: dict[str, Any],
    ) -> bool:
        row = await self._start_step(run, phase, position, step, run.step_key(phase, position))
        context = {"params": run.params, "incident": incident_vars(incident), "steps": results}
        targets, probe = self.progress.tools(incident)
        env = StepEnv(
            ctx=self.ctx,
            targets=targets,
            probe=probe,
            incident=incident,
            key=row.idempotency_key,  # a step run again after a crash sends the same key
            timeout_s=step.timeout.total_seconds(),
        )
        started = asyncio.get_running_loop().time()
        attempts, error, outcome = 0, None, None
        args: dict[str, Any] = {}
        await self.progress.refresh(run, incident)
        while True:
            attempts += 1
            try:
                args = render(step.args, context, where=f"steps[{position}].with")
                async with asyncio.timeout(env.timeout_s):
                    outcome = await run_action(step.action, args, env)
                break
            except (RenderError, NoTarget, ValueError) as exc:
                error = StepFailed(str(exc))
            except TimeoutError:
                error = StepFailed(
                    f"timed out after {env.timeout_s:g}s", transient=step.action != "wait_for"
                )
            except StepFailed as exc:
                error = exc
            if not error.transient or attempts > step.retries:
                break
            await asyncio.sleep(min(BACKOFF_BASE_S * 2 ** (attempts - 1), BACKOFF_MAX_S))
        duration_ms = int((asyncio.get_running_loop().time() - started) * 1000)
        ok = outcome is not None
        if ok:
            assert outcome is not None
            results[step.name] = outcome.result
            await self._after(run, incident, step.action, args)
        await self._end_step(
            row,
            run,
            incident,
            playbook,
            step,
            position,
            phase,
            attempts,
            duration_ms,
            outcome,
            None if ok else error,
        )
        await self.progress.refresh(run, incident)
        return ok

    async def _after(
        self, run: PlaybookRun, incident: Incident, action: str, args: dict[str, Any]
    ) -> None:
        """What a confirmed step means beyond the deployment: a freeze for the deploy gate; and
        it is announced (in a drill, a mitigation then makes the scenario's alerts resolve)."""
        by = run.approved_by or run.requested_by
        if action == "freeze":
            await freeze_started(
                self.ctx,
                service_name=str(args["service"]),
                reason=str(args.get("reason") or f"frozen during {incident.ref}"),
                by=by,
                source="playbook",
                incident=incident,
            )
        elif action == "unfreeze":
            await freeze_lifted(
                self.ctx, service_name=str(args["service"]), by=by, incident=incident
            )
        await self.ctx.events.publish(
            StepConfirmed(run.id, incident.id, action=action, drill=incident.drill)
        )

    # --- records ------------------------------------------------------------------------------

    async def _create(
        self,
        incident: Incident,
        playbook: Playbook,
        params: dict[str, str],
        by: str,
        status: RunStatus,
    ) -> PlaybookRun:
        now = self.ctx.clock()
        run = PlaybookRun(
            uid=self.new_uid(),
            incident_id=incident.id,
            playbook=playbook.name,
            service=params.get("service"),
            params=params,
            changes_state=playbook.changes_state,
            status=status,
            requested_by=by,
            created_at=now,
            started_at=now if status is RunStatus.RUNNING else None,
            finished_at=now if status is RunStatus.DRY_RUN else None,
        )
        try:
            async with self.ctx.sessions.begin() as session:
                session.add(run)
        except IntegrityError as exc:
            raise Refused(await self._busy(run)) from exc
        return run

    async def _start_step(
        self, run: PlaybookRun, phase: str, position: int, step: Step, key: str
    ) -> StepRun:
        now = self.ctx.clock()
        async with self.ctx.sessions.begin() as session:
            row = (
                await session.scalars(
                    select(StepRun).where(
                        StepRun.run_id == run.id,
                        StepRun.phase == phase,
                        StepRun.position == position,
                    )
                )
            ).one_or_none()
            if row is None:
                row = StepRun(
                    run_id=run.id,
                    phase=phase,
                    position=position,
                    name=step.name,
                    action=step.action,
                    attempts=0,
                    idempotency_key=key,
                    started_at=now,
                )
                session.add(row)
            row.status = StepStatus.RUNNING  # a step re-run after a crash keeps its key
            row.started_at = now
        return row

    async def _end_step(
        self,
        row: StepRun,
        run: PlaybookRun,
        incident: Incident,
        playbook: Playbook,
        step: Step,
        position: int,
        phase: str,
        attempts: int,
        duration_ms: int,
        outcome: Any,
        error: StepFailed | None,
    ) -> None:
        now = self.ctx.clock()
        requests = list(outcome.requests) if outcome else list(error.requests if error else ())
        status_code = outcome.status if outcome else (error.status if error else None)
        async with self.ctx.sessions.begin() as session:
            stored = await session.get(StepRun, row.id)
            assert stored is not None
            stored.status = StepStatus.SUCCEEDED if error is None else StepStatus.FAILED
            stored.attempts += attempts
            stored.requests = requests
            stored.result = outcome.result if outcome else None
            stored.response_status = status_code
            stored.duration_ms = duration_ms
            stored.error = str(error) if error else None
            stored.finished_at = now
            where = (
                f"step {position + 1}/{len(playbook.steps)}"
                if phase == "main"
                else f"compensating step {position + 1}"
            )
            sent = f" {'; '.join(requests)}" if requests else ""
            answer = f" → {status_code}" if status_code is not None else ""
            result = (
                f"ok{': ' + outcome.detail if outcome and outcome.detail else ''}"
                if error is None
                else f"FAILED: {error}"
            )
            tries = f", {attempts} attempts" if attempts > 1 else ""
            await timeline.record(
                session=session,
                incident_id=incident.id,
                kind="playbook.step",
                text=f"{playbook.name} {where} `{step.name}`:{sent}{answer} in {duration_ms} ms"
                f"{tries}: {result}",
                actor="firebreak",
                now=now,
                data={
                    "run": run.id,
                    "step": step.name,
                    "phase": phase,
                    "status": status_code,
                    "duration_ms": duration_ms,
                    "requests": requests,
                },
            )

    async def _finish(self, run_id: int, failure: str | None) -> PlaybookRun:
        now = self.ctx.clock()
        async with self.ctx.sessions.begin() as session:
            run = await session.get(PlaybookRun, run_id)
            assert run is not None
            run.status = RunStatus.FAILED if failure else RunStatus.SUCCEEDED
            run.error, run.finished_at = failure, now
            if failure is None and run.changes_state:
                await incidents_service.mark_mitigated(
                    session=session, incident_id=run.incident_id, at=now
                )
        run, incident = await self._load(run_id)
        text = (
            f":white_check_mark: {run.playbook} succeeded in {incident.ref}."
            if failure is None
            else f":x: {run.playbook} FAILED in {incident.ref}: {failure}. Nothing after it ran."
        )
        await self._note(incident, text, "firebreak", run)
        if incident.channel_id:
            await self.ctx.chat.say(channel=incident.channel_id, text=escape(text))
        await self.progress.refresh(run, incident)
        return run

    # --- helpers ------------------------------------------------------------------------------

    def _count(self, playbook: str, outcome: str, seconds: float | None) -> None:
        if self.meter is not None:
            self.meter.run_finished(playbook=playbook, outcome=outcome, seconds=seconds)

    def _targets(self, run: PlaybookRun, incident: Incident) -> list[str]:
        return targets(self._playbook(run.playbook), run.params, incident)

    def _playbook(self, name: str) -> Playbook:
        playbook = self.library.get(name)
        if playbook is None:
            known = ", ".join(sorted(self.library.playbooks)) or "none"
            raise Refused(f"There is no playbook {escape(repr(name))} (there are: {known}).")
        return playbook

    async def _not_awaiting(self, run_id: int) -> str:
        run, _ = await self._load(run_id)  # as it is now: another click may just have won
        return f"{run.ref} is {run.status.replace('_', ' ')}, not awaiting approval."

    async def _busy(self, run: PlaybookRun) -> str:
        async with self.ctx.reading() as session:
            other = (
                await session.scalars(
                    select(PlaybookRun).where(
                        PlaybookRun.service == run.service,
                        PlaybookRun.status == RunStatus.RUNNING,
                        PlaybookRun.changes_state.is_(True),
                    )
                )
            ).first()
        which = other.ref if other else "another run"
        return f"{which} is changing {run.service} right now; wait for it to finish."

    async def _load(self, run_id: int) -> tuple[PlaybookRun, Incident]:
        async with self.ctx.reading() as session:
            run = await session.get(PlaybookRun, run_id)
        if run is None:
            raise NotFound(f"There is no playbook run #{run_id}.")
        return run, await load(self.ctx, incident_id=run.incident_id)

    async def _note(self, incident: Incident, text: str, by: str, run: PlaybookRun) -> None:
        now = self.ctx.clock()
        async with self.ctx.sessions.begin() as session:
            await timeline.record(
                session=session,
                incident_id=incident.id,
                kind="playbook.run",
                text=text,
                actor=by,
                now=now,
                data={"run": run.id},
            )

"""A run's one progress message: what it shows, posted once and updated in place."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from bot.deploy import reading
from bot.deploy.ports import Probe, State, Targets
from bot.deploy.reading import read_state
from bot.deploy.recording import DrillTargets
from bot.incidents.models import Incident
from bot.incidents.ports import MessageRef
from bot.playbooks.actions import ACTIONS
from bot.playbooks.loader import Library
from bot.playbooks.models import Playbook
from bot.playbooks.ports import PlaybookContext, RunView, StepLine
from bot.playbooks.runs import PlaybookRun, RunStatus, StepRun, StepStatus
from bot.playbooks.steps import (
    DEPLOY_ACTIONS,
    StepEnv,
    describe_change,
    describe_other,
    plan_requests,
)
from bot.playbooks.templates import RenderError, incident_vars, render

# How long the approval card waits for a target's state: past it, the plan says "unknown".
READ_STATE_S = reading.READ_STATE_S
LATER = "(uses results of earlier steps: known when it runs)"


async def steps_of(ctx: PlaybookContext, run_id: int) -> list[StepRun]:
    async with ctx.reading() as session:
        return list(
            (
                await session.scalars(
                    select(StepRun)
                    .where(StepRun.run_id == run_id)
                    .order_by(StepRun.phase, StepRun.position)
                )
            ).all()
        )


class Progress:
    def __init__(
        self,
        *,
        ctx: PlaybookContext,
        library: Library,
        targets: Targets,
        probe: Probe,
        drills: DrillTargets,
    ) -> None:
        self.ctx, self.library, self.targets, self.probe = ctx, library, targets, probe
        self.drills = drills

    def tools(self, incident: Incident) -> tuple[Targets, Probe]:
        """Where a run's steps act: a drill's only ever reach its recording target."""
        if incident.drill:
            return self.drills.for_incident(incident.id), self.drills.probe(incident.id)
        return self.targets, self.probe

    async def dry_lines(
        self, run: PlaybookRun, playbook: Playbook, incident: Incident
    ) -> list[StepLine]:
        context = {"params": run.params, "incident": incident_vars(incident), "steps": {}}
        targets, probe = self.tools(incident)
        lines = []
        for position, step in enumerate(playbook.steps):
            env = StepEnv(
                ctx=self.ctx,
                targets=targets,
                probe=probe,
                incident=incident,
                key=run.step_key("main", position),
                timeout_s=step.timeout.total_seconds(),
            )
            try:
                args = render(step.args, context, where=f"steps[{position}].with")
                detail = "\n".join(await plan_requests(step.action, args, env))
            except RenderError:
                detail = LATER
            except Exception as exc:  # a dry run reports what a real run would trip over
                detail = f"would fail: {exc}"
            lines.append(StepLine(name=step.name, status="planned", detail=detail))
        return lines

    async def plan_lines(
        self, run: PlaybookRun, playbook: Playbook, incident: Incident
    ) -> list[StepLine]:
        """The approval card's plan: what each step will change, from the state of each service
        read now (at once, time-boxed: a target that does not answer leaves it "unknown")."""
        context = {"params": run.params, "incident": incident_vars(incident), "steps": {}}
        targets, _ = self.tools(incident)
        rendered: list[dict[str, Any] | str] = []
        for position, step in enumerate(playbook.steps):
            try:
                args = render(step.args, context, where=f"steps[{position}].with")
                ACTIONS[step.action].check(args)
                rendered.append(args)
            except RenderError:
                rendered.append(LATER)
            except Exception as exc:  # the run would trip over it: say so, as a dry run does
                rendered.append(f"would fail: {exc}")
        services = sorted(
            {
                str(args["service"])
                for step, args in zip(playbook.steps, rendered, strict=True)
                if isinstance(args, dict) and step.action in DEPLOY_ACTIONS
            }
        )
        read = await asyncio.gather(*(_read_state(targets, service) for service in services))
        states = dict(zip(services, read, strict=True))
        lines = []
        for step, args in zip(playbook.steps, rendered, strict=True):
            if isinstance(args, str):
                detail = args
            elif step.action in DEPLOY_ACTIONS:
                detail = describe_change(step.action, args, states[str(args["service"])])
            else:  # no I/O: what it will send or post
                detail = "; ".join(describe_other(step.action, args))
            lines.append(StepLine(name=step.name, status="pending", detail=detail))
        return lines

    async def view(self, run: PlaybookRun, incident: Incident) -> RunView:
        playbook = self.library.get(run.playbook)
        lines = await self._lines(run, playbook, incident) if playbook is not None else []
        return RunView(
            run_id=run.id,
            incident_id=incident.id,
            ref=incident.ref,
            playbook=run.playbook,
            description=playbook.description if playbook else "",
            status=run.status,
            params=run.params,
            requested_by=run.requested_by,
            approved_by=run.approved_by,
            steps=lines,
            awaiting_approval=run.status == RunStatus.AWAITING_APPROVAL,
            dry_run=run.status == RunStatus.DRY_RUN,
        )

    async def _lines(
        self, run: PlaybookRun, playbook: Playbook, incident: Incident
    ) -> list[StepLine]:
        """What the run's message shows: the plan while it awaits approval (read again, so a
        refresh keeps it and it stays current), the rehearsal of a dry run, else its steps."""
        if run.status == RunStatus.AWAITING_APPROVAL:
            return await self.plan_lines(run, playbook, incident)
        if run.status == RunStatus.DRY_RUN:
            return await self.dry_lines(run, playbook, incident)
        steps = await steps_of(self.ctx, run.id)
        by_position = {s.position: s for s in steps if s.phase == "main"}
        lines = []
        for position, step in enumerate(playbook.steps):
            row = by_position.get(position)
            detail = ""
            if row is not None and row.status != StepStatus.RUNNING:
                code = f" → {row.response_status}" if row.response_status else ""
                detail = f"{row.duration_ms} ms{code}" + (f": {row.error}" if row.error else "")
            lines.append(
                StepLine(name=step.name, status=row.status if row else "pending", detail=detail)
            )
        lines += [
            StepLine(name=f"compensate: {s.name}", status=s.status, detail=s.error or "")
            for s in steps
            if s.phase != "main"
        ]
        return lines

    async def post(self, run: PlaybookRun, incident: Incident) -> None:
        if incident.channel_id is None:
            return
        posted = await self.ctx.chat.post_run(
            channel=incident.channel_id, run=await self.view(run, incident)
        )
        async with self.ctx.sessions.begin() as session:
            stored = await session.get(PlaybookRun, run.id)
            assert stored is not None
            stored.progress_channel, stored.progress_ts = posted.channel_id, posted.ts
            status_now = stored.status
        run.progress_channel, run.progress_ts = posted.channel_id, posted.ts
        if status_now != run.status:
            # Someone clicked Approve as soon as the message showed, and the run moved on
            # before its ts was stored here: those refreshes found no message to update.
            await self.refresh(run, incident)

    async def refresh(self, run: PlaybookRun, incident: Incident) -> None:
        """One progress message per run, updated in place (chat.update) as steps run."""
        # One at a time per run: a refresh that read older state must not be sent after a newer.
        async with self.ctx.locks(("run-progress", run.id)):
            async with self.ctx.reading() as session:
                fresh = await session.get(PlaybookRun, run.id)
            if fresh is None or not fresh.progress_channel or not fresh.progress_ts:
                return
            await self.ctx.chat.update_run(
                message=MessageRef(fresh.progress_channel, fresh.progress_ts),
                run=await self.view(fresh, incident),
            )


async def _read_state(targets: Targets, service: str) -> State | str:
    """The service's state now, or why it is unknown; never raises, never waits past
    READ_STATE_S."""
    return await read_state(targets, service, timeout_s=READ_STATE_S)

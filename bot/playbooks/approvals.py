"""Who may change which service, and the audit log of every such decision.

A run that changes production acts on services: its targets (the services its state-changing
steps name). It needs approval from someone with rights on each target: the service's owners,
whoever is on call for it now, `playbooks.approvers`, or `permissions.admins`. Commanding the
incident is not, by itself, a right on any service. A run may target the incident's own service
and the services it depends on; any other target always waits for approval, even of a playbook
that would run at once. With `playbooks.two_person`, whoever asked for a run cannot approve it.
Asking for a run, and a dry run (it changes nothing), are for anyone in the incident's channel.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bot.audit import service as audit
from bot.incidents.errors import Refused
from bot.incidents.models import Incident
from bot.incidents.permissions import require_may_change
from bot.mrkdwn import escape, unescape
from bot.people import mention
from bot.playbooks.models import Playbook, Step
from bot.playbooks.ports import PlaybookContext
from bot.playbooks.runs import PlaybookRun
from bot.playbooks.templates import RenderError, incident_vars, render


@dataclass
class Decision:
    """What goes in the audit log about one request/approve/run decision."""

    run_id: int | None = None
    allowed: bool = True
    reason: str = ""


def targets(playbook: Playbook, params: dict[str, Any], incident: Incident) -> list[str]:
    """The services a run of `playbook` changes: what its state-changing steps' `service`
    renders to. A step whose service depends on an earlier step's result cannot be known
    ahead: the run's `service` parameter, or else the incident's service, stands for it."""
    context = {"params": params, "incident": incident_vars(incident), "steps": {}}
    found: list[str] = []
    for step in _changing_steps(playbook.steps):
        try:
            service = str(render(step.args.get("service", ""), context) or "")
        except RenderError:
            service = ""
        service = service or str(params.get("service") or incident.service or "")
        if service and service not in found:
            found.append(service)
    return found


def out_of_scope(ctx: PlaybookContext, incident: Incident, services: Iterable[str]) -> list[str]:
    """Targets beyond the incident's own service and the services it depends on."""
    own = ctx.config.service(incident.service)
    scope = {incident.service, *(own.depends_on if own else ())}
    return [s for s in services if s not in scope]


def right_on(ctx: PlaybookContext, service: str, user: str) -> str | None:
    """Why `user` may change `service`, or None."""
    if user in ctx.config.permissions.admins:
        return "an admin (permissions.admins)"
    if user in ctx.config.playbooks.approvers:
        return "a responder (playbooks.approvers)"
    svc = ctx.config.service(service)
    if svc is not None and user in svc.owners:
        return f"an owner of {service}"
    if svc is not None and svc.oncall is not None and svc.oncall.on_call(ctx.clock()) == user:
        return f"on call for {service}"
    return None


def holders(ctx: PlaybookContext, service: str) -> list[str]:
    """Everyone with rights on `service` now, in the order a refusal names them."""
    svc = ctx.config.service(service)
    people = [
        *(svc.owners if svc else ()),
        *([svc.oncall.on_call(ctx.clock())] if svc and svc.oncall else ()),
        *ctx.config.playbooks.approvers,
        *ctx.config.permissions.admins,
    ]
    return list(dict.fromkeys(people))


def require_rights(ctx: PlaybookContext, services: list[str], by: str) -> str:
    """Why `by` may change every one of `services`; Refused naming who may, by mention."""
    reasons = []
    for service in services:
        reason = right_on(ctx, service, by)
        if reason is None:
            who = holders(ctx, service)
            named = (
                ", ".join(mention(p) for p in who)
                if who
                else "nobody yet: name its owners under "
                f"services.{escape(service)} in firebreak.yaml"
            )
            raise Refused(
                f"Only someone with rights on {escape(service)} may change it: {named}. "
                "Commanding the incident is not a right on a service."
            )
        reasons.append(reason)
    return "; ".join(dict.fromkeys(reasons)) or "the run changes no service"


def require_approver(ctx: PlaybookContext, run: PlaybookRun, services: list[str], by: str) -> str:
    """Who may approve (or reject) `run`; returns why this person may."""
    if ctx.config.playbooks.two_person and by == run.requested_by:
        raise Refused(
            f"{run.ref} needs a second person (playbooks.two_person): someone other than "
            f"{mention(by)}, who asked for it, approves it."
        )
    return require_rights(ctx, services, by)


async def may_run(
    ctx: PlaybookContext, incident: Incident, playbook: Playbook, services: list[str], by: str
) -> str:
    """A playbook that runs without approval changes production only at the hands of someone
    who could have approved it."""
    if playbook.changes_state:
        return require_rights(ctx, services, by)
    await require_may_change(ctx, incident, by)
    return "the playbook changes nothing"


async def may_ask(ctx: PlaybookContext, incident: Incident, by: str) -> str:
    await require_may_change(ctx, incident, by)
    return "a member of the incident channel may ask; someone with rights approves"


@asynccontextmanager
async def decided(
    ctx: PlaybookContext,
    action: str,
    playbook: str,
    incident: Incident,
    by: str,
    run: PlaybookRun | None = None,
) -> AsyncIterator[Decision]:
    """Write the decision taken inside to the audit log: allowed, or refused and why."""
    decision = Decision(run_id=run.id if run else None)
    try:
        yield decision
    except Refused as exc:
        decision.allowed, decision.reason = False, unescape(str(exc))  # the log keeps plain text
        await _audit(ctx, action, playbook, incident, by, decision)
        raise
    await _audit(ctx, action, playbook, incident, by, decision)


def _changing_steps(steps: list[Step]) -> list[Step]:
    found: list[Step] = []
    for step in steps:
        found += [step] if step.changes_state else []
        found += _changing_steps(step.compensate)
    return found


async def _audit(
    ctx: PlaybookContext,
    action: str,
    playbook: str,
    incident: Incident,
    by: str,
    decision: Decision,
) -> None:
    async with ctx.sessions.begin() as session:
        audit.record(
            session=session,
            at=ctx.clock(),
            actor=by,
            action=action,
            playbook=playbook,
            incident_id=incident.id,
            run_id=decision.run_id,
            allowed=decision.allowed,
            reason=decision.reason,
        )

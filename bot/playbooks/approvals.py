"""Who may approve or run a playbook that changes production, and the audit log of every such
decision: allowed or refused, by whom, and why."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.audit import service as audit
from bot.context import Context
from bot.incidents.errors import Refused
from bot.incidents.models import Incident
from bot.incidents.people import mention
from bot.incidents.permissions import require_may_change
from bot.playbooks.models import Playbook
from bot.playbooks.runs import PlaybookRun


@dataclass
class Decision:
    """What goes in the audit log about one approve/run decision."""

    run_id: int | None = None
    allowed: bool = True
    reason: str = ""


async def require_approver(ctx: Context, incident: Incident, by: str) -> str:
    """Who may approve (and run at once) a mitigation; returns why this person may."""
    rules = ctx.config.playbooks
    if by in ctx.config.permissions.admins:
        return "an admin (permissions.admins)"
    if by in rules.approvers:
        return "a responder (playbooks.approvers)"
    if rules.approve == "commander":
        if incident.commander is None:
            raise Refused(
                f"Only the incident commander approves, and {incident.ref} has "
                "none: take command first (`/incident commander me`)."
            )
        if by != incident.commander:
            raise Refused(
                f"Only the incident commander, {mention(incident.commander)}, "
                "approves playbook runs."
            )
        return "the incident commander"
    await require_may_change(ctx, incident, by)
    return "a member of the incident channel (playbooks.approve: channel_members)"


async def may_run(ctx: Context, incident: Incident, playbook: Playbook, by: str) -> str:
    """A playbook that runs without approval still changes production only at the hands
    of someone who could have approved it."""
    if playbook.changes_state:
        return await require_approver(ctx, incident, by)
    await require_may_change(ctx, incident, by)
    return "the playbook changes nothing"


@asynccontextmanager
async def decided(
    ctx: Context,
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
        decision.allowed, decision.reason = False, str(exc)
        await _audit(ctx, action, playbook, incident, by, decision)
        raise
    await _audit(ctx, action, playbook, incident, by, decision)


async def _audit(
    ctx: Context, action: str, playbook: str, incident: Incident, by: str, decision: Decision
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

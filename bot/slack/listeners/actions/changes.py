"""Buttons of "What changed": roll a change back (the rollback playbook with the change's
previous version, through the same request and approval as any run); end a canary or shadow."""

from __future__ import annotations

from typing import Any

from bot.changes import service
from bot.incidents.deploys import end_rollout
from bot.incidents.errors import Refused
from bot.slack.deps import Deps
from bot.slack.listeners.actions.clicks import number, on_click

CHANGE = "a change"


def _ids(value: str) -> tuple[int, int]:
    incident, _, change = value.partition(":")
    return number(incident, of=CHANGE), number(change, of=CHANGE)


async def _roll_back(deps: Deps, user: str, value: str) -> dict[str, Any] | None:
    incident_id, change_id = _ids(value)
    async with deps.ctx.reading() as session:
        change = await service.get(session=session, change_id=change_id)
    if change is None or not change.previous_version:
        raise Refused("That change has no previous version to roll back to.")
    await deps.runner.start(
        incident_id=incident_id,
        name=deps.ctx.config.changes.rollback_playbook,
        params={"service": change.service, "to_version": change.previous_version},
        by=user,
    )
    return None


async def _end_rollout(deps: Deps, user: str, value: str) -> dict[str, Any] | None:
    incident_id, change_id = _ids(value)
    await end_rollout(deps.ctx, incident_id=incident_id, change_id=change_id, by=user)
    return None


roll_back = on_click("rolling back the change", _roll_back)
end = on_click("ending the rollout", _end_rollout)

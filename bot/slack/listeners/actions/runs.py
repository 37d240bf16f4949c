"""Buttons of playbook runs: approve or reject a run; start or dry-run one from the list."""

from __future__ import annotations

from typing import Any

from bot.slack.deps import Deps
from bot.slack.listeners.actions.clicks import number, on_click

RUN = "a playbook run"


async def _approve(deps: Deps, user: str, value: str) -> dict[str, Any] | None:
    run_id = number(value, of=RUN)
    await deps.runner.approve(run_id=run_id, by=user)
    await deps.runner.execute(run_id)
    return None


async def _reject(deps: Deps, user: str, value: str) -> dict[str, Any] | None:
    await deps.runner.reject(run_id=number(value, of=RUN), by=user)
    return None


async def _run(deps: Deps, user: str, value: str) -> dict[str, Any] | None:
    incident, _, name = value.partition(":")
    await deps.runner.start(incident_id=number(incident), name=name, params={}, by=user)
    return None


async def _dry_run(deps: Deps, user: str, value: str) -> dict[str, Any] | None:
    incident, _, name = value.partition(":")
    await deps.runner.start(
        incident_id=number(incident), name=name, params={}, by=user, dry_run=True
    )
    return None


approve = on_click("approving the run", _approve)
reject = on_click("rejecting the run", _reject)
start = on_click("starting the playbook", _run)
dry_run = on_click("starting a dry run", _dry_run)

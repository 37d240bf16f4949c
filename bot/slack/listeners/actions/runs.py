"""Buttons of playbook runs: approve or reject a run; start or dry-run one from the list."""

from __future__ import annotations

from typing import Any

from bot.incidents.errors import Refused
from bot.playbooks.runs import RunStatus
from bot.slack.deps import deps_of
from bot.slack.listeners.commands.base import Ack
from bot.slack.listeners.reply import Respond, reporting


def _value(action: dict[str, Any]) -> str:
    return str(action.get("value") or "")


async def approve(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
) -> None:
    await ack()
    deps = deps_of(context)
    async with reporting(respond, what="approving the run"):
        run_id = _number(_value(action))
        await deps.runner.approve(run_id=run_id, by=body["user"]["id"])
        await deps.runner.execute(run_id)


async def reject(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
) -> None:
    await ack()
    async with reporting(respond, what="rejecting the run"):
        await deps_of(context).runner.reject(run_id=_number(_value(action)), by=body["user"]["id"])


async def start(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
) -> None:
    await _request(ack, body, action, respond, context, dry_run=False)


async def dry_run(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
) -> None:
    await _request(ack, body, action, respond, context, dry_run=True)


async def _request(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Respond,
    context: Any,
    *,
    dry_run: bool,
) -> None:
    await ack()
    runner = deps_of(context).runner
    async with reporting(respond, what="starting the playbook"):
        incident, _, name = _value(action).partition(":")
        run = await runner.request(
            incident_id=_number(incident),
            name=name,
            params={},
            by=body["user"]["id"],
            dry_run=dry_run,
        )
        if run.status == RunStatus.RUNNING:
            await runner.execute(run.id)


def _number(text: str) -> int:
    if not text.isdigit():
        raise Refused("This button does not belong to a playbook run.")
    return int(text)

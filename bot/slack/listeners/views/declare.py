"""The declare modal was submitted: check it, answer with field errors or open the incident."""

from __future__ import annotations

import logging
from typing import Any

from bot.incidents import flows
from bot.slack.blocks.declare import read_declaration
from bot.slack.deps import deps_of
from bot.slack.listeners.commands.base import Ack

log = logging.getLogger(__name__)


async def declare_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: Any
) -> None:
    deps = deps_of(context)
    answers, errors = read_declaration(view, deps.ctx.config)
    if answers is None:
        await ack(response_action="errors", errors=errors)
        return
    await ack()
    incident = await flows.declare(
        ctx=deps.ctx,
        title=answers.title,
        declared_by=body["user"]["id"],
        service_name=answers.service,
        severity=answers.severity,
        description=answers.description,
    )
    deps.background.spawn(
        flows.open_in_chat(ctx=deps.ctx, incident_id=incident.id), name=f"{incident.ref}-open"
    )

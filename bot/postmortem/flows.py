"""Writing an incident's postmortem draft from what actually happened, into the postmortems
folder, and telling the channel where it is."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from bot.budget.ledger import budget_of
from bot.context import Context
from bot.incidents import service
from bot.incidents.errors import NotFound
from bot.incidents.models import format_ref
from bot.incidents.naming import slugify
from bot.playbooks.runs import PlaybookRun, StepRun
from bot.postmortem.facts import facts_from
from bot.postmortem.render import render


async def draft(ctx: Context, *, incident_id: int) -> str:
    """The Markdown draft, rendered now (nothing is written)."""
    return (await _draft(ctx, incident_id=incident_id))[1]


async def _draft(ctx: Context, *, incident_id: int) -> tuple[str, str]:
    """(file name, Markdown)."""
    async with ctx.sessions() as session:
        incident = await service.get(session=session, incident_id=incident_id, full=True)
        if incident is None:
            raise NotFound(f"There is no {format_ref(incident_id)}.")
        runs = list(
            await session.scalars(
                select(PlaybookRun)
                .where(PlaybookRun.incident_id == incident_id)
                .order_by(PlaybookRun.id)
            )
        )
        steps = list(
            await session.scalars(
                select(StepRun)
                .where(StepRun.run_id.in_([r.id for r in runs]))
                .order_by(StepRun.run_id, StepRun.phase, StepRun.position)
            )
        )
    budget = await budget_of(ctx, service=incident.service, incident_id=incident.id)
    facts = facts_from(
        incident=incident,
        alerts=incident.alerts,
        timeline=incident.timeline,
        runs=runs,
        steps=steps,
        budget=budget.report if budget else None,
        slo=budget.slo if budget else None,
    )
    slug = slugify(incident.title)
    name = f"{incident.ref}-{slug}.md" if slug else f"{incident.ref}.md"
    return name, render(facts=facts, template=ctx.config.postmortem.template)


async def write(ctx: Context, *, incident_id: int) -> Path:
    """Render and save `<postmortem.folder>/INC-7-<slug>.md` (replacing an earlier draft)."""
    name, text = await _draft(ctx, incident_id=incident_id)
    folder = ctx.config.postmortem.folder
    path = folder / name

    def save() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    await asyncio.to_thread(save)  # file I/O off the event loop
    return path


async def publish(ctx: Context, *, incident_id: int) -> Path:
    """Write the draft and share it in the incident's channel (Slack's file upload)."""
    path = await write(ctx, incident_id=incident_id)
    async with ctx.sessions() as session:
        incident = await service.get(session=session, incident_id=incident_id)
    if incident is not None and incident.channel_id:
        content = await asyncio.to_thread(path.read_bytes)
        await ctx.chat.share_file(
            channel=incident.channel_id,
            filename=path.name,
            title=f"{incident.ref} postmortem (draft)",
            content=content,
            comment=(
                f":page_facing_up: Postmortem draft of {incident.ref}, from what happened "
                f"(also `{path}`). Fill in the contributing factors and action items "
                "together, blamelessly."
            ),
        )
    return path

"""Writing an incident's postmortem draft from what actually happened, into the postmortems
folder, and telling the channel where it is."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from bot.budget.account import BudgetReport, account
from bot.budget.burn import burn_down
from bot.budget.impact import Impact
from bot.incidents import service
from bot.incidents.errors import NotFound
from bot.incidents.events import IncidentResolved
from bot.incidents.ledger import ServiceBudget, budget_of
from bot.incidents.models import Incident
from bot.incidents.moments import EntryRow, RunRow, moments_of
from bot.incidents.naming import slugify
from bot.incidents.reading import load
from bot.incidents.timeline import entries_of
from bot.incidents.unit_of_work import tell
from bot.mrkdwn import escape
from bot.playbooks.runs import of_incident as runs_of
from bot.postmortem.charge import charged, impact_stated
from bot.postmortem.facts import Facts, facts_from, people_in
from bot.postmortem.graphs import saved_alert_graph
from bot.postmortem.ports import Directory, PostmortemContext, Upload
from bot.postmortem.render import render
from bot.refs import format_ref

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True, slots=True)
class Draft:
    name: str  # INC-7-<slug>.md
    markdown: str
    chart_name: str | None = None  # INC-7-<slug>-budget.png, linked from the Markdown
    chart: bytes | None = None  # the PNG itself; None when the service has no SLO

    def files(self) -> list[tuple[str, bytes]]:
        out = [(self.name, self.markdown.encode())]
        if self.chart_name and self.chart:
            out.append((self.chart_name, self.chart))
        return out


async def draft(ctx: PostmortemContext, *, incident_id: int) -> str:
    """The Markdown draft, rendered now (nothing is written)."""
    return (await _draft(ctx, incident_id=incident_id)).markdown


async def _draft(ctx: PostmortemContext, *, incident_id: int) -> Draft:
    async with ctx.reading() as session:
        incident = await service.get(session=session, incident_id=incident_id, alerts=True)
        if incident is None:
            raise NotFound(f"There is no {format_ref(incident_id)}.")
        entries = await entries_of(session=session, incident_id=incident_id)
        runs, steps = await runs_of(session=session, incident_id=incident_id)
    start, end = burn_span(incident, now=ctx.clock())
    budget = await budget_of(ctx, service=incident.service, incident_id=incident.id, since=start)
    names = await names_of(ctx, user_ids=people_in(incident=incident, timeline=entries, runs=runs))

    folder = ctx.config.postmortem.folder

    def compose() -> Draft:
        report: BudgetReport | None = None
        impacts: tuple[Impact, ...] = ()
        if budget:
            report, impacts = charged_budget(budget, incident=incident, timeline=entries, runs=runs)
        facts = facts_from(
            incident=incident,
            alerts=incident.alerts,
            timeline=entries,
            runs=runs,
            steps=steps,
            budget=report,
            slo=budget.slo if budget else None,
            burn=burn_down(slo=budget.slo, impacts=impacts, start=start, end=end) if budget else (),
            names=names,
        )
        slug = slugify(incident.title)
        stem = f"{incident.ref}-{slug}" if slug else incident.ref
        graph = saved_alert_graph(folder, ref=incident.ref, title=incident.title)
        facts = replace(facts, alert_graph=graph)
        if facts.budget is None:
            return Draft(name=f"{stem}.md", markdown=_render(ctx, facts))
        facts = replace(facts, chart=f"{stem}-budget.png")
        return Draft(
            name=f"{stem}.md",
            markdown=_render(ctx, facts),
            chart_name=facts.chart,
            chart=chart_of(facts),
        )

    # Facts, template and chart are CPU work (a long timeline takes a while): in a thread, so
    # the event loop goes on answering health checks, webhooks and Slack meanwhile. What it
    # reads was loaded above; nothing in it touches the database.
    return await asyncio.to_thread(compose)


async def names_of(ctx: PostmortemContext, *, user_ids: Iterable[str]) -> Mapping[str, str]:
    """People's display names, when the chat can look them up (the Directory port); without
    them the postmortem shows @U123."""
    if not isinstance(ctx.chat, Directory):
        return {}
    return await ctx.chat.names(user_ids)


def charged_budget(
    budget: ServiceBudget,
    *,
    incident: Incident,
    timeline: Iterable[EntryRow],
    runs: Iterable[RunRow],
) -> tuple[BudgetReport, tuple[Impact, ...]]:
    """The service's budget report and impacts, with this incident's alert time counted from
    impact start to mitigation only, so its bad time agrees with its impact duration
    (bot.postmortem.charge). `incident` with its alerts loaded."""
    moments = moments_of(incident=incident, alerts=incident.alerts, timeline=timeline, runs=runs)
    impacts = charged(
        budget.impacts,
        incident_id=incident.id,
        moments=moments,
        stated=impact_stated(incident),
        now=budget.report.now,
    )
    report = account(
        slo=budget.slo, impacts=impacts, now=budget.report.now, incident_id=incident.id
    )
    return report, impacts


def _render(ctx: PostmortemContext, facts: Facts) -> str:
    return render(facts=facts, template=ctx.config.postmortem.template)


def burn_span(incident: Incident, *, now: datetime) -> tuple[datetime, datetime]:
    """From a little before impact began to a little after it was resolved (or now)."""
    moments = [incident.impact_started_at, incident.detected_at]
    moments += [alert.starts_at for alert in incident.alerts]
    begin = min(m for m in moments if m is not None)
    finish = min(incident.resolved_at or now, now)
    margin = max((finish - begin) / 10, timedelta(minutes=1))
    return begin - margin, min(finish + margin, now)


def chart_of(facts: Facts) -> bytes | None:
    """The burn-down PNG, marked with the incident's milestones."""
    b = facts.budget
    if b is None or len(b.burn) < 2:
        return None
    # Here, not at the top: it imports matplotlib, which the bot need not load until it draws.
    from bot.postmortem.chart import Marker, burn_down_png

    target = "the SLO" if b.slo_target is None else f"{b.slo_target:g}%"
    m = facts.milestones
    markers = [
        Marker(label=label, at=at)
        for label, at in (
            ("impact", m.impact_started),
            ("detected", m.detected),
            ("mitigated", m.mitigated),
            ("resolved", m.resolved),
        )
        if at is not None
    ]
    return burn_down_png(
        title=f"{facts.ref}: error budget left ({target}, {_days(b.slo_window)} window)",
        points=b.burn,
        budget=b.budget,
        markers=markers,
    )


def _days(window: timedelta) -> str:
    return f"{window.days}d" if window == timedelta(days=window.days) else str(window)


async def write(ctx: PostmortemContext, *, incident_id: int) -> Path:
    """Render and save `<postmortem.folder>/INC-7-<slug>.md` and its burn-down chart beside it
    (replacing an earlier draft); the Markdown's path."""
    return (await _write(ctx, incident_id=incident_id))[0]


async def _write(ctx: PostmortemContext, *, incident_id: int) -> tuple[Path, Draft]:
    made = await _draft(ctx, incident_id=incident_id)
    folder = ctx.config.postmortem.folder

    def save() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in made.files():
            (folder / name).write_bytes(content)

    await asyncio.to_thread(save)  # file I/O off the event loop
    return folder / made.name, made


async def publish(ctx: PostmortemContext, *, incident_id: int) -> Path:
    """Write the draft and share it in the incident's channel (Slack's file upload)."""
    path, made = await _write(ctx, incident_id=incident_id)
    async with ctx.reading() as session:
        incident = await service.get(session=session, incident_id=incident_id)
    if incident is not None and incident.channel_id:
        titles = [f"{incident.ref} postmortem (draft)", f"{incident.ref} error budget burn-down"]
        await ctx.chat.share_files(
            channel=incident.channel_id,
            files=[
                Upload(filename=name, title=title, content=content)
                for (name, content), title in zip(made.files(), titles, strict=False)
            ],
            comment=(
                f":page_facing_up: Postmortem draft of {incident.ref}, from what happened "
                f"(also `{escape(path)}`). Fill in the contributing factors and action items "
                "together, blamelessly."
            ),
        )
    return path


async def on_resolved(ctx: PostmortemContext, event: IncidentResolved) -> None:
    """The draft is written as the incident resolves (unless the config says not to; a drill
    gets its report instead). The incident is resolved either way: a failure says why there is
    no draft."""
    if event.drill or not ctx.config.postmortem.on_resolve:
        return
    try:
        await publish(ctx, incident_id=event.incident_id)
    except Exception as exc:
        log.warning("postmortem of %s not written: %s", format_ref(event.incident_id), exc)
        incident = await load(ctx, incident_id=event.incident_id)
        await tell(
            ctx, incident, f":warning: The postmortem draft could not be written: {escape(exc)}"
        )

"""The alert's graph in the incident's channel: once the channel is set up, and again when all
its alerts have resolved, so the recovery shows.

What to draw comes from the incident's alerts (`plan_of`): a Prometheus alert's expression (its
generatorURL's g0.expr), queried from the service's Prometheus, the configured one, or the one
the link names; or a Grafana alert's image (its imageURL, kept as the `imageURL` annotation),
or the PromQL in its `promql` annotation, queried from a configured Prometheus. An alert with
none of these gets no graph and no word about it. A Prometheus that is slow or away costs the
time box (alerts.graph_timeout) and one line in the channel saying why there is no graph; it
never holds up the announcement, which is made before this runs (bot.followups).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from bot.alerts import service as alerts_service
from bot.alerts.sources.grafana import IMAGE_ANNOTATION
from bot.changes import service as changes_service
from bot.config import FirebreakConfig
from bot.context import Context
from bot.evidence import drawing
from bot.evidence.ports import Drawer, Evidence, EvidenceError, Series
from bot.evidence.promql import Query, base_url_of, expression_of, split_threshold
from bot.evidence.series import MAX_SERIES, shown_from
from bot.incidents import service
from bot.incidents.models import Incident
from bot.incidents.ports import Conversation
from bot.logs import incident_logs
from bot.mrkdwn import escape
from bot.postmortem.graphs import alert_graph_name
from bot.postmortem.ports import Files, Upload

log = logging.getLogger(__name__)

QUERY_ANNOTATION = "promql"  # a rule's own PromQL, for sources that do not send it (Grafana)
BEFORE = timedelta(hours=1)  # the graph starts this long before the alert did
POINTS = 500  # about as many points per series: step = window / POINTS, in whole seconds
# After the alert started, only when its sender's clock is ahead of ours: past now, Prometheus
# would draw each series' last value on into the future (its 5-minute lookback).
SKEW_WINDOW = timedelta(minutes=1)


class GraphChat(Conversation, Files, Protocol):
    pass


class GraphedAlert(Protocol):
    """What a graph reads of an alert occurrence (bot.alerts.service.Shown, or the ORM's)."""

    @property
    def id(self) -> int | None: ...
    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime | None: ...
    @property
    def generator_url(self) -> str | None: ...
    @property
    def annotations(self) -> dict[str, Any] | None: ...


GraphContext = Context[GraphChat]


@dataclass(frozen=True)
class QueryPlan:
    """Query `query.expr` from the Prometheus at `base_url`, around `alert`."""

    alert: GraphedAlert
    base_url: str
    query: Query


@dataclass(frozen=True)
class ImagePlan:
    """Post the image the alert source made of the alert (Grafana's imageURL)."""

    alert: GraphedAlert
    url: str


@dataclass(frozen=True)
class NoPlan:
    """The alert could be graphed but is missing something; `reason` says what."""

    reason: str


Plan = QueryPlan | ImagePlan | NoPlan


def plan_of(
    alerts: Sequence[GraphedAlert],
    *,
    config: FirebreakConfig,
    service_name: str | None,
    recovered: bool = False,
) -> Plan | None:
    """What to graph for these alerts: the first (by start) that says how, or None when none
    does. A recovery is a query only (an image shows the moment it was taken)."""
    svc = config.service(service_name)
    configured = (svc.prometheus_url if svc else None) or config.alerts.prometheus_url
    missing: NoPlan | None = None
    for alert in sorted(alerts, key=lambda a: (a.starts_at, a.id or 0)):
        annotations = alert.annotations or {}
        image = annotations.get(IMAGE_ANNOTATION)
        if not recovered and isinstance(image, str) and image.startswith(("http://", "https://")):
            return ImagePlan(alert=alert, url=image)
        expr = expression_of(alert.generator_url)
        if expr is not None:
            assert alert.generator_url is not None
            base = configured or base_url_of(alert.generator_url)
            if base is None:
                missing = missing or NoPlan("the alert's generatorURL names no Prometheus")
                continue
            return QueryPlan(alert=alert, base_url=base, query=split_threshold(expr))
        promql = annotations.get(QUERY_ANNOTATION)
        if isinstance(promql, str) and promql.strip():
            if configured is None:
                missing = missing or NoPlan(
                    f"the alert's {QUERY_ANNOTATION} annotation needs a Prometheus to query: "
                    "set alerts.prometheus_url (or the service's prometheus_url)"
                )
                continue
            return QueryPlan(alert=alert, base_url=configured, query=split_threshold(promql))
    return missing


def step_for(start: datetime, end: datetime) -> timedelta:
    """About POINTS points over the window, in whole seconds (Prometheus's limit is 11,000)."""
    seconds = max((end - start).total_seconds(), 1.0)
    return timedelta(seconds=max(1, math.ceil(seconds / POINTS)))


async def post_graph(
    ctx: GraphContext,
    *,
    incident_id: int,
    evidence: Evidence,
    recovered: bool = False,
    drawer: Drawer | None = None,
) -> None:
    """Post the graph of the incident's alert in its channel (`recovered`: after all its alerts
    resolved, and only if none fires again meanwhile), or one line saying why there is none.
    `drawer`: where it is drawn (none: a thread of this process)."""
    if not ctx.config.alerts.graphs:
        return
    with incident_logs(incident_id):
        async with ctx.reading() as session:
            incident = await service.get(session=session, incident_id=incident_id)
            if incident is None or incident.channel_id is None or incident.drill:
                return  # a drill's alerts are replayed: Prometheus never saw them
            alerts = await alerts_service.of_incident(session=session, incident_id=incident_id)
        if recovered and any(a.status == "firing" for a in alerts):
            return
        plan = plan_of(
            alerts, config=ctx.config, service_name=incident.service, recovered=recovered
        )
        if plan is None:
            return
        try:
            upload, comment = await _made(
                ctx, incident, alerts, plan, evidence, recovered=recovered, drawer=drawer
            )
        except EvidenceError as exc:
            await _no_graph(ctx, incident, str(exc), recovered=recovered)
            return
        await ctx.chat.share_files(channel=incident.channel_id, files=[upload], comment=comment)
        await _keep(ctx, incident, upload.content)


async def _made(
    ctx: GraphContext,
    incident: Incident,
    alerts: Sequence[GraphedAlert],
    plan: Plan,
    evidence: Evidence,
    *,
    recovered: bool,
    drawer: Drawer | None,
) -> tuple[Upload, str]:
    timeout = ctx.config.alerts.graph_timeout.total_seconds()
    name = incident.ref
    if isinstance(plan, NoPlan):
        raise EvidenceError(plan.reason)
    if isinstance(plan, ImagePlan):
        content = await evidence.fetch_image(url=plan.url, timeout=timeout)
        alert = plan.alert.name
        comment = f":chart_with_upwards_trend: The alert source's image of *{escape(alert)}*."
        upload = Upload(filename=f"{name}-alert.png", title=f"{name}: {alert}", content=content)
        return upload, comment
    started = plan.alert.starts_at
    now = ctx.clock()
    end = now if now > started else started + SKEW_WINDOW
    start = started - BEFORE
    changes = await _changes(ctx, incident, start=start, end=end)

    async def ranged(begin: datetime) -> list[Series]:
        return await evidence.query_range(
            base_url=plan.base_url,
            expr=plan.query.expr,
            start=begin,
            end=end,
            step=step_for(begin, end),
            timeout=timeout,
        )

    series = await ranged(start)
    begins = shown_from(start, end, series=series, moments=[started, *(at for at, _ in changes)])
    if step_for(begins, end) < step_for(start, end):
        # The data begins late in the hour (a new metric, a fresh Prometheus): asked again at
        # the finer step its own span allows, or its few minutes would be a point or two.
        start, series = begins, await ranged(begins)
    resolved = _resolved_at(alerts) if recovered else None
    title = f"{name}: {plan.alert.name}" + (" (recovered)" if recovered else "")
    draw = drawer.draw if drawer is not None else asyncio.to_thread
    content = await draw(
        drawing.alert_graph,
        title=title,
        query=plan.query,
        series=series,
        start=start,
        end=end,
        started=started,
        resolved=resolved,
        changes=changes,
    )
    shown = min(len(series), MAX_SERIES)
    more = f" ({shown} of {len(series)} series shown)" if len(series) > shown else ""
    lead = ":white_check_mark: Recovered: " if recovered else ":chart_with_upwards_trend: "
    comment = (
        f"{lead}`{escape(_one_line(plan.query.text))}` from an hour before "
        f"*{escape(plan.alert.name)}* started{more}."
    )
    filename = f"{name}-alert-recovered.png" if recovered else f"{name}-alert.png"
    return Upload(filename=filename, title=title, content=content), comment


async def _changes(
    ctx: GraphContext, incident: Incident, *, start: datetime, end: datetime
) -> list[tuple[datetime, str]]:
    """The changes to the incident's service in the window, oldest first, by version or kind."""
    if incident.service is None:
        return []
    async with ctx.reading() as session:
        found = await changes_service.since(
            session=session, services=[incident.service], start=start
        )
    return [(c.at, c.version or c.kind) for c in reversed(found) if c.at <= end]


def _resolved_at(alerts: Sequence[GraphedAlert]) -> datetime | None:
    ends = [a.ends_at for a in alerts if a.ends_at is not None]
    return max(ends) if ends else None


def _one_line(text: str) -> str:
    line = " ".join(text.split()).replace("`", "'")
    return line if len(line) <= 200 else line[:199] + "…"


async def _no_graph(ctx: GraphContext, incident: Incident, reason: str, *, recovered: bool) -> None:
    log.info("no graph for %s: %s", incident.ref, reason)
    what = "No recovery graph" if recovered else "No graph"
    assert incident.channel_id is not None
    await ctx.chat.say(
        channel=incident.channel_id, text=f":chart_with_downwards_trend: {what}: {escape(reason)}"
    )


async def _keep(ctx: GraphContext, incident: Incident, content: bytes) -> None:
    """A copy beside the postmortem (bot.postmortem.graphs), replacing the one before."""
    folder: Path = ctx.config.postmortem.folder
    path = folder / alert_graph_name(ref=incident.ref, title=incident.title)

    def save() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)

    try:
        await asyncio.to_thread(save)
    except OSError as exc:
        log.warning("alert graph of %s not kept in %s: %s", incident.ref, folder, exc)

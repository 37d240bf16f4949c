"""The short report a drill ends with: how long each role took to be claimed, when the
mitigation started and finished, and which expected steps were skipped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.drills.flows import STARTED
from bot.durations import format_duration
from bot.incidents import service
from bot.incidents.errors import NotFound
from bot.incidents.events import IncidentResolved
from bot.incidents.models import Incident, TimelineEntry
from bot.incidents.moments import moments_of
from bot.incidents.ports import IncidentContext
from bot.incidents.reading import load
from bot.incidents.unit_of_work import tell
from bot.mrkdwn import escape
from bot.playbooks.runs import PlaybookRun, RunStatus, StepStatus
from bot.playbooks.runs import of_incident as runs_of
from bot.refs import format_ref

MITIGATING = (RunStatus.RUNNING, RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.INTERRUPTED)


@dataclass(frozen=True)
class DrillReport:
    ref: str
    scenario: str
    lasted: timedelta
    commander: timedelta | None  # from the drill's start to a person in command
    scribe: timedelta | None
    mitigation: str | None  # the first playbook run that changed something
    mitigation_asked: timedelta | None
    mitigation_started: timedelta | None  # approved and running
    mitigation_finished: timedelta | None
    skipped: list[str]  # what the scenario expected and nobody did
    failed_steps: list[str]  # playbook steps that failed or were skipped
    requests: list[str]  # what the runs sent to the recording target


async def gather(ctx: IncidentContext, *, incident_id: int) -> DrillReport:
    async with ctx.reading() as session:
        incident = await service.get(session=session, incident_id=incident_id, full=True)
        if incident is None:
            raise NotFound(f"There is no {format_ref(incident_id)}.")
        runs, steps = await runs_of(session=session, incident_id=incident_id)
    start = incident.created_at
    entries = incident.timeline
    scribe = _first(entries, "role.scribe")
    mitigating = [r for r in runs if r.changes_state and r.status in MITIGATING]
    first = mitigating[0] if mitigating else None
    # When the commander took the incident is one of its moments, defined once (the stored
    # stamp alone misses a commander who acted without pressing Acknowledge).
    acknowledged = moments_of(incident=incident, timeline=entries, runs=runs).acknowledged
    return DrillReport(
        ref=incident.ref,
        scenario=_scenario(entries),
        lasted=(incident.resolved_at or ctx.clock()) - start,
        commander=_since(start, acknowledged),
        scribe=_since(start, scribe.at if scribe else None),
        mitigation=first.playbook if first else None,
        mitigation_asked=_since(start, first.created_at if first else None),
        mitigation_started=_since(start, first.started_at if first else None),
        mitigation_finished=_since(start, first.finished_at if first else None),
        skipped=[
            e for e in _expected(entries) if not _done(e, incident, entries, runs, acknowledged)
        ],
        failed_steps=[
            f"{run.playbook}: {s.name} ({s.status})"
            for run in runs
            for s in steps
            if s.run_id == run.id and s.status in (StepStatus.FAILED, StepStatus.SKIPPED)
        ],
        requests=[r for s in steps for r in (s.requests or []) if "drill://" in str(r)],
    )


def text(report: DrillReport) -> str:
    """mrkdwn: scenario, playbook and step names and recorded requests escaped."""

    def at(value: timedelta | None) -> str:
        return f"{format_duration(_whole(value))} after the start" if value is not None else "—"

    mitigation = (
        f"`{escape(report.mitigation)}` asked {at(report.mitigation_asked)}, started "
        f"{at(report.mitigation_started)}, finished {at(report.mitigation_finished)}"
        if report.mitigation
        else "no mitigation ran"
    )
    lines = [
        f":performing_arts: *DRILL report — {report.ref}* (scenario `{escape(report.scenario)}`, "
        f"{format_duration(_whole(report.lasted))})",
        f"• Commander claimed: {at(report.commander)}",
        f"• Scribe claimed: {at(report.scribe)}",
        f"• Mitigation: {mitigation}",
        "• Steps skipped: " + (escape(", ".join(report.skipped)) if report.skipped else "none"),
    ]
    if report.failed_steps:
        lines.append(
            "• Playbook steps that did not succeed: " + escape(", ".join(report.failed_steps))
        )
    lines.append(
        f"• Requests recorded, not sent: {len(report.requests)}"
        + (f" (first: `{escape(report.requests[0])}`)" if report.requests else "")
    )
    lines.append("Drills are left out of error budgets and `firebreak report`.")
    return "\n".join(lines)


def _first(entries: list[TimelineEntry], kind: str) -> TimelineEntry | None:
    return next((e for e in entries if e.kind == kind), None)


def _since(start: datetime, moment: datetime | None) -> timedelta | None:
    return moment - start if moment is not None else None


def _whole(delta: timedelta) -> timedelta:
    return timedelta(seconds=round(delta.total_seconds()))


def _scenario(entries: list[TimelineEntry]) -> str:
    started = _first(entries, STARTED)
    return str((started.data or {}).get("scenario", "?")) if started else "?"


def _expected(entries: list[TimelineEntry]) -> list[str]:
    started = _first(entries, STARTED)
    return [str(e) for e in (started.data or {}).get("expect", [])] if started else []


def _done(
    expected: str,
    incident: Incident,
    entries: list[TimelineEntry],
    runs: list[PlaybookRun],
    acknowledged: datetime | None,
) -> bool:
    kind, _, arg = expected.partition(":")
    if kind == "commander":
        return acknowledged is not None
    if kind == "scribe":
        return _first(entries, "role.scribe") is not None
    if kind == "update":
        return _first(entries, "status.update") is not None
    if kind == "playbook":
        return any(r.playbook == arg and r.status == RunStatus.SUCCEEDED for r in runs)
    if arg == "resolved":
        return incident.resolved_at is not None
    return any(e.kind == "status.changed" and (e.data or {}).get("status") == arg for e in entries)


async def on_resolved(ctx: IncidentContext, event: IncidentResolved) -> None:
    """A drill ends with its report in its channel, instead of a postmortem."""
    if event.drill:
        incident = await load(ctx, incident_id=event.incident_id)
        await tell(ctx, incident, text(await gather(ctx, incident_id=event.incident_id)))

"""Everything a postmortem is rendered from, as plain frozen values.

`facts_from` reads the stored incident (and its alerts, timeline, playbook runs and error budget)
once; rendering then needs no database and no ORM object, so it is pure and easy to test.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from bot.budget.burn import BurnPoint
from bot.people import check_user_id
from bot.postmortem.measures import Measure, Milestones, measure, standard_measures
from bot.postmortem.sources import (
    AlertLike,
    BudgetLike,
    EntryLike,
    IncidentLike,
    RunLike,
    SloLike,
    StepLike,
)

# The example error-budget policy: one incident spending more than this share of the window's
# budget calls for a postmortem with at least one priority action item.
PRIORITY_ACTION_THRESHOLD = 0.20

_NO_NAMES: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, kw_only=True, slots=True)
class EntryFacts:
    """One timeline line."""

    at: datetime
    kind: str
    text: str
    actor: str | None = None
    link: str | None = None
    owner: str | None = None  # action items (kind "action"): who does it,
    action_type: str | None = None  # mitigate / prevent / process,
    due: str | None = None  # and by when


@dataclass(frozen=True, kw_only=True, slots=True)
class AlertFacts:
    name: str
    status: str
    severity: str
    starts_at: datetime
    ends_at: datetime | None = None
    labels: Mapping[str, Any] = field(default_factory=lambda: _NO_NAMES)
    link: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class StepFacts:
    name: str
    phase: str  # "main", or "compensate-<i>" for the steps that undo a failed run
    action: str
    status: str
    attempts: int = 1
    duration: timedelta | None = None
    response_status: int | None = None  # the last HTTP status the step saw
    error: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RunFacts:
    playbook: str
    status: str
    requested_by: str
    approved_by: str | None = None
    service: str | None = None
    error: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    steps: tuple[StepFacts, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class BudgetFacts:
    """The service's error budget over its SLO window, and this incident's share of it."""

    slo_target: float | None  # a percentage, 99.9; None when only the report was given
    slo_window: timedelta
    method: str | None  # "time" or "requests"
    budget: timedelta  # minutes of full outage the window allows
    budget_requests: int | None  # the same budget as failed requests, when traffic is known
    consumed: timedelta  # bad minutes charged to this incident
    window_consumed: timedelta  # by every incident in the window, this one included
    remaining: timedelta  # of the window's budget; negative once overspent
    window_start: datetime
    window_end: datetime
    burn: tuple[BurnPoint, ...] = ()  # the budget left over the incident's span, for the chart

    @property
    def fraction(self) -> float:
        """This incident's share of the window's budget (0.23 is 23%)."""
        if self.budget <= timedelta(0):
            return 0.0
        return self.consumed / self.budget

    @property
    def overspent(self) -> bool:
        return self.remaining < timedelta(0)


@dataclass(frozen=True, kw_only=True, slots=True)
class Facts:
    incident_id: int
    ref: str
    title: str
    service: str | None
    severity: str
    status: str
    source: str  # where the incident came from: an alert source, or "slack" when declared
    summary: str | None = None
    description: str | None = None
    source_url: str | None = None
    runbook_url: str | None = None
    declared_by: str | None = None
    commander: str | None = None
    scribe: str | None = None
    responders: tuple[str, ...] = ()  # people who acted on the timeline, by first action
    milestones: Milestones
    timeline: tuple[EntryFacts, ...] = ()  # in time order
    alerts: tuple[AlertFacts, ...] = ()  # by start
    runs: tuple[RunFacts, ...] = ()  # by creation
    budget: BudgetFacts | None = None
    users_affected: int | None = None  # not measured by Firebreak: None unless someone says
    requests_affected: int | None = None
    names: Mapping[str, str] = field(default_factory=lambda: _NO_NAMES)  # user ID → name
    postmortem_status: str = "draft"
    chart: str | None = None  # the burn-down image's file name, beside the document

    @property
    def time_to_detect(self) -> timedelta | None:
        return self._measure("Time to detect", "impact_started", "detected").value

    @property
    def time_to_acknowledge(self) -> timedelta | None:
        return self._measure("Time to acknowledge", "detected", "acknowledged").value

    @property
    def time_to_mitigate(self) -> timedelta | None:
        return self._measure("Time to mitigate", "impact_started", "mitigated").value

    @property
    def time_to_resolve(self) -> timedelta | None:
        return self._measure("Time to resolve", "detected", "resolved").value

    @property
    def measures(self) -> tuple[Measure, ...]:
        """Each time above with what it is measured from and to."""
        return standard_measures(milestones=self.milestones)

    @property
    def impact_duration(self) -> Measure:
        """From impact start (or detection, when no alert says when impact began) to mitigation."""
        start = "impact_started" if self.milestones.impact_started else "detected"
        return self._measure("Impact duration", start, "mitigated")

    @property
    def actions(self) -> tuple[EntryFacts, ...]:
        """Action items collected during the incident (`/incident action`)."""
        return tuple(e for e in self.timeline if e.kind == "action")

    @property
    def needs_priority_action(self) -> bool:
        """The error-budget policy asks for a priority action item above 20% of the budget."""
        return self.budget is not None and self.budget.fraction > PRIORITY_ACTION_THRESHOLD

    @property
    def other_responders(self) -> tuple[str, ...]:
        roles = {self.commander, self.scribe}
        return tuple(r for r in self.responders if r not in roles)

    @property
    def first_alert(self) -> AlertFacts | None:
        return self.alerts[0] if self.alerts else None

    @property
    def lead_in(self) -> AlertFacts | None:
        """The first alert, when the timeline itself starts after impact began.

        The timeline should open before the incident did, so readers see what was known then.
        """
        first = self.first_alert
        if first is None or (self.timeline and self.timeline[0].at <= first.starts_at):
            return None
        return first

    def _measure(self, name: str, start: str, end: str) -> Measure:
        return measure(milestones=self.milestones, name=name, start=start, end=end)


def facts_from(
    *,
    incident: IncidentLike,
    alerts: Iterable[AlertLike],
    timeline: Iterable[EntryLike],
    runs: Iterable[RunLike],
    steps: Iterable[StepLike],
    budget: BudgetLike | None = None,
    slo: SloLike | None = None,
    burn: Iterable[BurnPoint] = (),
    names: Mapping[str, str] | None = None,
) -> Facts:
    """The facts of one incident, from its stored records.

    `budget` is the service's BudgetReport over the SLO window (ideally made for this incident's
    id); `burn` is the budget left over the incident's span; `names` maps Slack user IDs to
    display names for the rendered text.
    """
    alert_facts = tuple(sorted((_alert(a) for a in alerts), key=lambda a: a.starts_at))
    entries = tuple(
        sorted(
            (
                EntryFacts(
                    at=e.at,
                    kind=e.kind,
                    text=e.text,
                    actor=e.actor,
                    link=e.link,
                    **_action_fields(getattr(e, "data", None)),
                )
                for e in timeline
            ),
            key=lambda e: e.at,  # stable: entries at the same moment keep their given order
        )
    )
    milestones = Milestones(
        impact_started=getattr(incident, "impact_started_at", None)
        or (alert_facts[0].starts_at if alert_facts else None),
        detected=incident.detected_at,
        acknowledged=incident.acknowledged_at,
        mitigated=incident.mitigated_at,
        resolved=incident.resolved_at,
    )
    return Facts(
        incident_id=incident.id,
        ref=incident.ref,
        title=incident.title,
        service=incident.service,
        severity=str(incident.severity),
        status=str(incident.status),
        source=incident.source,
        summary=incident.summary,
        description=incident.description,
        source_url=incident.source_url,
        runbook_url=incident.runbook_url,
        declared_by=incident.declared_by,
        commander=incident.commander,
        scribe=incident.scribe,
        responders=responders_of(entries=entries),
        milestones=milestones,
        timeline=entries,
        alerts=alert_facts,
        runs=_runs(runs, steps),
        budget=None
        if budget is None
        else _budget(budget, slo=slo, incident_id=incident.id, burn=tuple(burn)),
        names=MappingProxyType(dict(names)) if names else _NO_NAMES,
    )


def responders_of(*, entries: Iterable[EntryFacts]) -> tuple[str, ...]:
    """The people (Slack user IDs) who acted, each once, in order of their first action.

    Actors that are not people (the bot itself, an alert source) are left out.
    """
    seen: set[str] = set()
    people: list[str] = []
    for entry in entries:
        actor = entry.actor
        if actor is None or actor in seen:
            continue
        seen.add(actor)
        if _is_person(actor):
            people.append(actor)
    return tuple(people)


def _is_person(actor: str) -> bool:
    try:
        check_user_id(actor)
    except ValueError:
        return False
    return True


def _alert(alert: AlertLike) -> AlertFacts:
    return AlertFacts(
        name=alert.name,
        status=str(alert.status),
        severity=str(alert.severity),
        starts_at=alert.starts_at,
        ends_at=alert.ends_at,
        labels=MappingProxyType(dict(alert.labels or {})),
        link=alert.generator_url,
    )


def _runs(runs: Iterable[RunLike], steps: Iterable[StepLike]) -> tuple[RunFacts, ...]:
    by_run: dict[int, list[StepLike]] = {}
    for step in steps:
        by_run.setdefault(step.run_id, []).append(step)
    ordered = sorted(runs, key=lambda r: (r.created_at, r.id))
    return tuple(
        RunFacts(
            playbook=run.playbook,
            status=str(run.status),
            requested_by=run.requested_by,
            approved_by=run.approved_by,
            service=run.service,
            error=run.error,
            created_at=run.created_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
            steps=tuple(
                _step(s)
                for s in sorted(by_run.get(run.id, ()), key=lambda s: (s.started_at, s.position))
            ),
        )
        for run in ordered
    )


def _step(step: StepLike) -> StepFacts:
    return StepFacts(
        name=step.name,
        phase=step.phase,
        action=step.action,
        status=str(step.status),
        attempts=step.attempts,
        duration=None if step.duration_ms is None else timedelta(milliseconds=step.duration_ms),
        response_status=step.response_status,
        error=step.error,
    )


def _budget(
    report: BudgetLike, *, slo: SloLike | None, incident_id: int, burn: tuple[BurnPoint, ...]
) -> BudgetFacts:
    if report.incident_consumed is not None and report.incident_id == incident_id:
        consumed = report.incident_consumed
    else:
        consumed = report.per_incident.get(incident_id, timedelta(0))
    return BudgetFacts(
        slo_target=None if slo is None else slo.target,
        slo_window=report.now - report.window_start if slo is None else slo.window,
        method=None if slo is None else slo.method,
        budget=report.budget,
        budget_requests=None if slo is None else slo.budget_requests,
        consumed=consumed,
        window_consumed=report.consumed,
        remaining=report.remaining,
        window_start=report.window_start,
        window_end=report.now,
        burn=burn,
    )


def _action_fields(data: Mapping[str, Any] | None) -> dict[str, str | None]:
    data = data or {}
    return {
        key: (str(data[key]) if data.get(key) else None) for key in ("owner", "action_type", "due")
    }

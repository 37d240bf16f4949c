"""Everything a postmortem is rendered from, as plain frozen values.

`facts_from` reads the stored incident (and its alerts, timeline, playbook runs and error budget)
once; rendering then needs no database and no ORM object, so it is pure and easy to test.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from bot.budget.burn import BurnPoint
from bot.incidents.moments import moments_of
from bot.people import check_user_id
from bot.postmortem.charge import impact_stated
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

# Timeline kinds the postmortem leaves out: every command typed (help, typos, refusals too).
LEFT_OUT = frozenset({"command"})

# The example error-budget policy: one incident spending more than this share of the window's
# budget calls for a postmortem with at least one priority action item.
PRIORITY_ACTION_THRESHOLD = 0.20

_NO_NAMES: Mapping[str, str] = MappingProxyType({})
# A Slack mention in stored text, <@U123> or <@U123|name>, as bot.postmortem.filters reads it.
_MENTIONED = re.compile(r"<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>")


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
    id: int  # the run's number as the channel shows it: "run #3"
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

    @property
    def dry_run(self) -> bool:
        """A rehearsal: planned and shown, nothing sent."""
        return self.status == "dry_run"


@dataclass(frozen=True, kw_only=True, slots=True)
class BudgetFacts:
    """The service's error budget over its SLO window, and this incident's share of it."""

    slo_target: float | None  # a percentage, 99.9; None when only the report was given
    slo_window: timedelta
    method: str | None  # "time" or "requests"
    budget: timedelta  # minutes of full outage the window allows
    budget_requests: int | None  # the same budget as failed requests, when traffic is known
    consumed: timedelta  # bad minutes charged to this incident (see `stated`)
    window_consumed: timedelta  # by every incident in the window, this one included
    remaining: timedelta  # of the window's budget; negative once overspent
    window_start: datetime
    window_end: datetime
    burn: tuple[BurnPoint, ...] = ()  # the budget left over the incident's span, for the chart
    # True: the impact responders stated (`/incident impact`); False: the alerts' firing time at
    # full impact, counted only from impact start to mitigation (bot.postmortem.charge).
    stated: bool = False

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
    # In time order: what a reviewer needs. Typed commands (`command` entries) are left out;
    # they stay on the stored timeline and in the API.
    timeline: tuple[EntryFacts, ...] = ()
    alerts: tuple[AlertFacts, ...] = ()  # by start
    runs: tuple[RunFacts, ...] = ()  # by creation
    budget: BudgetFacts | None = None
    users_affected: int | None = None  # not measured by Firebreak: None unless someone says
    requests_affected: int | None = None
    names: Mapping[str, str] = field(default_factory=lambda: _NO_NAMES)  # user ID → name
    postmortem_status: str = "draft"
    chart: str | None = None  # the burn-down image's file name, beside the document
    alert_graph: str | None = None  # the alert's graph as last posted, beside the document

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
        """From impact start to mitigation (bot.incidents.moments defines both)."""
        return self._measure("Impact duration", "impact_started", "mitigated")

    @property
    def rehearsals(self) -> tuple[RunFacts, ...]:
        """Dry runs: shown, not run."""
        return tuple(r for r in self.runs if r.dry_run)

    @property
    def real_runs(self) -> tuple[RunFacts, ...]:
        return tuple(r for r in self.runs if not r.dry_run)

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
    alerts = list(alerts)
    timeline = list(timeline)
    runs = list(runs)
    alert_facts = tuple(sorted((_alert(a) for a in alerts), key=lambda a: a.starts_at))
    entries = tuple(
        sorted(
            (
                EntryFacts(
                    at=e.at,
                    kind=e.kind,
                    text=_entry_text(e),
                    actor=e.actor,
                    link=e.link,
                    **_action_fields(getattr(e, "data", None)),
                )
                for e in timeline
                if e.kind not in LEFT_OUT
            ),
            key=lambda e: e.at,  # stable: entries at the same moment keep their given order
        )
    )
    milestones = Milestones.of(
        moments_of(incident=incident, alerts=alerts, timeline=timeline, runs=runs)
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
        else _budget(
            budget,
            slo=slo,
            incident_id=incident.id,
            burn=tuple(burn),
            stated=impact_stated(incident),
        ),
        names=MappingProxyType(dict(names)) if names else _NO_NAMES,
    )


def people_in(
    *, incident: IncidentLike, timeline: Iterable[EntryLike], runs: Iterable[RunLike]
) -> tuple[str, ...]:
    """Everyone (Slack user IDs) the postmortem may name, each once: the roles, whoever acted
    or owns an action item, who asked for and approved a run, and <@U…> mentions in texts.

    Read from the stored records, before the facts are made, so their names can be looked up
    first and handed to `facts_from`.
    """
    found: dict[str, None] = {}  # ordered, without repeats

    def add(*values: object) -> None:
        for value in values:
            if not isinstance(value, str):
                continue
            if _is_person(value):
                found[value] = None
            elif "<@" in value:
                found.update(dict.fromkeys(_MENTIONED.findall(value)))

    add(incident.commander, incident.scribe, incident.declared_by)
    add(incident.title, incident.summary, incident.description)
    for entry in timeline:
        if entry.kind not in LEFT_OUT:
            add(entry.actor, entry.text, (getattr(entry, "data", None) or {}).get("owner"))
    for run in runs:
        add(run.requested_by, run.approved_by, run.error)
    return tuple(found)


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
            id=run.id,
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
    report: BudgetLike,
    *,
    slo: SloLike | None,
    incident_id: int,
    burn: tuple[BurnPoint, ...],
    stated: bool,
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
        stated=stated,
    )


def _action_fields(data: Mapping[str, Any] | None) -> dict[str, str | None]:
    data = data or {}
    return {
        key: (str(data[key]) if data.get(key) else None) for key in ("owner", "action_type", "due")
    }


def _entry_text(entry: EntryLike) -> str:
    """The entry's text, with the request bodies of a playbook step as JSON."""
    data = getattr(entry, "data", None) or {}
    text = entry.text
    requests = data.get("requests") if entry.kind == "playbook.step" else None
    if not isinstance(requests, list):
        return text
    for shown in requests:
        if isinstance(shown, str) and shown in text:
            text = text.replace(shown, json_request(shown))
    return text


def json_request(shown: str) -> str:
    """`POST https://x/y {'to_version': None} [Idempotency-Key: k]` (a request as a playbook step
    shows it, its body a Python repr) with the body as JSON: `{"to_version": null}`."""
    parts = shown.split(" ", 2)
    if len(parts) < 3:
        return shown
    method, url, rest = parts
    cuts = [len(rest)] + [i for i in range(len(rest) - 1, 0, -1) if rest.startswith(" [", i)]
    for cut in cuts:
        try:
            body = ast.literal_eval(rest[:cut])
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if not isinstance(body, dict | list):
            return shown
        try:
            as_json = json.dumps(body, sort_keys=True)
        except (TypeError, ValueError):
            return shown
        return f"{method} {url} {as_json}{rest[cut:]}"
    return shown

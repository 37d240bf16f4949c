"""A realistic incident as the stores hold it (transient ORM objects: no database needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.alerts.models import AlertOccurrence
from bot.budget.account import account
from bot.budget.impact import Impact
from bot.budget.slo import Slo
from bot.incidents.models import Incident, TimelineEntry
from bot.playbooks.runs import PlaybookRun, StepRun

T0 = datetime(2026, 11, 27, 3, 0, 0, tzinfo=UTC)  # the first alert starts firing
ANA, BEN, CAI = "U0ANA0001", "U0BEN0002", "U0CAI0003"
NAMES = {ANA: "Ana Ortiz", BEN: "Ben Wu"}  # Cai has no known display name
SLO = Slo(target=99.9, window="30d")  # a budget of 43m 12s


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def incident(**changes: Any) -> Incident:
    values: dict[str, Any] = {
        "id": 7,
        "title": "search-ranker: CTR dropped 40%",
        "status": "resolved",
        "severity": "SEV2",
        "service": "search-ranker",
        "source": "alertmanager",
        "summary": "Click-through on search results fell after a model rollout.",
        "description": None,
        "source_url": None,
        "runbook_url": "https://runbooks.example.com/ranker",
        "declared_by": None,
        "commander": ANA,
        "scribe": BEN,
        "created_at": at(3),  # detected 3 minutes after impact began
        "updated_at": at(60),
        "acknowledged_at": at(5),
        "mitigated_at": at(21),
        "resolved_at": at(48),
    }
    values.update(changes)
    return Incident(**values)


def alert(name: str, starts: float, ends: float | None = None, **changes: Any) -> AlertOccurrence:
    values: dict[str, Any] = {
        "id": 1,
        "incident_id": 7,
        "source": "alertmanager",
        "fingerprint": name.lower(),
        "starts_at": at(starts),
        "ends_at": None if ends is None else at(ends),
        "status": "firing" if ends is None else "resolved",
        "name": name,
        "severity": "SEV2",
        "labels": {"service": "search-ranker"},
        "annotations": {},
        "generator_url": f"https://prometheus.example.com/graph?alert={name}",
        "received_at": at(starts),
    }
    values.update(changes)
    return AlertOccurrence(**values)


def entry(
    minutes: float,
    text: str,
    *,
    actor: str | None = None,
    link: str | None = None,
    kind: str = "message",
) -> TimelineEntry:
    return TimelineEntry(
        incident_id=7,
        at=at(minutes),
        kind=kind,
        text=text,
        actor=actor,
        link=link,
        data=None,
        recorded_at=at(minutes),
    )


def timeline() -> list[TimelineEntry]:
    """Deliberately not in time order: facts_from sorts it."""
    return [
        entry(3, "INC-7 opened from alertmanager", actor="alertmanager", kind="incident.opened"),
        entry(0, "Alert firing: RankerCTRDrop", actor="alertmanager", kind="alert.firing",
              link="https://prometheus.example.com/graph?alert=RankerCTRDrop"),
        entry(5, f"<@{ANA}> is now the incident commander", actor=ANA, kind="role.commander"),
        entry(9, "Ranker v42 went live at 02:55", actor=CAI,
              link="https://mlflow.example.com/models/ranker/42"),
        entry(12, "Rolling back to v41", actor=ANA),
        entry(14, "Playbook rollback succeeded", actor="firebreak", kind="playbook.finished"),
        entry(15, f"Asked <@{CAI}> to watch CTR", actor=BEN),
        entry(21, "Status: mitigated", actor=ANA, kind="status.changed"),
        entry(48, "Status: resolved", actor=ANA, kind="status.changed"),
    ]  # fmt: skip


def runs() -> list[PlaybookRun]:
    return [
        PlaybookRun(
            id=3,
            incident_id=7,
            playbook="rollback",
            service="search-ranker",
            params={},
            changes_state=True,
            status="succeeded",
            requested_by=ANA,
            approved_by=BEN,
            error=None,
            created_at=at(12),
            started_at=at(12.5),
            finished_at=at(14),
        )
    ]


def steps() -> list[StepRun]:
    def step(position: int, name: str, **kw: Any) -> StepRun:
        values: dict[str, Any] = {
            "run_id": 3,
            "phase": "main",
            "position": position,
            "name": name,
            "action": "http",
            "status": "succeeded",
            "attempts": 1,
            "idempotency_key": f"3:{position}",
            "requests": None,
            "result": None,
            "response_status": 200,
            "duration_ms": 1500,
            "error": None,
            "started_at": at(12.5 + position / 10),
            "finished_at": at(13),
        }
        values.update(kw)
        return StepRun(**values)

    # Given out of order; one belongs to another run and must not show up.
    return [
        step(1, "point champion at v41", duration_ms=252_000),
        step(0, "read current alias"),
        step(0, "someone else's step", run_id=99),
    ]


def budget_for(minutes_at_half: float) -> dict[str, Any]:
    """facts_from's budget arguments: INC-7 degraded half the traffic for so many minutes."""
    impact = Impact(start=at(0), end=at(minutes_at_half), fraction=0.5, incident_id=7)
    return {"budget": account(slo=SLO, impacts=[impact], now=at(600), incident_id=7), "slo": SLO}

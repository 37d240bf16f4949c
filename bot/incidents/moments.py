"""The incident's moments (impact start, detection, acknowledgement, mitigation, resolution),
defined once, from what is stored: the postmortem, `firebreak report` and the API all read them
from here.

`moments_of` is pure: it reads the incident row, its alert occurrences, its timeline entries and
its playbook runs as given (ORM objects or plain test objects) and touches no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

# Timeline kinds that are not the commander acting on the incident: a command typed (help,
# timeline, a typo, a refused one: every command is recorded, whatever it did), and a message
# someone else pinned or flagged (its actor is the message's author, not who put it there).
NOT_ACTING = frozenset({"command", "message"})
# A status change to one of these says impact stopped.
MITIGATED_STATUSES = frozenset({"mitigated", "monitoring"})
STATUSES = ("investigating", "identified", "mitigated", "monitoring", "resolved")


@dataclass(frozen=True, kw_only=True, slots=True)
class Moments:
    """When the incident passed each stage; None when it has not (or nobody could tell).

    Always ordered where present: impact_started ≤ mitigated ≤ resolved, detected ≤
    acknowledged ≤ resolved.
    """

    impact_started: datetime | None
    detected: datetime
    acknowledged: datetime | None
    mitigated: datetime | None
    resolved: datetime | None


class IncidentRow(Protocol):
    @property
    def created_at(self) -> datetime: ...
    @property
    def commander(self) -> str | None: ...
    @property
    def acknowledged_at(self) -> datetime | None: ...
    @property
    def mitigated_at(self) -> datetime | None: ...
    @property
    def resolved_at(self) -> datetime | None: ...


class AlertRow(Protocol):
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime | None: ...


class EntryRow(Protocol):
    @property
    def at(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def actor(self) -> str | None: ...


class RunRow(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def finished_at(self) -> datetime | None: ...


def moments_of(
    *,
    incident: IncidentRow,
    alerts: Iterable[AlertRow] = (),
    timeline: Iterable[EntryRow] = (),
    runs: Iterable[RunRow] = (),
) -> Moments:
    """The incident's moments:

    - detected: when Firebreak opened it (`created_at`).
    - resolved: `resolved_at` (None while open).
    - impact_started: the impact start responders stated (`/incident impact start`), else the
      first alert's `starts_at`, else detection; never after resolution.
    - acknowledged: the earliest of the stored `acknowledged_at` (the Acknowledge button, or a
      person choosing the commander) and the first timeline entry whose actor was the
      commander at that moment (approving a run, changing status or severity, posting an
      update, a note, resolving...), typed commands and pinned messages aside. The commander at
      a moment is the `user` of the last `role.commander` entry before it (the on-call
      assignment too); with no such entry at all, the incident's commander. Only moments from
      detection to resolution count.
    - mitigated: the first of: a state-changing playbook run that succeeded (not a dry run; when
      it finished), a status change to mitigated or monitoring, every alert resolved (the
      `alerts.all_resolved` entry, or the last alert's `ends_at` once all have ended), the
      stored `mitigated_at` (older versions stamped it at the resolve: that one is not
      counted); else, once resolved, the
      resolution. Only moments from impact start to resolution count.
    """
    entries = sorted(timeline, key=lambda e: e.at)
    alert_rows = list(alerts)
    detected = incident.created_at
    resolved = incident.resolved_at

    impact = getattr(incident, "impact_started_at", None) or min(
        (a.starts_at for a in alert_rows), default=detected
    )
    if resolved is not None:
        impact = min(impact, resolved)

    def within(moment: datetime | None, start: datetime) -> bool:
        return moment is not None and start <= moment and (resolved is None or moment <= resolved)

    acknowledged = _first(
        m
        for m in [incident.acknowledged_at, _commander_acted(incident, entries)]
        if within(m, detected)
    )

    candidates: list[datetime | None] = [
        r.finished_at
        for r in runs
        if str(r.status) == "succeeded" and getattr(r, "changes_state", True)
    ]
    candidates += [e.at for e in entries if e.kind == "status.changed" and _to_mitigated(e)]
    candidates += [e.at for e in entries if e.kind == "alerts.all_resolved"]
    if alert_rows and all(a.ends_at is not None for a in alert_rows):
        candidates.append(max(a.ends_at for a in alert_rows if a.ends_at is not None))
    if incident.mitigated_at is not None and incident.mitigated_at != resolved:
        candidates.append(incident.mitigated_at)
    mitigated = _first(m for m in candidates if within(m, impact)) or resolved

    return Moments(
        impact_started=impact,
        detected=detected,
        acknowledged=acknowledged,
        mitigated=mitigated,
        resolved=resolved,
    )


def _first(moments: Iterable[datetime | None]) -> datetime | None:
    return min((m for m in moments if m is not None), default=None)


def _data(entry: EntryRow) -> Mapping[str, Any]:
    data = getattr(entry, "data", None)
    return data if isinstance(data, Mapping) else {}


def _commander_acted(incident: IncidentRow, entries: list[EntryRow]) -> datetime | None:
    """The first entry (in time order) whose actor commanded the incident at that moment."""
    assigned = [e for e in entries if e.kind == "role.commander"]
    commander = None if assigned else incident.commander
    for entry in entries:
        if entry.kind == "role.commander":
            commander = _data(entry).get("user") or entry.actor
            # Taking command oneself is acting; being assigned (on call, by someone) is not.
            if entry.actor != commander:
                continue
        if entry.kind in NOT_ACTING or entry.actor is None:
            continue
        if entry.actor == commander:
            return entry.at
    return None


def _to_mitigated(entry: EntryRow) -> bool:
    status = _data(entry).get("status")
    if status is None:  # older entries without data: "… changed status identified → mitigated"
        words = entry.text.replace("→", " ").split()
        status = words[-1] if words and words[-1] in STATUSES else None
    return str(status) in MITIGATED_STATUSES

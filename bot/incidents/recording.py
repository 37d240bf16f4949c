"""Recording one alert notification in the caller's transaction: the store writes of intake
(bot.incidents.intake decides when, and in which transaction).

Rows and Core statements, not the ORM's objects and unit of work: this runs for every
notification of a storm that changes something, and the ORM's loading and flushing were most of
its cost (docs/benchmarks.md). Only opening an incident makes an ORM object.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from bot.alerts import classify
from bot.alerts import service as alerts_service
from bot.alerts.schemas import Alert, AlertBatch, AlertStatus
from bot.context import Context
from bot.db import locks
from bot.events import Event
from bot.incidents import service as incidents_service
from bot.incidents import timeline
from bot.incidents.events import AlertsChanged, IncidentOpened, SetUpUnfinished, SourceNoted
from bot.refs import format_ref
from bot.severity import Severity


@dataclass
class IntakeResult:
    incident_id: int | None = None
    opened: bool = False
    firing: int = 0  # occurrences newly recorded as firing
    resolved: int = 0  # occurrences newly recorded as resolved
    ignored: int = 0  # resolved alerts of a group with no open incident
    all_resolved: set[int] = field(default_factory=set)  # incidents whose last alert resolved
    # The incident's channel exists and it was announced everywhere: a repeat needs no chat work.
    chat_done: bool = False
    said: list[str] = field(default_factory=list)  # new timeline lines the channel should see
    # What the store holds now, for bot.incidents.known: each occurrence's status (not for
    # keyed batches) and the group's incident's severity.
    stored: dict[tuple[str, datetime], str] = field(default_factory=dict, repr=False)
    severity: Severity | None = field(default=None, repr=False)

    @property
    def changed(self) -> bool:
        return self.opened or self.firing > 0 or self.resolved > 0

    def events(self) -> list[Event]:
        """What happened, per incident the notification touched."""
        happened: list[Event] = []
        if self.opened and self.incident_id is not None:
            happened.append(IncidentOpened(self.incident_id))
        elif self.incident_id is not None and not self.changed and not self.chat_done:
            happened.append(SetUpUnfinished(self.incident_id))
        touched = set(self.all_resolved)
        if self.changed and self.incident_id is not None and not self.opened:
            touched.add(self.incident_id)
        for incident_id in sorted(touched):
            happened.append(AlertsChanged(incident_id, incident_id in self.all_resolved))
        if self.incident_id is not None:
            happened += [SourceNoted(self.incident_id, text) for text in self.said]
        return happened


def chat_done(
    ctx: Context, channel_id: str | None, announcement_ts: str | None, broadcast_ts: str | None
) -> bool:
    """The incident's channel exists and it was announced everywhere."""
    return bool(
        channel_id and announcement_ts and (broadcast_ts or not ctx.config.broadcast_channel)
    )


class Later(NamedTuple):
    """A timeline row about an occurrence added in this transaction and not yet inserted: made
    once its id is known (its dedup key holds it)."""

    key: alerts_service.SourcedKey
    make: Callable[[int], dict[str, Any]]


@dataclass
class Deferred:
    """Writes that no later notification of a transaction reads, made once for all of them at
    its end (Deferred.write): new occurrences, the timeline's new rows, the incidents'
    updated_at, alerts resolved (whose status the round reads from Seen) and incidents
    mitigated. A group commit's round of notifications then makes a statement of each, not
    one each (on PostgreSQL, where each waits its round trip, a round's new alerts took one
    each)."""

    entries: list[dict[str, Any] | Later] = field(default_factory=list)  # timeline rows
    touched: dict[int, datetime] = field(default_factory=dict)  # incident id → updated_at
    resolved: list[alerts_service.Resolution] = field(default_factory=list)
    mitigated: dict[int, datetime] = field(default_factory=dict)  # incident id → when
    added: dict[alerts_service.SourcedKey, dict[str, Any]] = field(default_factory=dict)
    ids: dict[alerts_service.SourcedKey, int] = field(default_factory=dict)  # of those inserted

    async def write(self, session: AsyncSession) -> None:
        await self.write_alerts(session)
        rows = [e if isinstance(e, dict) else e.make(self.ids[e.key]) for e in self.entries]
        await timeline.insert_rows(session=session, rows=rows)
        await incidents_service.touch(
            session=session, touched=self.touched, mitigated=self.mitigated
        )
        self.entries, self.touched, self.mitigated = [], {}, {}

    async def write_alerts(self, session: AsyncSession) -> None:
        """The occurrences added and the resolutions gathered so far (before a read of the
        store that must see them: Seen.firing_in)."""
        self.ids |= await alerts_service.add_all(session=session, rows=list(self.added.values()))
        self.added = {}
        await alerts_service.resolve_all(session=session, resolutions=self.resolved)
        self.resolved = []

    def id_of(self, source: str, occurrence: alerts_service.Stored) -> int | None:
        """The occurrence's id; None while it waits to be inserted (`added`)."""
        key = _key(source, occurrence)
        return None if key in self.added else occurrence.id or self.ids[key]


def _key(source: str, occurrence: alerts_service.Stored) -> alerts_service.SourcedKey:
    return (source, occurrence.fingerprint, occurrence.starts_at)


@dataclass
class Seen:
    """What a round of notifications finds in the store, read once for all of them under all
    their groups' locks: one statement for the groups' open incidents and one per source for
    the alerts, where each notification alone made three. Kept up to date by the round's own
    writes, so a copy later in the round (an Alertmanager HA pair's) sees what an earlier one
    recorded, as it would have in a transaction of its own."""

    groups: dict[tuple[str, str], incidents_service.OpenGroup | None]
    occurrences: dict[str, dict[alerts_service.OccurrenceKey, alerts_service.Stored]]
    # Alerts firing per incident (whether a resolution was the last), read with the groups'
    # open incidents, and for the incidents of other alerts the round resolves: once for the
    # round, as a storm resolves thousands.
    firing: dict[int, int] = field(default_factory=dict)
    # The groups whose incident this transaction opened, and the notification that opened it.
    opened_by: dict[tuple[str, str], AlertBatch] = field(default_factory=dict)

    def opened(self, group: tuple[str, str], batch: AlertBatch) -> bool:
        """Whether `batch` opened the group's incident in this transaction: said once, to the
        first copy recorded (an HA pair's copies may be one object: bot.http.webhooks keeps
        what a body said, and its copies share it)."""
        if self.opened_by.get(group) is batch:
            del self.opened_by[group]
            return True
        return False

    async def firing_in(
        self, session: AsyncSession, incident_id: int, *, unwritten: Deferred
    ) -> int:
        """Alerts firing in the incident now, this transaction's writes included (`unwritten`:
        the resolutions gathered so far are written before the store counts)."""
        if incident_id not in self.firing:  # an incident the round was not seen to resolve
            await unwritten.write_alerts(session)
            self.firing[incident_id] = await incidents_service.firing_count(
                session=session, incident_id=incident_id
            )
        return self.firing[incident_id]

    def fired(self, incident_id: int, more: int) -> None:
        """The round's writes changed the incident's firing alerts by `more`."""
        if incident_id in self.firing:
            self.firing[incident_id] += more

    @classmethod
    async def read(cls, session: AsyncSession, batches: Sequence[AlertBatch]) -> Seen:
        groups = sorted({(b.source, b.group_key) for b in batches})
        await locks.hold_all_until_commit(
            session=session, keys=[_group_lock(source, key) for source, key in groups]
        )
        fingerprints: dict[str, set[str]] = {}
        for batch in batches:
            fingerprints.setdefault(batch.source, set()).update(a.fingerprint for a in batch.alerts)
        occurrences = {
            source: await alerts_service.of_fingerprints(
                session=session, source=source, fingerprints=wanted
            )
            for source, wanted in fingerprints.items()
        }
        open_now = await incidents_service.open_group_states(session=session, groups=groups)
        # The groups' own incidents came with their counts; an alert the round resolves may
        # belong to another group's (one sent in two groups): those are counted here.
        others = _resolving(batches, occurrences) - open_now.firing.keys()
        firing = open_now.firing | await incidents_service.firing_counts(
            session=session, incident_ids=others
        )
        return cls({key: open_now.states.get(key) for key in groups}, occurrences, firing)


def _resolving(
    batches: Sequence[AlertBatch],
    occurrences: dict[str, dict[alerts_service.OccurrenceKey, alerts_service.Stored]],
) -> set[int]:
    """The incidents of stored firing alerts that the batches send resolved."""
    incidents: set[int] = set()
    for batch in batches:
        resolved = [
            (a.fingerprint, a.starts_at) for a in batch.alerts if a.status == AlertStatus.RESOLVED
        ]
        if resolved:
            known = alerts_service.matching(occurrences[batch.source], resolved, keyed=batch.keyed)
            incidents.update(
                o.incident_id for o in known.values() if o.status == AlertStatus.FIRING
            )
    return incidents


async def record_round(
    ctx: Context, session: AsyncSession, batches: Sequence[AlertBatch]
) -> list[IntakeResult]:
    """Record a round of notifications in the caller's transaction, one after another as
    given: one read of the store for all of them (Seen), their new incidents in one INSERT,
    and what each adds written together at the end (Deferred)."""
    seen = await Seen.read(session, batches)
    own = Deferred()
    await open_groups(ctx, session, _openers(batches, seen), seen=seen, own=own)
    results = [await record_one(ctx, session, b, deferred=own, seen=seen) for b in batches]
    await own.write(session)
    return results


async def record_one(
    ctx: Context,
    session: AsyncSession,
    batch: AlertBatch,
    *,
    deferred: Deferred | None = None,
    seen: Seen | None = None,
) -> IntakeResult:
    """Record one notification in the caller's transaction; what it changed. With
    `deferred`, the caller writes what it gathered (Deferred.write) before the commit; with
    `seen`, what the store holds was read (Seen.read, which holds the group's lock) and is
    kept up to date here."""
    own = deferred or Deferred()
    now = ctx.clock()
    rules = ctx.config.alerts
    result = IntakeResult()
    seen = seen or await Seen.read(session, [batch])
    occurrences = seen.occurrences[batch.source]
    known = _known(batch, occurrences)
    group_key = (batch.source, batch.group_key)
    if seen.groups[group_key] is None and _opens(batch, known):
        await open_groups(ctx, session, [batch], seen=seen, own=own)
    group = seen.groups[group_key]
    result.opened = seen.opened(group_key, batch)
    if group is not None:
        result.incident_id = group.incident_id
        result.chat_done = chat_done(
            ctx, group.channel_id, group.announcement_ts, group.broadcast_ts
        )

    # incident id → how many more of its alerts fire after this batch than before it
    firing: dict[int, int] = {}
    entries = own.entries  # timeline rows, inserted together at the end
    for alert in batch.alerts:
        key = (alert.fingerprint, alert.starts_at)
        occurrence = known.get(key)
        if occurrence is not None:
            status = occurrence.status
            if status == AlertStatus.FIRING and alert.status == AlertStatus.RESOLVED:
                firing[occurrence.incident_id] = firing.get(occurrence.incident_id, 0) - 1
                seen.fired(occurrence.incident_id, -1)
                _resolve(own, batch.source, occurrence, alert, now)
                occurrences[occurrence.fingerprint, occurrence.starts_at] = occurrence._replace(
                    status=AlertStatus.RESOLVED
                )
                result.resolved += 1
                status = AlertStatus.RESOLVED
            if not batch.keyed:
                result.stored[key] = status
            continue
        if group is None:
            result.ignored += 1
            continue
        severity = classify.alert_severity(alert, batch, rules)
        occurrences[key] = _add(own, group.incident_id, batch.source, alert, severity, now)
        if not batch.keyed:
            result.stored[key] = alert.status
        if alert.status == AlertStatus.FIRING:
            firing[group.incident_id] = firing.get(group.incident_id, 0) + 1
            seen.fired(group.incident_id, 1)
            result.firing += 1
        else:
            result.resolved += 1

    if group is not None:
        result.severity = Severity(group.severity)
        if not result.opened:
            result.severity = await _escalate(
                session, entries, group, classify.group_severity(batch, rules), batch.source, now
            )
            seen.groups[group_key] = replace(group, severity=result.severity)
    if group is not None and batch.truncated_alerts:
        await _note_truncated(session, group.incident_id, batch, now, result)
    for incident_id, more in firing.items():
        # Counted only where alerts stopped firing, after this batch's writes: none left
        # firing then means the last one resolved now.
        if more < 0 and not await seen.firing_in(session, incident_id, unwritten=own):
            result.all_resolved.add(incident_id)
            own.mitigated.setdefault(incident_id, now)
            entries.append(
                timeline.row(
                    incident_id=incident_id,
                    kind="alerts.all_resolved",
                    text="All alerts resolved",
                    actor=batch.source,
                    now=now,
                )
            )
        if more or (result.opened and incident_id == result.incident_id):
            own.touched[incident_id] = now
    if deferred is None:
        await own.write(session)
    return result


def _known(
    batch: AlertBatch, occurrences: dict[alerts_service.OccurrenceKey, alerts_service.Stored]
) -> dict[alerts_service.OccurrenceKey, alerts_service.Stored]:
    """The batch's alerts that the store (or this transaction) holds already."""
    keys = [(a.fingerprint, a.starts_at) for a in batch.alerts]
    return alerts_service.matching(occurrences, keys, keyed=batch.keyed)


def _opens(batch: AlertBatch, known: dict[alerts_service.OccurrenceKey, Any]) -> bool:
    """A new alert fires: the batch opens an incident if its group has none open."""
    return any(
        a.status == AlertStatus.FIRING and (a.fingerprint, a.starts_at) not in known
        for a in batch.alerts
    )


def _openers(batches: Sequence[AlertBatch], seen: Seen) -> list[AlertBatch]:
    """The notifications of a round (in its order) that open their group's incident, as
    record_one would find them one after another: each group's first, when it brings a new
    firing alert. A group whose first notification opens nothing (only resolved alerts, which
    it ignores) is left to open where record_one finds it, or that one would be recorded into
    the incident opened after it.

    None when two of the round's groups share an alert (sent in both): one group's new alert
    may be the other's known one by the time it is recorded, so those open one at a time."""
    groups: dict[tuple[str, str], str] = {}  # an alert's (source, fingerprint) → its group
    for batch in batches:
        for alert in batch.alerts:
            if groups.setdefault((batch.source, alert.fingerprint), batch.group_key) != (
                batch.group_key
            ):
                return []
    first: dict[tuple[str, str], AlertBatch | None] = {}
    for batch in batches:
        key = (batch.source, batch.group_key)
        if key not in first:
            opens = seen.groups[key] is None and _opens(
                batch, _known(batch, seen.occurrences[batch.source])
            )
            first[key] = batch if opens else None
    return [batch for batch in first.values() if batch is not None]


async def open_groups(
    ctx: Context,
    session: AsyncSession,
    batches: Sequence[AlertBatch],
    *,
    seen: Seen,
    own: Deferred,
) -> None:
    """Open an incident for each batch's group, which has none open: one INSERT for all of
    them (on PostgreSQL a round trip, where an incident each took two), the unique open-group
    index failing it if another transaction won a race. Each is then in `seen`, and its
    first timeline line in `own`."""
    if not batches:
        return
    now = ctx.clock()
    rows = [_incident_row(ctx, batch, now) for batch in batches]
    ids = await incidents_service.open_all(session=session, rows=rows)
    for batch, row in zip(batches, rows, strict=True):
        key = (batch.source, batch.group_key)
        incident_id = ids[key]
        seen.groups[key] = incidents_service.OpenGroup(
            incident_id, row["severity"], None, None, None
        )
        seen.opened_by[key] = batch
        own.entries.append(
            timeline.row(
                incident_id=incident_id,
                kind="incident.opened",
                text=f"{format_ref(incident_id)} opened from {batch.source}: {row['title']}",
                actor=batch.source,
                now=now,
                data={"group_key": batch.group_key},
            )
        )


def _incident_row(ctx: Context, batch: AlertBatch, now: datetime) -> dict[str, Any]:
    rules = ctx.config.alerts
    service_name = classify.group_service(batch, rules)
    svc = ctx.config.service(service_name)
    return incidents_service.opened_row(
        title=classify.group_title(batch),
        severity=classify.group_severity(batch, rules),
        source=batch.source,
        group_key=batch.group_key,
        service=service_name,
        summary=classify.first_annotation(batch, "summary"),
        description=classify.first_annotation(batch, "description"),
        source_url=_source_url(batch),
        runbook_url=classify.first_annotation(batch, "runbook_url")
        or (svc.runbook_url if svc else None),
        drill=batch.drill,
        now=now,
    )


def _add(
    own: Deferred,
    incident_id: int,
    source: str,
    alert: Alert,
    severity: Severity,
    now: datetime,
) -> alerts_service.Stored:
    """A new occurrence, inserted with the round's others (Deferred.write_alerts); as the
    round's reads see it (its id 0 until then: Deferred.id_of)."""
    key = (source, alert.fingerprint, alert.starts_at)
    own.added[key] = {
        "incident_id": incident_id,
        "source": source,
        "fingerprint": alert.fingerprint,
        "starts_at": alert.starts_at,
        "ends_at": alert.ends_at,
        "status": alert.status,
        "name": alert.name[:300],
        "severity": severity,
        "labels": alert.labels,
        "annotations": alert.annotations,
        "generator_url": alert.generator_url,
        "received_at": now,
        "resolved_received_at": now if alert.status == AlertStatus.RESOLVED else None,
    }
    stored = alerts_service.Stored(
        0,
        incident_id,
        alert.status,
        alert.name[:300],
        alert.generator_url,
        alert.fingerprint,
        alert.starts_at,
    )

    def firing(occurrence_id: int) -> dict[str, Any]:
        return timeline.row(
            incident_id=incident_id,
            at=alert.starts_at,
            kind="alert.firing",
            text=f"Alert firing: {alert.name}",
            actor=source,
            link=alert.generator_url,
            now=now,
            data={"fingerprint": alert.fingerprint, "labels": alert.labels},
            dedup_key=f"alert:{occurrence_id}:firing",  # new: the occurrence is made now
        )

    own.entries.append(Later(key, firing))
    if alert.status == AlertStatus.RESOLVED:
        _record_resolved(own, source, stored, alert.ends_at or now, now, occurrence_id=None)
    return stored


def _resolve(
    own: Deferred,
    source: str,
    occurrence: alerts_service.Stored,
    alert: Alert,
    now: datetime,
) -> None:
    ends_at = alert.ends_at or now
    occurrence_id = own.id_of(source, occurrence)
    if occurrence_id is None:  # added by this round, not yet inserted: inserted resolved
        own.added[_key(source, occurrence)].update(
            status=AlertStatus.RESOLVED, ends_at=ends_at, resolved_received_at=now
        )
    else:
        own.resolved.append(alerts_service.Resolution(occurrence_id, ends_at, now))
    _record_resolved(own, source, occurrence, ends_at, now, occurrence_id=occurrence_id)


def _record_resolved(
    own: Deferred,
    source: str,
    occurrence: alerts_service.Stored,
    ends_at: datetime,
    now: datetime,
    *,
    occurrence_id: int | None,  # None: waiting to be inserted
) -> None:
    def resolved(occurrence_id: int) -> dict[str, Any]:
        return timeline.row(
            incident_id=occurrence.incident_id,
            at=ends_at,
            kind="alert.resolved",
            text=f"Alert resolved: {occurrence.name}",
            actor=source,
            link=occurrence.generator_url,
            now=now,
            data={"fingerprint": occurrence.fingerprint},
            dedup_key=f"alert:{occurrence_id}:resolved",  # new: it was firing until now
        )

    if occurrence_id is None:
        own.entries.append(Later(_key(source, occurrence), resolved))
    else:
        own.entries.append(resolved(occurrence_id))


async def _escalate(
    session: AsyncSession,
    entries: list[dict[str, Any] | Later],
    group: incidents_service.OpenGroup,
    severity: Severity,
    source: str,
    now: datetime,
) -> Severity:
    """New alerts may make an incident worse; they never make it milder on their own. The
    incident's severity after."""
    previous = Severity(group.severity)
    if not severity.is_worse_than(previous):
        return previous
    await incidents_service.set_severity(
        session=session, incident_id=group.incident_id, severity=severity, now=now
    )
    entries.append(
        timeline.row(
            incident_id=group.incident_id,
            kind="severity.changed",
            text=f"Severity raised from {previous} to {severity} by new alerts",
            actor=source,
            now=now,
        )
    )
    return severity


async def _note_truncated(
    session: AsyncSession,
    incident_id: int,
    batch: AlertBatch,
    now: datetime,
    result: IntakeResult,
) -> None:
    """Alertmanager's max_alerts left alerts out of the notification: they are in no list here,
    so the incident says how many (once per count)."""
    left_out = batch.truncated_alerts
    text = (
        f"{batch.source} left {left_out} alert{'s' if left_out != 1 else ''} of this group out "
        "of its notification (its max_alerts): they are not listed here"
    )
    entry = await timeline.record(
        session=session,
        incident_id=incident_id,
        kind="alerts.truncated",
        text=text,
        actor=batch.source,
        now=now,
        data={"truncated_alerts": left_out},
        dedup_key=f"truncated:{left_out}",
    )
    if entry is not None:
        result.said.append(text)


def _group_lock(source: str, group_key: str) -> str:
    # Copies of one group's notification arrive together (Alertmanager HA pairs both send):
    # one at a time, so only one of them inserts the incident. On PostgreSQL a loser's rolled-
    # back insert would still spend an id from the sequence, and the first incident be INC-2.
    return f"group:{source}:{group_key}"


def _source_url(batch: AlertBatch) -> str | None:
    return next((a.generator_url for a in batch.alerts if a.generator_url), batch.external_url)

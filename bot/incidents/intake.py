"""Alert intake: record one notification about an alert group against its incident.

One open incident per alert group. Each alert occurrence (fingerprint, startsAt) is stored
once; a repeated delivery changes nothing. Resolution is final for an occurrence: a late,
out-of-order "firing" copy of a resolved occurrence is ignored (a new firing has a new startsAt).

What the notification changed is announced as events once it is stored (bot.incidents.events):
intake decides nothing about chat; the subscribers do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.alerts import classify
from bot.alerts import service as alerts_service
from bot.alerts.models import AlertOccurrence
from bot.alerts.schemas import Alert, AlertBatch, AlertStatus, SourceNote
from bot.context import Context
from bot.db import locks
from bot.events import Event
from bot.incidents import service as incidents_service
from bot.incidents import timeline
from bot.incidents.events import AlertsChanged, IncidentOpened, SetUpUnfinished, SourceNoted
from bot.incidents.models import Incident
from bot.severity import Severity

RACE_RETRIES = 3
NOTE_MAX = 4_000  # characters of a sender's note kept on the timeline


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


async def receive(*, ctx: Context[object], batch: AlertBatch) -> IntakeResult:
    """Record the batch (see record), then announce what it changed."""
    result = await record(ctx=ctx, batch=batch)
    for event in result.events():
        await ctx.events.publish(event)
    return result


async def record(*, ctx: Context[object], batch: AlertBatch) -> IntakeResult:
    """Record the batch in one transaction, retried when a unique constraint says a
    concurrent transaction stored the same row first. Announces nothing."""
    repeat = await _repeat(ctx, batch)
    if repeat is not None:
        return repeat
    for attempt in range(RACE_RETRIES):
        try:
            async with ctx.sessions.begin() as session:
                return await _record(ctx, session, batch)
        except IntegrityError:
            # Copies of one group take turns (_record's lock), so this is another transaction
            # storing a row this one shares (an alert also sent in another group); the re-read
            # sees it.
            if attempt == RACE_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class NoteResult:
    incident_id: int | None  # the group's open incident; None: no incident took the note
    added: bool  # False for a repeat of an event already on the timeline


async def note(*, ctx: Context[object], note: SourceNote) -> NoteResult:
    """Put what a sender says about an alert group (acknowledged, a note…) on the timeline of
    the group's open incident, once per sender's event id, then announce it."""
    text = note.text[:NOTE_MAX]
    incident_id: int | None = None
    try:
        async with ctx.sessions.begin() as session:
            incident = await incidents_service.get_open_by_group(
                session=session, source=note.source, group_key=note.group_key
            )
            if incident is None:
                return NoteResult(incident_id=None, added=False)
            incident_id, now = incident.id, ctx.clock()
            entry = await timeline.record(
                session=session,
                incident_id=incident.id,
                kind=note.kind,
                text=text,
                actor=note.source,
                at=note.at,
                link=note.link,
                now=now,
                dedup_key=f"{note.source}:{note.event_id}"[:200],
            )
            if entry is None:
                return NoteResult(incident_id=incident_id, added=False)
            incident.updated_at = now
    except IntegrityError:
        # A concurrent copy of the same event recorded it first (the unique dedup key).
        return NoteResult(incident_id=incident_id, added=False)
    await ctx.events.publish(SourceNoted(incident_id, text))
    return NoteResult(incident_id=incident_id, added=True)


async def _repeat(ctx: Context, batch: AlertBatch) -> IntakeResult | None:
    """The answer to a notification that would change nothing, from a read alone; None when
    it may change something (then `_record` decides, under the write lock).

    Alertmanager re-sends every group each repeat_interval and group_interval, so most of a
    storm is repeats: every alert already stored with this status, the incident already as
    severe. Recording such a batch would write nothing, so it need not wait for writers.
    """
    if batch.truncated_alerts:
        return None  # the count left out may be new: `_record` notes it
    keys = [(a.fingerprint, a.starts_at) for a in batch.alerts]
    async with ctx.reading() as session:
        known = await alerts_service.statuses(
            session=session, source=batch.source, keys=keys, keyed=batch.keyed
        )
        if any(
            known.get(key) == AlertStatus.FIRING and alert.status == AlertStatus.RESOLVED
            for key, alert in zip(keys, batch.alerts, strict=True)
        ):
            return None  # a resolution to record
        new = [alert for key, alert in zip(keys, batch.alerts, strict=True) if key not in known]
        group = await incidents_service.open_group_state(
            session=session, source=batch.source, group_key=batch.group_key
        )
    if group is None:
        if any(alert.status == AlertStatus.FIRING for alert in new):
            return None  # opens an incident
        return IntakeResult(ignored=len(new))
    if new or classify.group_severity(batch, ctx.config.alerts).is_worse_than(
        Severity(group.severity)
    ):
        return None  # alerts to add, or an escalation
    return IntakeResult(
        incident_id=group.incident_id,
        chat_done=_chat_done(ctx, group.channel_id, group.announcement_ts, group.broadcast_ts),
    )


def _chat_done(
    ctx: Context, channel_id: str | None, announcement_ts: str | None, broadcast_ts: str | None
) -> bool:
    """The incident's channel exists and it was announced everywhere."""
    return bool(
        channel_id and announcement_ts and (broadcast_ts or not ctx.config.broadcast_channel)
    )


async def _record(ctx: Context, session: AsyncSession, batch: AlertBatch) -> IntakeResult:
    now = ctx.clock()
    rules = ctx.config.alerts
    result = IntakeResult()
    # Copies of one group's notification arrive together (Alertmanager HA pairs both send):
    # one at a time, so only one of them inserts the incident. On PostgreSQL a loser's rolled-
    # back insert would still spend an id from the sequence, and the first incident be INC-2.
    await locks.hold_until_commit(session=session, key=f"group:{batch.source}:{batch.group_key}")
    known = await alerts_service.find(
        session=session,
        source=batch.source,
        keys=[(a.fingerprint, a.starts_at) for a in batch.alerts],
        keyed=batch.keyed,
    )
    incident = await incidents_service.get_open_by_group(
        session=session, source=batch.source, group_key=batch.group_key
    )
    has_new_firing = any(
        a.status == AlertStatus.FIRING and (a.fingerprint, a.starts_at) not in known
        for a in batch.alerts
    )
    if incident is None and has_new_firing:
        incident = await _open(ctx, session, batch, now)
        result.opened = True
    if incident is not None:
        result.incident_id = incident.id
        result.chat_done = _chat_done(
            ctx, incident.channel_id, incident.announcement_ts, incident.broadcast_ts
        )

    # incident id → [firing count before this batch, after it]: counted once, then kept
    # up to date here rather than asked again.
    touched: dict[int, list[int]] = {}
    for alert in batch.alerts:
        occurrence = known.get((alert.fingerprint, alert.starts_at))
        if occurrence is not None:
            if occurrence.status == AlertStatus.FIRING and alert.status == AlertStatus.RESOLVED:
                (await _counts(session, touched, occurrence.incident_id))[1] -= 1
                await _resolve(session, occurrence, alert, now)
                result.resolved += 1
            continue
        if incident is None:
            result.ignored += 1
            continue
        counts = await _counts(session, touched, incident.id)
        await _add(session, incident, alert, classify.alert_severity(alert, batch, rules), now)
        if alert.status == AlertStatus.FIRING:
            counts[1] += 1
            result.firing += 1
        else:
            result.resolved += 1

    if incident is not None and not result.opened:
        await _escalate(session, incident, classify.group_severity(batch, rules), now)
    if incident is not None and batch.truncated_alerts:
        await _note_truncated(session, incident, batch, now, result)
    for incident_id, (before, after) in touched.items():
        if before > 0 and after == 0:
            result.all_resolved.add(incident_id)
            await incidents_service.mark_mitigated(session=session, incident_id=incident_id, at=now)
            await timeline.record(
                session=session,
                incident_id=incident_id,
                kind="alerts.all_resolved",
                text="All alerts resolved",
                actor=batch.source,
                now=now,
            )
        if before != after or result.opened:
            await _touch(session, incident_id, now)
    return result


async def _open(ctx: Context, session: AsyncSession, batch: AlertBatch, now: datetime) -> Incident:
    rules = ctx.config.alerts
    service_name = classify.group_service(batch, rules)
    svc = ctx.config.service(service_name)
    incident = incidents_service.create(
        session=session,
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
        now=now,
        drill=batch.drill,
    )
    await session.flush()  # the unique open-group index fires here when we lost a race
    await timeline.record(
        session=session,
        incident_id=incident.id,
        kind="incident.opened",
        text=f"{incident.ref} opened from {batch.source}: {incident.title}",
        actor=batch.source,
        now=now,
        data={"group_key": batch.group_key},
    )
    return incident


async def _add(
    session: AsyncSession, incident: Incident, alert: Alert, severity: Severity, now: datetime
) -> None:
    occurrence = AlertOccurrence(
        incident_id=incident.id,
        source=incident.source,
        fingerprint=alert.fingerprint,
        starts_at=alert.starts_at,
        ends_at=alert.ends_at,
        status=alert.status,
        name=alert.name[:300],
        severity=severity,
        labels=alert.labels,
        annotations=alert.annotations,
        generator_url=alert.generator_url,
        received_at=now,
        resolved_received_at=now if alert.status == AlertStatus.RESOLVED else None,
    )
    session.add(occurrence)
    await session.flush()
    await timeline.record(
        session=session,
        incident_id=incident.id,
        at=alert.starts_at,
        kind="alert.firing",
        text=f"Alert firing: {alert.name}",
        actor=incident.source,
        link=alert.generator_url,
        now=now,
        data={"fingerprint": alert.fingerprint, "labels": alert.labels},
        dedup_key=f"alert:{occurrence.id}:firing",
        new_key=True,  # the occurrence was made just now
    )
    if alert.status == AlertStatus.RESOLVED:
        await _record_resolved(session, occurrence, now)


async def _resolve(
    session: AsyncSession, occurrence: AlertOccurrence, alert: Alert, now: datetime
) -> None:
    occurrence.status = AlertStatus.RESOLVED
    occurrence.ends_at = alert.ends_at or now
    occurrence.resolved_received_at = now
    await _record_resolved(session, occurrence, now)


async def _record_resolved(
    session: AsyncSession, occurrence: AlertOccurrence, now: datetime
) -> None:
    await timeline.record(
        session=session,
        incident_id=occurrence.incident_id,
        at=occurrence.ends_at or now,
        kind="alert.resolved",
        text=f"Alert resolved: {occurrence.name}",
        actor=occurrence.source,
        link=occurrence.generator_url,
        now=now,
        data={"fingerprint": occurrence.fingerprint},
        dedup_key=f"alert:{occurrence.id}:resolved",
        new_key=True,  # it was firing until this transaction
    )


async def _escalate(
    session: AsyncSession, incident: Incident, severity: Severity, now: datetime
) -> None:
    """New alerts may make an incident worse; they never make it milder on their own."""
    if severity.is_worse_than(incident.severity_level):
        previous = incident.severity
        incident.severity = severity
        incident.updated_at = now
        await timeline.record(
            session=session,
            incident_id=incident.id,
            kind="severity.changed",
            text=f"Severity raised from {previous} to {severity} by new alerts",
            actor=incident.source,
            now=now,
        )


async def _note_truncated(
    session: AsyncSession,
    incident: Incident,
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
        incident_id=incident.id,
        kind="alerts.truncated",
        text=text,
        actor=batch.source,
        now=now,
        data={"truncated_alerts": left_out},
        dedup_key=f"truncated:{left_out}",
    )
    if entry is not None:
        result.said.append(text)


async def _counts(
    session: AsyncSession, touched: dict[int, list[int]], incident_id: int
) -> list[int]:
    if incident_id not in touched:
        before = await incidents_service.firing_count(session=session, incident_id=incident_id)
        touched[incident_id] = [before, before]
    return touched[incident_id]


async def _touch(session: AsyncSession, incident_id: int, now: datetime) -> None:
    # session.get: the group's incident is already loaded here, so this asks nothing.
    incident = await session.get(Incident, incident_id)
    if incident is not None:
        incident.updated_at = now


def _source_url(batch: AlertBatch) -> str | None:
    return next((a.generator_url for a in batch.alerts if a.generator_url), batch.external_url)

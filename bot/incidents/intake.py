"""Alert intake: record one notification about an alert group against its incident.

One open incident per alert group. Each alert occurrence (fingerprint, startsAt) is stored
once; a repeated delivery changes nothing. Resolution is final for an occurrence: a late,
out-of-order "firing" copy of a resolved occurrence is ignored (a new firing has a new startsAt).

What the notification changed is announced as events once it is stored (bot.incidents.events):
intake decides nothing about chat; the subscribers do.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.alerts import classify
from bot.alerts import service as alerts_service
from bot.alerts.schemas import Alert, AlertBatch, AlertStatus, SourceNote
from bot.context import Context
from bot.db import locks
from bot.events import Event
from bot.incidents import service as incidents_service
from bot.incidents import timeline
from bot.incidents.events import AlertsChanged, IncidentOpened, SetUpUnfinished, SourceNoted
from bot.incidents.known import Known
from bot.severity import Severity

log = logging.getLogger(__name__)

RACE_RETRIES = 3
# Notifications recorded in one transaction at most: a round's last sender waits for all of it.
ROUND_MOST = 32
READS_AT_ONCE = 8  # store reads for notifications memory cannot answer
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


async def receive(*, ctx: Context[object], batch: AlertBatch) -> IntakeResult:
    """Record the batch (see record), then announce what it changed."""
    result = await record(ctx=ctx, batch=batch)
    await _announce(ctx, result)
    return result


async def record(*, ctx: Context[object], batch: AlertBatch) -> IntakeResult:
    """Record the batch in one transaction, retried when a unique constraint says a
    concurrent transaction stored the same row first. Announces nothing."""
    repeat = await _repeat(ctx, batch, None)
    if repeat is not None:
        return repeat
    return await _record_alone(ctx, batch, None)


class Intake:
    """This process's intake, for the webhooks (one per process, made by the composition root).

    A repeat is answered from memory (bot.incidents.known), without the store. What changes is
    recorded by one writer, many notifications to a transaction (group commit): one session,
    one commit and one fsync for everything that queued while the last round was written, so a
    storm's changes cost a fraction of one transaction each. Each sender is answered after the
    commit that holds its notification: acknowledged still means durable.
    """

    def __init__(self, *, ctx: Context[object], known: Known, most: int = ROUND_MOST) -> None:
        self.ctx, self.known, self._most = ctx, known, most
        # Store reads for what memory does not know, a few at a time: a cold start in a storm
        # would otherwise take every connection and starve the chat set-ups.
        self._reads = asyncio.Semaphore(READS_AT_ONCE)
        self._queue: list[tuple[AlertBatch, asyncio.Future[IntakeResult]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def receive(self, batch: AlertBatch) -> IntakeResult:
        remembered = _remembered(self.ctx, batch, self.known)
        result = None if isinstance(remembered, Ask) else remembered
        if remembered is Ask.STORE:
            async with self._reads:
                result = await _repeat(self.ctx, batch, self.known)
        if result is None:
            result = await self._written(batch)
        await _announce(self.ctx, result)
        return result

    async def _written(self, batch: AlertBatch) -> IntakeResult:
        future: asyncio.Future[IntakeResult] = asyncio.get_running_loop().create_future()
        self._queue.append((batch, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="intake-writer")
        return await future

    async def _drain(self) -> None:
        taken: list[tuple[AlertBatch, asyncio.Future[IntakeResult]]] = []
        try:
            while self._queue:
                taken, self._queue = self._queue[: self._most], self._queue[self._most :]
                await self._round(taken)
        finally:  # cancelled at shutdown: nobody is left waiting for an answer
            for _, future in taken + self._queue:
                _settle(future, error=RuntimeError("intake stopped before recording this"))

    async def _round(self, taken: list[tuple[AlertBatch, asyncio.Future[IntakeResult]]]) -> None:
        # Group locks in one order (stable: a group's copies keep theirs), so two replicas'
        # rounds rarely wait on each other in a cycle; rows of another group's incident (an
        # alert sent in two groups) can still make one, which the store breaks by failing a
        # round: then the fallback below.
        taken.sort(key=lambda item: (item[0].source, item[0].group_key))
        try:
            async with self.ctx.sessions.begin() as session:
                results = [await _record(self.ctx, session, batch) for batch, _ in taken]
        except Exception:
            # One of them failed (a race another transaction won, the store gone…): each on
            # its own, so each sender gets its own answer and the others are not lost with it.
            log.warning(
                "intake: a round of %d failed; recording each alone", len(taken), exc_info=True
            )
            for batch, future in taken:
                try:
                    _settle(future, result=await _record_alone(self.ctx, batch, self.known))
                except Exception as exc:
                    _settle(future, error=exc)
            return
        for (batch, future), result in zip(taken, results, strict=True):
            _learn_written(self.known, batch, result)
            _settle(future, result=result)


def _settle(
    future: asyncio.Future[IntakeResult],
    *,
    result: IntakeResult | None = None,
    error: BaseException | None = None,
) -> None:
    if future.done():  # the sender went away (its request was cancelled)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result or IntakeResult())


async def _announce(ctx: Context[object], result: IntakeResult) -> None:
    for event in result.events():
        await ctx.events.publish(event)


async def _record_alone(ctx: Context, batch: AlertBatch, known: Known | None) -> IntakeResult:
    for attempt in range(RACE_RETRIES):
        try:
            async with ctx.sessions.begin() as session:
                result = await _record(ctx, session, batch)
            if known is not None:
                _learn_written(known, batch, result)
            return result
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


class Ask(Enum):
    """Where a notification that memory cannot answer goes next."""

    STORE = "store"  # memory knows too little: read the store, which may answer it
    WRITER = "writer"  # memory knows the group and sees a change: straight to the writer


def _remembered(ctx: Context, batch: AlertBatch, known: Known) -> IntakeResult | Ask:
    """`_repeat`'s answer from this process's memory alone, or where to ask next."""
    if batch.truncated_alerts or batch.keyed:
        return Ask.STORE  # keyed senders name alerts without their start: the store matches
    group = known.group(batch.source, batch.group_key)
    if group is None:
        return Ask.STORE
    unknown_resolved = 0
    for alert in batch.alerts:
        status = known.status(batch.source, alert.fingerprint, alert.starts_at)
        if status is None and group.incident_id is None and alert.status == AlertStatus.RESOLVED:
            unknown_resolved += 1  # no incident to add it to: ignored, as the writer would
            continue
        if status is None or (
            status == AlertStatus.FIRING and alert.status == AlertStatus.RESOLVED
        ):
            # New, or a resolution: the writer records it (or finds another replica did).
            return Ask.WRITER
    if group.incident_id is None or group.severity is None:
        return IntakeResult(ignored=unknown_resolved)  # no open incident: nothing to do
    if classify.group_severity(batch, ctx.config.alerts).is_worse_than(group.severity):
        return Ask.WRITER  # an escalation
    return IntakeResult(incident_id=group.incident_id, chat_done=group.chat_done)


def _learn_written(known: Known, batch: AlertBatch, result: IntakeResult) -> None:
    if batch.keyed:
        return  # memory never answers keyed senders (see _remembered)
    known.learn_statuses(batch.source, result.stored)
    known.learn_group(
        batch.source,
        batch.group_key,
        incident_id=result.incident_id,
        severity=result.severity,
        chat_done=result.chat_done,
    )


async def _repeat(ctx: Context, batch: AlertBatch, known: Known | None) -> IntakeResult | None:
    """The answer to a notification that would change nothing, from a read alone; None when
    it may change something (then `_record` decides, under the write lock).

    Alertmanager re-sends every group each repeat_interval and group_interval, so most of a
    storm is repeats: every alert already stored with this status, the incident already as
    severe. Recording such a batch would write nothing, so it need not wait for writers.
    """
    if batch.truncated_alerts:
        return None  # the count left out may be new: `_record` notes it
    keys = [(a.fingerprint, a.starts_at) for a in batch.alerts]
    as_of = known.mark() if known is not None else 0
    async with ctx.reading() as session:
        stored = await alerts_service.statuses(
            session=session, source=batch.source, keys=keys, keyed=batch.keyed
        )
        if any(
            stored.get(key) == AlertStatus.FIRING and alert.status == AlertStatus.RESOLVED
            for key, alert in zip(keys, batch.alerts, strict=True)
        ):
            return None  # a resolution to record
        new = [alert for key, alert in zip(keys, batch.alerts, strict=True) if key not in stored]
        group = await incidents_service.open_group_state(
            session=session, source=batch.source, group_key=batch.group_key
        )
    if known is not None and not batch.keyed:
        known.learn_statuses(batch.source, stored)
        known.learn_group(
            batch.source,
            batch.group_key,
            incident_id=group.incident_id if group else None,
            severity=Severity(group.severity) if group else None,
            chat_done=group is not None
            and _chat_done(ctx, group.channel_id, group.announcement_ts, group.broadcast_ts),
            as_of=as_of,
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
    """Record one notification in the caller's transaction.

    Rows and Core statements, not the ORM's objects and unit of work: this runs for every
    notification of a storm that changes something, and the ORM's loading and flushing were
    most of its cost (docs/benchmarks.md). Only opening an incident makes an ORM object."""
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
    group = await incidents_service.open_group_state(
        session=session, source=batch.source, group_key=batch.group_key
    )
    has_new_firing = any(
        a.status == AlertStatus.FIRING and (a.fingerprint, a.starts_at) not in known
        for a in batch.alerts
    )
    if group is None and has_new_firing:
        group = await _open(ctx, session, batch, now)
        result.opened = True
    if group is not None:
        result.incident_id = group.incident_id
        result.chat_done = _chat_done(
            ctx, group.channel_id, group.announcement_ts, group.broadcast_ts
        )

    # incident id → [firing count before this batch, after it]: counted once, then kept
    # up to date here rather than asked again.
    touched: dict[int, list[int]] = {}
    entries: list[dict[str, Any]] = []  # timeline rows, inserted together at the end
    for alert in batch.alerts:
        key = (alert.fingerprint, alert.starts_at)
        occurrence = known.get(key)
        if occurrence is not None:
            status = occurrence.status
            if status == AlertStatus.FIRING and alert.status == AlertStatus.RESOLVED:
                (await _counts(session, touched, occurrence.incident_id))[1] -= 1
                await _resolve(session, entries, batch.source, occurrence, alert, now)
                result.resolved += 1
                status = AlertStatus.RESOLVED
            if not batch.keyed:
                result.stored[key] = status
            continue
        if group is None:
            result.ignored += 1
            continue
        counts = await _counts(session, touched, group.incident_id)
        severity = classify.alert_severity(alert, batch, rules)
        await _add(session, entries, group.incident_id, batch.source, alert, severity, now)
        if not batch.keyed:
            result.stored[key] = alert.status
        if alert.status == AlertStatus.FIRING:
            counts[1] += 1
            result.firing += 1
        else:
            result.resolved += 1

    if group is not None:
        result.severity = Severity(group.severity)
        if not result.opened:
            result.severity = await _escalate(
                session, entries, group, classify.group_severity(batch, rules), batch.source, now
            )
    if group is not None and batch.truncated_alerts:
        await _note_truncated(session, group.incident_id, batch, now, result)
    for incident_id, (before, after) in touched.items():
        if before > 0 and after == 0:
            result.all_resolved.add(incident_id)
            await incidents_service.mark_mitigated(session=session, incident_id=incident_id, at=now)
            entries.append(
                timeline.row(
                    incident_id=incident_id,
                    kind="alerts.all_resolved",
                    text="All alerts resolved",
                    actor=batch.source,
                    now=now,
                )
            )
        if before != after or result.opened:
            await incidents_service.touch(session=session, incident_id=incident_id, now=now)
    await timeline.insert_rows(session=session, rows=entries)
    return result


async def _open(
    ctx: Context, session: AsyncSession, batch: AlertBatch, now: datetime
) -> incidents_service.OpenGroup:
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
    return incidents_service.OpenGroup(incident.id, incident.severity, None, None, None)


async def _add(
    session: AsyncSession,
    entries: list[dict[str, Any]],
    incident_id: int,
    source: str,
    alert: Alert,
    severity: Severity,
    now: datetime,
) -> None:
    occurrence_id = await alerts_service.add(
        session=session,
        values={
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
        },
    )
    entries.append(
        timeline.row(
            incident_id=incident_id,
            at=alert.starts_at,
            kind="alert.firing",
            text=f"Alert firing: {alert.name}",
            actor=source,
            link=alert.generator_url,
            now=now,
            data={"fingerprint": alert.fingerprint, "labels": alert.labels},
            dedup_key=f"alert:{occurrence_id}:firing",  # new: the occurrence was made just now
        )
    )
    if alert.status == AlertStatus.RESOLVED:
        stored = alerts_service.Stored(
            occurrence_id,
            incident_id,
            alert.status,
            alert.name[:300],
            alert.generator_url,
            alert.fingerprint,
        )
        _record_resolved(entries, source, stored, alert.ends_at or now, now)


async def _resolve(
    session: AsyncSession,
    entries: list[dict[str, Any]],
    source: str,
    occurrence: alerts_service.Stored,
    alert: Alert,
    now: datetime,
) -> None:
    ends_at = alert.ends_at or now
    await alerts_service.resolve(
        session=session, occurrence_id=occurrence.id, ends_at=ends_at, now=now
    )
    _record_resolved(entries, source, occurrence, ends_at, now)


def _record_resolved(
    entries: list[dict[str, Any]],
    source: str,
    occurrence: alerts_service.Stored,
    ends_at: datetime,
    now: datetime,
) -> None:
    entries.append(
        timeline.row(
            incident_id=occurrence.incident_id,
            at=ends_at,
            kind="alert.resolved",
            text=f"Alert resolved: {occurrence.name}",
            actor=source,
            link=occurrence.generator_url,
            now=now,
            data={"fingerprint": occurrence.fingerprint},
            dedup_key=f"alert:{occurrence.id}:resolved",  # new: it was firing until now
        )
    )


async def _escalate(
    session: AsyncSession,
    entries: list[dict[str, Any]],
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


async def _counts(
    session: AsyncSession, touched: dict[int, list[int]], incident_id: int
) -> list[int]:
    if incident_id not in touched:
        before = await incidents_service.firing_count(session=session, incident_id=incident_id)
        touched[incident_id] = [before, before]
    return touched[incident_id]


def _source_url(batch: AlertBatch) -> str | None:
    return next((a.generator_url for a in batch.alerts if a.generator_url), batch.external_url)

"""Alert intake: record one notification about an alert group against its incident.

One open incident per alert group. Each alert occurrence (fingerprint, startsAt) is stored
once; a repeated delivery changes nothing. Resolution is final for an occurrence: a late,
out-of-order "firing" copy of a resolved occurrence is ignored (a new firing has a new startsAt).

What the notification changed is announced as events once it is stored (bot.incidents.events):
intake decides nothing about chat; the subscribers do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.alerts import classify
from bot.alerts import service as alerts_service
from bot.alerts.schemas import AlertBatch, AlertStatus, SourceNote
from bot.context import Context
from bot.db.group_commit import GroupCommit, Rounds
from bot.incidents import recording, timeline
from bot.incidents import service as incidents_service
from bot.incidents.events import SourceNoted
from bot.incidents.known import Known
from bot.incidents.recording import IntakeResult
from bot.severity import Severity

RACE_RETRIES = 3
# Notifications recorded in one transaction at most: a round's last sender waits for all of it.
ROUND_MOST = 32
READS_AT_ONCE = 8  # store reads for notifications memory cannot answer
NOTE_MAX = 4_000  # characters of a sender's note kept on the timeline


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

    def __init__(
        self,
        *,
        ctx: Context[object],
        known: Known,
        most: int = ROUND_MOST,
        rounds: Rounds | None = None,
    ) -> None:
        """`rounds`: the process's shared writer (SQLite), whose transactions intake's rounds
        then go into with other writes (bot.db.group_commit.Rounds)."""
        self.ctx, self.known = ctx, known
        # Store reads for what memory does not know, a few at a time: a cold start in a storm
        # would otherwise take every connection and starve the chat set-ups.
        self._reads = asyncio.Semaphore(READS_AT_ONCE)
        self._rounds = GroupCommit[AlertBatch, IntakeResult](
            sessions=ctx.sessions,
            write=self._round,
            alone=lambda batch: _record_alone(self.ctx, batch, self.known),
            committed=self._learn,
            most=most,
            name="intake-writer",
            rounds=rounds,
        )

    async def receive(self, batch: AlertBatch) -> IntakeResult:
        remembered = _remembered(self.ctx, batch, self.known)
        result = None if isinstance(remembered, Ask) else remembered
        if remembered is Ask.STORE:
            async with self._reads:
                result = await _repeat(self.ctx, batch, self.known)
        if result is None:
            result = await self._rounds(batch)
        await _announce(self.ctx, result)
        return result

    async def _round(
        self, session: AsyncSession, batches: Sequence[AlertBatch]
    ) -> list[IntakeResult]:
        # Group locks in one order (stable: a group's copies keep theirs), so two replicas'
        # rounds rarely wait on each other in a cycle; rows of another group's incident (an
        # alert sent in two groups) can still make one, which the store breaks by failing a
        # round: then each is recorded alone (bot.db.group_commit).
        order = sorted(range(len(batches)), key=lambda i: (batches[i].source, batches[i].group_key))
        recorded = await recording.record_round(self.ctx, session, [batches[i] for i in order])
        results = dict(zip(order, recorded, strict=True))
        return [results[i] for i in range(len(batches))]

    def _learn(self, batches: Sequence[AlertBatch], results: Sequence[IntakeResult]) -> None:
        for batch, result in zip(batches, results, strict=True):
            _learn_written(self.known, batch, result)


async def _announce(ctx: Context[object], result: IntakeResult) -> None:
    for event in result.events():
        await ctx.events.publish(event)


async def _record_alone(ctx: Context, batch: AlertBatch, known: Known | None) -> IntakeResult:
    for attempt in range(RACE_RETRIES):
        try:
            async with ctx.sessions.begin() as session:
                result = await recording.record_one(ctx, session, batch)
            if known is not None:
                _learn_written(known, batch, result)
            return result
        except IntegrityError:
            # Copies of one group take turns (record_one's lock), so this is another transaction
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
    it may change something (then `recording.record_one` decides, under the write lock).

    Alertmanager re-sends every group each repeat_interval and group_interval, so most of a
    storm is repeats: every alert already stored with this status, the incident already as
    severe. Recording such a batch would write nothing, so it need not wait for writers.
    """
    if batch.truncated_alerts:
        return None  # the count left out may be new: the writer notes it
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
            and recording.chat_done(
                ctx, group.channel_id, group.announcement_ts, group.broadcast_ts
            ),
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
        chat_done=recording.chat_done(
            ctx, group.channel_id, group.announcement_ts, group.broadcast_ts
        ),
    )

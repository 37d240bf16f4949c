"""The card: what chat shows of an incident in announcements and updates."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.changes.models import Change
from bot.incidents import service
from bot.incidents.models import Incident, TimelineEntry
from bot.incidents.ports import ChangeLine, IncidentCard, IncidentContext, ModelCard
from bot.incidents.what_changed import what_changed

# The timeline entry (its kind and dedup key) that keeps the model card as it was read when
# the incident was announced (bot.incidents.model_card): every refresh shows that one.
MODEL_CARD = "model.card"


async def card_for(ctx: IncidentContext, incident: Incident) -> IncidentCard:
    async with ctx.reading() as session:  # one snapshot, one session: a storm renders many
        firing = await service.firing_count(session=session, incident_id=incident.id)
        model = await stored_model_card(session, incident.id)
        changed = await what_changed(ctx, incident, session=session)
    svc = ctx.config.service(incident.service)
    return IncidentCard(
        incident_id=incident.id,
        ref=incident.ref,
        title=incident.title,
        severity=incident.severity,
        status=incident.status,
        service=incident.service,
        summary=incident.summary,
        description=incident.description,
        source_url=incident.source_url,
        runbook_url=incident.runbook_url or (svc.runbook_url if svc else None),
        channel_id=incident.channel_id,
        channel_name=incident.channel_name,
        declared_by=incident.declared_by,
        alerts_firing=firing,
        commander=incident.commander,
        scribe=incident.scribe,
        acknowledged=incident.acknowledged_at is not None,
        handoff_to=incident.handoff_to,
        drill=incident.drill,
        changes=[line_of(c) for c in changed.changes[: ctx.config.changes.shown]],
        in_progress=[line_of(c) for c in changed.in_progress],
        changes_lookback=ctx.config.changes.lookback if incident.service else None,
        model=model,
    )


def line_of(change: Change) -> ChangeLine:
    return ChangeLine(
        change_id=change.id,
        kind=change.kind,
        service=change.service,
        version=change.version,
        previous_version=change.previous_version,
        author=change.author,
        link=change.link,
        at=change.at,
        during_freeze=change.freeze_id is not None,
    )


async def stored_model_card(session: AsyncSession, incident_id: int) -> ModelCard | None:
    entry = await session.scalar(_model_card_query(), {"incident_id": incident_id})
    return None if entry is None else model_card_from(entry.data or {})


@cache
def _model_card_query() -> Select[TimelineEntry]:
    # Built once (see bot.incidents.service._get_query): every card reads it.
    return (
        select(TimelineEntry)
        .where(
            TimelineEntry.incident_id == bindparam("incident_id"),
            TimelineEntry.kind == MODEL_CARD,
        )
        .order_by(TimelineEntry.id.desc())
        .limit(1)
    )


def model_card_data(card: ModelCard) -> dict[str, Any]:
    """The timeline entry's data: JSON, times as ISO 8601."""
    return {
        "service": card.service,
        "read_at": card.read_at.isoformat(),
        "live": card.live,
        "previous": card.previous,
        "live_since": card.live_since.isoformat() if card.live_since else None,
        "since_kind": card.since_kind,
        "unread": card.unread,
    }


def model_card_from(data: dict[str, Any]) -> ModelCard | None:
    try:
        since = data.get("live_since")
        return ModelCard(
            service=str(data["service"]),
            read_at=datetime.fromisoformat(data["read_at"]),
            live=_text(data.get("live")),
            previous=_text(data.get("previous")),
            live_since=datetime.fromisoformat(since) if since else None,
            since_kind=_text(data.get("since_kind")),
            unread=_text(data.get("unread")),
        )
    except (KeyError, TypeError, ValueError):  # not a card this version wrote: show none
        return None


def _text(value: object) -> str | None:
    return None if value is None else str(value)

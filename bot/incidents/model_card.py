"""The model card: which version of the affected service is live, which one was before it, and
since when the live one is live, read from the service's deployment target once, when the
incident's announcement is posted.

The read is time-boxed (bot.deploy.reading) and happens in the background after the
announcement, so a slow or absent target never holds it up: the card follows in both copies of
the announcement, or a line says why there is none. What was read is kept on the timeline (one
`model.card` entry, bot.incidents.cards.MODEL_CARD), so every later refresh of the
announcement shows the same card without asking the target again, and the postmortem's
timeline has it. "Since when" comes from the change feed: the latest change of the service
that names the live version. Services without a deployment target get no card and no line.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import or_, select

from bot.changes.models import Change
from bot.changes.schemas import ChangeKind
from bot.deploy.ports import NoTarget, State, Targets
from bot.deploy.reading import READ_STATE_S, read_state, too_slow
from bot.deploy.recording import DrillTargets
from bot.events import Bus
from bot.incidents import timeline
from bot.incidents.cards import MODEL_CARD, model_card_data, stored_model_card
from bot.incidents.events import IncidentAnnounced
from bot.incidents.models import Incident
from bot.incidents.ports import IncidentContext, ModelCard
from bot.incidents.reading import load
from bot.incidents.sync import sync
from bot.logs import incident_logs
from bot.refs import format_ref

log = logging.getLogger(__name__)

# Changes that name a version without making it live: a shadow only mirrors traffic, and an
# aborted canary is no longer served.
NOT_LIVE = (ChangeKind.SHADOW_START, ChangeKind.SHADOW_STOP, ChangeKind.CANARY_ABORT)


class Spawner(Protocol):
    """Runs work in the background (bot.tasks.Background)."""

    def spawn(self, work: Coroutine[Any, Any, Any], *, name: str) -> object: ...


def subscribe(
    bus: Bus,
    *,
    ctx: IncidentContext,
    targets: Targets,
    drills: DrillTargets,
    background: Spawner,
    timeout_s: float = READ_STATE_S,
) -> None:
    """Read the model card of each incident once its announcement is posted, in the background
    (the announcing flow publishes and goes on: the broadcast copy is not held up either)."""

    async def announced(event: IncidentAnnounced) -> None:
        background.spawn(
            show(
                ctx,
                targets=targets,
                drills=drills,
                incident_id=event.incident_id,
                timeout_s=timeout_s,
            ),
            name=f"{format_ref(event.incident_id)}-model-card",
        )

    bus.subscribe(IncidentAnnounced, announced)


async def show(
    ctx: IncidentContext,
    *,
    targets: Targets,
    drills: DrillTargets,
    incident_id: int,
    timeout_s: float = READ_STATE_S,
) -> ModelCard | None:
    """Read the card, keep it on the timeline and refresh the announcement; None when the
    service has no deployment target (or the incident has a card already)."""
    with incident_logs(incident_id):
        incident = await load(ctx, incident_id=incident_id)
        async with ctx.reading() as session:
            if await stored_model_card(session, incident_id) is not None:
                return None  # read once already: the card shows what was read then
        card = await read(ctx, incident, targets=targets, drills=drills, timeout_s=timeout_s)
        if card is None:
            return None
        # After the announcing flow: it holds this lock until the broadcast copy is posted, so
        # the refresh below reaches both copies.
        async with ctx.locks(incident_id):
            async with ctx.sessions.begin() as session:
                entry = await timeline.record(
                    session=session,
                    incident_id=incident_id,
                    kind=MODEL_CARD,
                    text=describe(card),
                    actor="firebreak",
                    now=ctx.clock(),
                    data=model_card_data(card),
                    dedup_key=MODEL_CARD,
                )
            if entry is None:  # another read got there first
                return None
            await sync(ctx, await load(ctx, incident_id=incident_id))
        return card


async def read(
    ctx: IncidentContext,
    incident: Incident,
    *,
    targets: Targets,
    drills: DrillTargets,
    timeout_s: float = READ_STATE_S,
) -> ModelCard | None:
    """The card as the target tells it now, or why it could not; None without a target. A
    drill reads its recording target, as its playbooks act on it."""
    service = incident.service
    if service is None:
        return None
    where = drills.for_incident(incident.id) if incident.drill else targets
    try:
        where.for_service(service)
    except NoTarget:
        return None
    state = await read_state(where, service, timeout_s=timeout_s)
    now = ctx.clock()
    if isinstance(state, str):
        why = (
            f"the deployment target did not answer within {timeout_s:g} s"
            if state == too_slow(timeout_s)
            else f"the deployment target could not be read: {state}"
        )
        log.info("model card of %s not read: %s", service, state)
        return ModelCard(service=service, read_at=now, unread=why)
    if incident.drill and _empty(state):
        return None  # the drill's scenario stages no deployment of this service
    since = await _live_since(ctx, incident, service, state.active_version)
    return ModelCard(
        service=service,
        read_at=now,
        live=state.active_version,
        previous=state.previous_versions[0] if state.previous_versions else None,
        live_since=since.at if since else None,
        since_kind=since.kind if since else None,
    )


def describe(card: ModelCard) -> str:
    """The timeline's plain text of the card."""
    head = f"Model card of {card.service}"
    if card.unread is not None:
        return f"{head}: {card.unread}"
    if card.live is None:
        return f"{head}: the deployment target reports no live version"
    text = f"{head}: live {card.live}, before it {card.previous or 'none known'}"
    if card.live_since is not None:
        text += f", live since {_at(card.live_since)} ({card.since_kind} in the change feed)"
    return text


def _empty(state: State) -> bool:
    return state.active_version is None and not state.previous_versions


async def _live_since(
    ctx: IncidentContext, incident: Incident, service: str, live: str | None
) -> Change | None:
    """The latest change of the service, up to now, that names the live version."""
    if live is None:
        return None
    own = (
        or_(Change.drill_incident_id.is_(None), Change.drill_incident_id == incident.id)
        if incident.drill
        else Change.drill_incident_id.is_(None)
    )
    async with ctx.reading() as session:
        return await session.scalar(
            select(Change)
            .where(
                Change.service == service,
                Change.version == live,
                Change.kind.not_in([str(kind) for kind in NOT_LIVE]),
                Change.at <= ctx.clock(),
                own,
            )
            .order_by(Change.at.desc(), Change.id.desc())
            .limit(1)
        )


def _at(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"

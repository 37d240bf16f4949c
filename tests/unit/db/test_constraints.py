"""The database itself refuses duplicates, whatever the code paths above it do."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.alerts.models import AlertOccurrence
from bot.context import Context
from bot.incidents import service
from bot.incidents.models import Incident, Status
from bot.severity import Severity

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
GROUP = '{}:{alertname="RankerNDCGDrop"}'


def open_incident(session: AsyncSession, *, status: Status = Status.INVESTIGATING) -> Incident:
    incident = service.create(
        session=session,
        title="RankerNDCGDrop",
        severity=Severity.SEV1,
        source="alertmanager",
        group_key=GROUP,
        now=NOW,
    )
    incident.status = status
    return incident


async def test_one_open_incident_per_alert_group(ctx: Context) -> None:
    async with ctx.sessions.begin() as session:
        open_incident(session)
    with pytest.raises(IntegrityError, match=r"(?i)unique"):
        async with ctx.sessions.begin() as session:
            open_incident(session)  # the unique index uq_incidents_open_group refuses it
    async with ctx.sessions.begin() as session:
        # Once resolved, the group may open a new incident: the index covers open ones only.
        open_incident(session, status=Status.RESOLVED)


async def test_one_row_per_alert_occurrence(ctx: Context) -> None:
    async with ctx.sessions.begin() as session:
        incident = open_incident(session)
        await session.flush()
        incident_id = incident.id

    def occurrence() -> AlertOccurrence:
        return AlertOccurrence(
            incident_id=incident_id,
            source="alertmanager",
            fingerprint="3f1c9a7be2d04c11",
            starts_at=NOW,
            status="firing",
            name="RankerNDCGDrop",
            severity="SEV1",
            labels={},
            annotations={},
            received_at=NOW,
        )

    async with ctx.sessions.begin() as session:
        session.add(occurrence())
    with pytest.raises(IntegrityError, match=r"(?i)unique"):
        async with ctx.sessions.begin() as session:
            session.add(occurrence())

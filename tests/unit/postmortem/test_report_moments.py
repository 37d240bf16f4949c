"""`firebreak report` and the API's incident detail read the same moments as the postmortem
(bot.incidents.moments): the INC-1 story through the database."""

from __future__ import annotations

from datetime import timedelta

from bot.context import Context
from bot.incidents import lifecycle, timeline
from bot.incidents.models import Incident
from bot.incidents.schemas import IncidentDetail
from bot.playbooks.runs import PlaybookRun, of_incident
from bot.postmortem.report import gather
from tests.domain import incident_with_channel, load_incident
from tests.fakes import FakeClock

ANA = "U0ANA0001"


async def test_report_and_api_show_the_moments_of_inc1(ctx: Context, clock: FakeClock) -> None:
    incident = await incident_with_channel(ctx, members=(ANA,))
    opened = incident.created_at
    async with ctx.sessions.begin() as session:
        row = await session.get(Incident, incident.id)
        assert row is not None
        row.commander = ANA  # the on-call rotation's pick, as roles.assign_on_call records it
        await timeline.record(
            session=session,
            incident_id=incident.id,
            kind="role.commander",
            text="on call: assigned as commander",
            actor="firebreak",
            now=clock.now,
            data={"user": ANA, "on_call": True},
        )
    clock.advance(seconds=20)
    async with ctx.sessions.begin() as session:
        await timeline.record(
            session=session, incident_id=incident.id, kind="command", text="ran `help`",
            actor=ANA, now=clock.now,
        )  # fmt: skip
    clock.advance(seconds=25)
    approved = clock.now
    async with ctx.sessions.begin() as session:
        await timeline.record(
            session=session, incident_id=incident.id, kind="playbook.run",
            text="approved rollback", actor=ANA, now=clock.now,
        )  # fmt: skip
        session.add(
            PlaybookRun(
                uid="inc1-rollback", incident_id=incident.id, playbook="rollback",
                service="search-ranker", params={}, changes_state=True, status="succeeded",
                requested_by=ANA, approved_by=ANA, created_at=clock.now, started_at=clock.now,
                finished_at=clock.now + timedelta(seconds=15),
            )
        )  # fmt: skip
    rolled_back = clock.now + timedelta(seconds=15)
    clock.advance(seconds=69)
    await lifecycle.resolve(ctx, incident_id=incident.id, by=ANA)

    loaded = await load_incident(ctx, incident.id)
    # Stored as a run of an older version: nothing stamped acknowledgement or mitigation.
    assert loaded.acknowledged_at is None and loaded.mitigated_at is None
    impact = min(a.starts_at for a in loaded.alerts)

    [line] = await gather(ctx, since=opened - timedelta(days=1))
    assert line.times["Time to acknowledge"] == [approved - opened]
    assert line.times["Time to mitigate"] == [rolled_back - impact]

    async with ctx.reading() as session:
        runs, _ = await of_incident(session=session, incident_id=incident.id)
    detail = IncidentDetail.full(loaded, runs)
    assert detail.acknowledged_at == approved
    assert detail.mitigated_at == rolled_back
    assert [t.kind for t in detail.timeline].count("command") == 1  # the API keeps commands

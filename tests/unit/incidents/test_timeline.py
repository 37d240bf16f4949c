from __future__ import annotations

from datetime import timedelta

from bot.alerts.sources import alertmanager
from bot.context import Context
from bot.incidents import intake, timeline
from bot.incidents.timeline import Entry
from tests.domain import incident_with_channel
from tests.fakes import FakeClock
from tests.payloads import am_alert, am_notification

ANA = "U0ANA0001"


async def test_entries_are_read_as_rows_in_order_of_when_then_as_recorded(
    ctx: Context, clock: FakeClock
) -> None:
    incident = await incident_with_channel(ctx)
    another_group = am_notification(
        am_alert(fingerprint="0a0a0a0a0a0a0a0a", alertname="Other"),
        group_key='{}:{alertname="Other"}',
    )
    other = await intake.receive(ctx=ctx, batch=alertmanager.parse(another_group))
    assert other.incident_id not in (None, incident.id)
    earlier = clock.now - timedelta(minutes=5)
    async with ctx.sessions.begin() as session:
        for text, at in (("second", clock.now), ("first", earlier), ("third", clock.now)):
            await timeline.record(
                session=session, incident_id=incident.id, kind="note", text=text, actor=ANA,
                at=at, now=clock.now, link="https://slack.example/p1", data={"owner": ANA},
            )  # fmt: skip
        await timeline.record(
            session=session,
            incident_id=other.incident_id,
            kind="note",
            text="elsewhere",
            now=clock.now,
        )
    async with ctx.sessions() as session:
        entries = await timeline.entries_of(session=session, incident_id=incident.id)
    notes = [e for e in entries if e.kind == "note"]
    assert [(e.text, e.at) for e in notes] == [
        ("first", earlier),
        ("second", clock.now),
        ("third", clock.now),
    ]
    assert all(isinstance(e, Entry) for e in entries)
    assert notes[0].actor == ANA and notes[0].link == "https://slack.example/p1"
    assert notes[0].data == {"owner": ANA}
    assert "elsewhere" not in {e.text for e in entries}
    assert [e.at for e in entries] == sorted(e.at for e in entries)

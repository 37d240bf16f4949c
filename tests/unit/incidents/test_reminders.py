from __future__ import annotations

from datetime import timedelta

from bot.context import Context
from bot.incidents import lifecycle, nudges, roles
from bot.incidents import reminders as remind
from bot.severity import Severity
from tests.domain import incident_with_channel, load_incident
from tests.fakes import FakeChat, FakeClock, FakeReminders

ANA = "U0ANA0001"


async def test_a_new_incident_gets_both_reminders(
    ctx: Context, reminders: FakeReminders, clock: FakeClock
) -> None:
    incident = await incident_with_channel(ctx)
    assert reminders.jobs == {
        "INC-1-commander": (incident.id, "commander", clock.now + timedelta(minutes=2), None),
        "INC-1-status-update": (
            incident.id,
            "status-update",
            clock.now + timedelta(minutes=15),
            timedelta(minutes=15),
        ),
    }


async def test_commander_reminder_fires_only_while_nobody_commands(
    ctx: Context, chat: FakeChat, clock: FakeClock
) -> None:
    incident = await incident_with_channel(ctx)
    clock.advance(minutes=2)
    assert await nudges.fire(ctx, incident_id=incident.id, kind=remind.COMMANDER)
    [(channel, reminder)] = chat.reminded
    assert channel == incident.channel_id
    assert reminder.text.startswith(":rotating_light: INC-1 has had no incident commander for 2m")
    assert chat.said[-1][0] == "incidents"
    await roles.assign(ctx, incident_id=incident.id, role=roles.Role.COMMANDER, user=ANA, by=ANA)
    assert not await nudges.fire(ctx, incident_id=incident.id, kind=remind.COMMANDER)
    assert len(chat.reminded) == 1


async def test_acknowledging_cancels_the_commander_reminder(
    ctx: Context, reminders: FakeReminders
) -> None:
    incident = await incident_with_channel(ctx)
    await roles.assign(ctx, incident_id=incident.id, role=roles.Role.COMMANDER, user=ANA, by=ANA)
    assert set(reminders.jobs) == {"INC-1-status-update"}


async def test_status_reminder_follows_severity_updates_and_snoozes(
    ctx: Context, chat: FakeChat, clock: FakeClock, reminders: FakeReminders
) -> None:
    incident = await incident_with_channel(ctx)
    await lifecycle.set_severity(ctx, incident_id=incident.id, severity=Severity.SEV3, by=ANA)
    assert reminders.jobs["INC-1-status-update"][2:] == (
        clock.now + timedelta(minutes=60),
        timedelta(minutes=60),
    )

    clock.advance(minutes=10)
    await lifecycle.post_update(ctx, incident_id=incident.id, text="Found it", by=ANA)
    assert reminders.jobs["INC-1-status-update"][2] == clock.now + timedelta(minutes=60)

    await lifecycle.snooze_updates(ctx, incident_id=incident.id, by=ANA, wait=timedelta(minutes=90))
    assert reminders.jobs["INC-1-status-update"][2] == clock.now + timedelta(minutes=90)
    # An unrelated change keeps the snooze.
    await lifecycle.set_severity(ctx, incident_id=incident.id, severity=Severity.SEV2, by=ANA)
    assert reminders.jobs["INC-1-status-update"][2:] == (
        clock.now + timedelta(minutes=90),
        timedelta(minutes=30),
    )

    assert await nudges.fire(ctx, incident_id=incident.id, kind=remind.STATUS_UPDATE)
    reminder = chat.reminded[-1][1]
    assert "time for a status update on INC-1 (SEV2: every 30m)" in reminder.text
    assert list(reminder.snooze) == [timedelta(minutes=15), timedelta(minutes=30)]


async def test_sev4_has_no_status_reminder_and_resolve_stops_all(
    ctx: Context, reminders: FakeReminders
) -> None:
    incident = await incident_with_channel(ctx)
    await lifecycle.set_severity(ctx, incident_id=incident.id, severity=Severity.SEV4, by=ANA)
    assert "INC-1-status-update" not in reminders.jobs
    await lifecycle.resolve(ctx, incident_id=incident.id, by=ANA)
    assert reminders.jobs == {}
    assert not await nudges.fire(ctx, incident_id=incident.id, kind=remind.STATUS_UPDATE)


async def test_an_overdue_commander_reminder_is_not_planned_again(
    ctx: Context, clock: FakeClock, reminders: FakeReminders
) -> None:
    incident = await incident_with_channel(ctx)
    reminders.jobs.pop("INC-1-commander")  # it fired
    clock.advance(minutes=5)
    await lifecycle.set_severity(ctx, incident_id=incident.id, severity=Severity.SEV2, by=ANA)
    assert "INC-1-commander" not in reminders.jobs
    assert (await load_incident(ctx, incident.id)).acknowledged_at is None

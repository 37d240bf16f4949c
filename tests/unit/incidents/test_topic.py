"""The channel topic holds what changes rarely (severity, status, roles) and is set only when
one of those changes; the budget countdown lives in the pinned budget message (issue 19)."""

from __future__ import annotations

from datetime import timedelta

from bot.budget.slo import Slo
from bot.config import FirebreakConfig
from bot.context import Context
from bot.incidents import impact, lifecycle, nudges, roles
from bot.incidents.models import Incident, Status
from bot.incidents.reminders import BUDGET
from bot.incidents.topic import topic_for
from bot.severity import Severity
from tests.domain import incident_with_channel, load_incident
from tests.fakes import FakeChat, FakeClock

ANA, BEN = "U0ANA0001", "U0BEN0002"
SLO = Slo(target=99.95, window="7d")  # 5m2s of budget over 7 days


def test_the_topic_says_severity_status_and_roles() -> None:
    incident = Incident(
        id=1,
        severity="SEV2",
        status="mitigated",
        commander=ANA,
        scribe=BEN,
        handoff_to=BEN,
        drill=True,
    )
    assert topic_for(incident) == (
        f"DRILL · SEV2 · mitigated · commander <@{ANA}> · scribe <@{BEN}> · "
        f"handoff to <@{BEN}> pending"
    )


async def test_budget_ticks_and_other_commands_leave_the_topic_alone(
    ctx: Context, config: FirebreakConfig, chat: FakeChat, clock: FakeClock
) -> None:
    config.services["search-ranker"].slo = SLO
    incident = await incident_with_channel(ctx, members=(ANA,))
    assert [topic for _, topic in chat.topics] == ["SEV1 · investigating · commander nobody"]
    shown = len(chat.budget_messages)
    # The budget clock ticks, through the threshold announcements and past the whole budget.
    for _ in range(4):
        clock.advance(minutes=2)
        assert await nudges.fire(ctx, incident_id=incident.id, kind=BUDGET)
    assert chat.budget_messages[-1][1] < timedelta(0)  # spent, and still counting
    # Commands that change none of what the topic shows.
    await lifecycle.post_update(ctx, incident_id=incident.id, text="Rolling back", by=ANA)
    await lifecycle.snooze_updates(ctx, incident_id=incident.id, by=ANA, wait=timedelta(minutes=15))
    await impact.state(ctx, incident_id=incident.id, by=ANA, words=["40%"])
    assert len(chat.topics) == 1
    # The countdown went on in the pinned message: one message, updated on every tick.
    assert len(chat.budget_messages) >= shown + 4 + 3
    assert len({ref for ref, _ in chat.budget_messages}) == 1
    assert (await load_incident(ctx, incident.id)).channel_topic == chat.topics[-1][1]


async def test_severity_status_and_commander_each_set_the_topic_once(
    ctx: Context, config: FirebreakConfig, chat: FakeChat, clock: FakeClock
) -> None:
    config.services["search-ranker"].slo = SLO
    incident = await incident_with_channel(ctx, members=(ANA,))
    await roles.assign(ctx, incident_id=incident.id, role=roles.Role.COMMANDER, user=ANA, by=ANA)
    clock.advance(minutes=2)
    await nudges.fire(ctx, incident_id=incident.id, kind=BUDGET)
    await lifecycle.set_severity(ctx, incident_id=incident.id, severity=Severity.SEV2, by=ANA)
    clock.advance(minutes=2)
    await nudges.fire(ctx, incident_id=incident.id, kind=BUDGET)
    await lifecycle.set_status(ctx, incident_id=incident.id, status=Status.MITIGATED, by=ANA)
    assert [topic for _, topic in chat.topics] == [
        "SEV1 · investigating · commander nobody",
        f"SEV1 · investigating · commander <@{ANA}>",
        f"SEV2 · investigating · commander <@{ANA}>",
        f"SEV2 · mitigated · commander <@{ANA}>",
    ]
    assert not any("budget" in topic for _, topic in chat.topics)

from __future__ import annotations

from datetime import timedelta

from bot.alerts.sources import alertmanager
from bot.budget.slo import Slo
from bot.config import FirebreakConfig
from bot.context import Context
from bot.incidents import intake, lifecycle
from bot.incidents.ledger import budget_of
from bot.incidents.models import Status
from bot.incidents.sync import sync
from tests.domain import incident_with_channel, load_incident
from tests.fakes import FakeChat, FakeClock, FakeReminders
from tests.payloads import am_alert, am_notification

# 99.95% over 7 days: 5.04 minutes of full outage.
SLO = Slo(target=99.95, window="7d")
ANA = "U0ANA0001"


async def test_alert_intervals_consume_the_budget(
    ctx: Context, config: FirebreakConfig, clock: FakeClock
) -> None:
    config.services["search-ranker"].slo = SLO
    # An earlier incident of the same service, 2 minutes of firing, two days ago.
    for status, ends in (("firing", "0001-01-01T00:00:00Z"), ("resolved", "2026-11-25T01:02:00Z")):
        earlier = am_notification(
            am_alert(
                fingerprint="old", starts_at="2026-11-25T01:00:00Z", status=status, ends_at=ends
            ),
            group_key="old",
        )
        await intake.receive(ctx=ctx, batch=alertmanager.parse(earlier))
    # Now: firing since 02:58:00.123 (the clock says 03:00), still going.
    current = await intake.receive(ctx=ctx, batch=alertmanager.parse(am_notification()))
    found = await budget_of(ctx, service="search-ranker", incident_id=current.incident_id)
    assert found is not None
    report = found.report
    assert report.budget == timedelta(minutes=5.04)
    assert report.consumed == timedelta(minutes=2) + timedelta(seconds=119, microseconds=876544)
    assert report.incident_consumed == timedelta(seconds=119, microseconds=876544)
    assert round(report.burn_rate) == 2000  # full outage on a 99.95% SLO
    assert report.projected_exhaustion is not None
    assert report.projected_exhaustion > clock.now
    assert await budget_of(ctx, service="checkout-fraud") is None  # no SLO there


async def test_alert_time_after_mitigation_is_not_charged(
    ctx: Context, config: FirebreakConfig, clock: FakeClock
) -> None:
    config.services["search-ranker"].slo = SLO
    incident = await incident_with_channel(ctx)  # firing since 02:58:00.123, now 03:00
    clock.advance(minutes=1)
    await lifecycle.set_status(ctx, incident_id=incident.id, status=Status.MITIGATED, by=ANA)
    clock.advance(minutes=30)  # the alert still fires: the metric lags the fix

    found = await budget_of(ctx, service="search-ranker", incident_id=incident.id)
    assert found is not None
    # 02:58:00.123 → 03:01, not → 03:31: the live budget agrees with the postmortem's bad time.
    assert found.report.incident_consumed == timedelta(minutes=3) - timedelta(microseconds=123456)
    assert (await load_incident(ctx, incident.id)).mitigated_at == clock.now - timedelta(minutes=30)


async def test_a_resolved_incident_is_charged_up_to_its_resolution(
    ctx: Context, config: FirebreakConfig, clock: FakeClock
) -> None:
    config.services["search-ranker"].slo = SLO
    incident = await incident_with_channel(ctx)
    clock.advance(minutes=1)
    await lifecycle.resolve(ctx, incident_id=incident.id, by=ANA)  # the alert never resolved
    clock.advance(hours=2)

    found = await budget_of(ctx, service="search-ranker", incident_id=incident.id)
    assert found is not None
    assert found.report.incident_consumed == timedelta(minutes=3) - timedelta(microseconds=123456)


async def test_the_pinned_message_counts_the_budget_down(
    ctx: Context,
    config: FirebreakConfig,
    chat: FakeChat,
    clock: FakeClock,
    reminders: FakeReminders,
) -> None:
    config.services["search-ranker"].slo = SLO
    incident = await incident_with_channel(ctx)
    left = chat.budget_messages[-1][1]
    assert int(left.total_seconds()) == 182  # 5m2s minus the 2m firing so far
    assert reminders.jobs["INC-1-budget"][2:] == (
        clock.now + timedelta(minutes=2),
        timedelta(minutes=2),
    )
    clock.advance(minutes=4)
    await sync(ctx, await load_incident(ctx, incident.id))
    assert int(chat.budget_messages[-1][1].total_seconds()) == -57  # spent, 57s over
    # The pinned budget message: posted once, then the same message updated.
    refs = {ref for ref, _ in chat.budget_messages}
    assert len(refs) == 1 and len(chat.budget_messages) >= 2
    assert (await load_incident(ctx, incident.id)).budget_ts == refs.pop().ts
    # The topic does not count down: it was set once, when the channel was opened.
    assert len(chat.topics) == 1 and "budget" not in chat.topics[0][1]


async def test_crossing_half_and_all_of_the_budget_is_announced_once(
    ctx: Context, config: FirebreakConfig, chat: FakeChat, clock: FakeClock
) -> None:
    config.services["search-ranker"].slo = SLO
    incident = await incident_with_channel(ctx)  # ~2m of 5m2s used: under half
    assert not [t for _, t in chat.said if "error budget" in t]
    clock.advance(minutes=1)  # ~3m: over half
    await sync(ctx, await load_incident(ctx, incident.id))
    await sync(ctx, await load_incident(ctx, incident.id))  # the next tick: nothing new
    half = [(w, t) for w, t in chat.said if "error budget" in t]
    assert half == [
        (
            "incidents",
            ":warning: search-ranker has used 50% of its error budget (99.95% over 7d) "
            "during INC-1.",
        ),
        (
            incident.channel_id,
            ":warning: search-ranker has used 50% of its error budget "
            "(99.95% over 7d) during INC-1.",
        ),
    ]
    clock.advance(minutes=3)  # over the whole budget
    await sync(ctx, await load_incident(ctx, incident.id))
    [(channel, playbook, text)] = chat.offered_playbooks
    assert (channel, playbook) == (incident.channel_id, "traffic-freeze")
    assert text.startswith(":rotating_light: search-ranker has spent its whole error budget")
    assert chat.said[-1][0] == "incidents" and "freeze changes" in chat.said[-1][1]
    assert (await load_incident(ctx, incident.id)).budget_announced == 1.0

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.budget.slo import Slo
from bot.config import FirebreakConfig
from bot.context import Context
from bot.incidents import impact
from bot.incidents.errors import Refused
from bot.incidents.ledger import budget_of
from tests.domain import incident_with_channel, load_incident
from tests.fakes import FakeClock

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
ANA = "U0ANA0001"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("-10m", NOW - timedelta(minutes=10)),
        ("02:55", datetime(2026, 11, 27, 2, 55, tzinfo=UTC)),
        ("03:30", datetime(2026, 11, 26, 3, 30, tzinfo=UTC)),  # not after now: yesterday's
        ("2026-11-27T04:55+02:00", datetime(2026, 11, 27, 2, 55, tzinfo=UTC)),
        ("2026-11-27T02:50Z", datetime(2026, 11, 27, 2, 50, tzinfo=UTC)),
    ],
)
def test_times_people_type(text: str, expected: datetime) -> None:
    assert impact.parse_when(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["25:00", "2026-11-27T02:50", "soon", "-x"])
def test_times_that_are_not(text: str) -> None:
    with pytest.raises(ValueError):
        impact.parse_when(text, now=NOW)


async def test_stated_impact_replaces_the_alerts_in_the_budget(
    ctx: Context, config: FirebreakConfig, clock: FakeClock
) -> None:
    config.services["search-ranker"].slo = Slo(target=99.9, window="30d")
    incident = await incident_with_channel(ctx)  # alert firing since 02:58:00.12
    await impact.state(ctx, incident_id=incident.id, by=ANA, words=["start", "02:50"])
    await impact.state(ctx, incident_id=incident.id, by=ANA, words=["40%"])
    clock.advance(minutes=10)  # 03:10: 20 minutes at 40% so far
    found = await budget_of(ctx, service="search-ranker", incident_id=incident.id)
    assert found is not None and found.report.consumed == timedelta(minutes=8)
    await impact.state(ctx, incident_id=incident.id, by=ANA, words=["end", "03:05"])
    found = await budget_of(ctx, service="search-ranker", incident_id=incident.id)
    assert found is not None and found.report.consumed == timedelta(minutes=6)
    assert found.report.burn_rate == 0
    kinds = [
        t.text
        for t in (await load_incident(ctx, incident.id)).timeline
        if t.kind == "impact.changed"
    ]
    assert kinds == [
        f"<@{ANA}> set the impact start to 2026-11-27 02:50:00 UTC",
        f"<@{ANA}> set the impact to 40% of traffic",
        f"<@{ANA}> set the impact end to 2026-11-27 03:05:00 UTC",
    ]


async def test_impossible_impacts_are_refused(ctx: Context) -> None:
    incident = await incident_with_channel(ctx)
    for words in (["150%"], ["start", "later"], ["middle", "03:00"], ["start", "-1m", "x"]):
        with pytest.raises(Refused):
            await impact.state(ctx, incident_id=incident.id, by=ANA, words=words)
    await impact.state(ctx, incident_id=incident.id, by=ANA, words=["start", "02:50"])
    with pytest.raises(Refused, match=r"would end .* before it starts"):
        await impact.state(ctx, incident_id=incident.id, by=ANA, words=["end", "02:40"])
    assert (await load_incident(ctx, incident.id)).impact_ended_at is None

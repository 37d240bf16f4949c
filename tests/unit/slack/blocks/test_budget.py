"""The budget text (bot/slack/blocks/budget.py): the countdown leads it, in the pinned budget
message as in `/incident budget`'s answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.budget.account import BudgetReport
from bot.budget.slo import Slo
from bot.incidents.ledger import ServiceBudget
from bot.slack.blocks.budget import budget_text

AT = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
BUDGET = timedelta(seconds=302.4)  # 99.95% of 7 days


def service_budget(consumed: timedelta) -> ServiceBudget:
    report = BudgetReport(
        window_start=AT - timedelta(days=7),
        now=AT,
        budget=BUDGET,
        consumed=consumed,
        remaining=BUDGET - consumed,
        consumed_fraction=consumed / BUDGET,
        per_incident={1: consumed},
        burn_rate=0.0,
        projected_exhaustion=None,
        incident_id=1,
        incident_consumed=consumed,
    )
    return ServiceBudget(service="search-ranker", slo=Slo(target=99.95, window="7d"), report=report)


@pytest.mark.parametrize(
    ("remaining", "said"),
    [
        (timedelta(minutes=3, seconds=12, milliseconds=900), "*3m12s of budget left*"),
        (timedelta(seconds=1), "*1s of budget left*"),
        (timedelta(milliseconds=400), "*budget spent, 0s over*"),
        (timedelta(0), "*budget spent, 0s over*"),
        (-timedelta(minutes=1, seconds=5, milliseconds=700), "*budget spent, 1m5s over*"),
    ],
)
def test_the_countdown_in_whole_seconds(remaining: timedelta, said: str) -> None:
    assert budget_text(service_budget(BUDGET - remaining)).split("\n")[0] == said


def test_the_countdown_comes_first() -> None:
    left = budget_text(service_budget(timedelta(minutes=2)), incident_ref="INC-1").split("\n")
    assert left[:3] == [
        "*3m2s of budget left*",
        "*search-ranker* · SLO 99.95% over 7d (time-based) · budget 5m2s",
        "Consumed 2m (40%).",
    ]
    over = budget_text(service_budget(timedelta(minutes=6)), incident_ref="INC-1").split("\n")
    assert over[0] == "*budget spent, 57s over*"
    assert over[2] == "Consumed 6m (119%)."

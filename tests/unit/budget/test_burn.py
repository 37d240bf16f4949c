from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.budget.burn import burn_down
from bot.budget.impact import Impact
from bot.budget.slo import Slo

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
DAY_AT_99 = Slo(target=99.0, window="1d")  # 14.4-minute budget
BUDGET = timedelta(minutes=14.4)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def test_the_curve_bends_exactly_where_impact_starts_and_ends() -> None:
    impacts = [Impact(start=minutes(10), end=minutes(16), fraction=0.5, incident_id=1)]
    points = burn_down(slo=DAY_AT_99, impacts=impacts, start=minutes(0), end=minutes(30))
    by_time = {p.at: p.remaining for p in points}
    assert by_time[minutes(0)] == BUDGET
    assert by_time[minutes(10)] == BUDGET  # a breakpoint, not only an evenly spaced sample
    assert by_time[minutes(16)] == BUDGET - timedelta(minutes=3)  # 6 minutes at half
    assert by_time[minutes(30)] == BUDGET - timedelta(minutes=3)
    assert [p.at for p in points] == sorted(by_time)


def test_budget_comes_back_as_an_old_incident_ages_out_of_the_window() -> None:
    old = Impact(start=minutes(-24 * 60 + 5), end=minutes(-24 * 60 + 9), incident_id=1)
    points = burn_down(slo=DAY_AT_99, impacts=[old], start=minutes(0), end=minutes(20))
    by_time = {p.at: p.remaining for p in points}
    assert by_time[minutes(0)] == BUDGET - timedelta(minutes=4)
    assert by_time[minutes(5)] == BUDGET - timedelta(minutes=4)  # it starts ageing out here
    assert by_time[minutes(9)] == BUDGET  # and is gone here
    assert by_time[minutes(20)] == BUDGET


def test_an_ongoing_incident_overspends_and_goes_negative() -> None:
    ongoing = [Impact(start=minutes(0), end=None, incident_id=1)]
    points = burn_down(slo=DAY_AT_99, impacts=ongoing, start=minutes(0), end=minutes(20))
    assert points[-1].remaining == BUDGET - timedelta(minutes=20)
    assert points[-1].remaining < timedelta(0)


def test_drills_do_not_burn() -> None:
    drill = [Impact(start=minutes(1), end=minutes(9), incident_id=1, drill=True)]
    points = burn_down(slo=DAY_AT_99, impacts=drill, start=minutes(0), end=minutes(10))
    assert {p.remaining for p in points} == {BUDGET}


def test_a_span_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="ends"):
        burn_down(slo=DAY_AT_99, impacts=[], start=minutes(5), end=minutes(1))

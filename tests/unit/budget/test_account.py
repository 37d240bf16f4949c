from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.budget.account import account, crossed
from bot.budget.impact import Impact
from bot.budget.slo import Slo

NOW = datetime(2024, 5, 31, 12, 0, tzinfo=UTC)
SLO_30D = Slo(target=99.9, window="30d")  # 43.2-minute budget


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def imp(
    start_ago: float,
    end_ago: float | None,
    fraction: float = 1.0,
    *,
    incident: int = 1,
    drill: bool = False,
) -> Impact:
    return Impact(
        start=ago(start_ago),
        end=None if end_ago is None else ago(end_ago),
        fraction=fraction,
        incident_id=incident,
        drill=drill,
    )


def test_reference_example_twenty_minutes_at_half_failure() -> None:
    # 99.9% over 30 days, 20 min at 50% failure = 10 bad minutes = 23% of 43.2 minutes.
    report = account(slo=SLO_30D, impacts=[imp(120, 100, 0.5, incident=3)], now=NOW, incident_id=3)
    assert report.budget == timedelta(minutes=43.2)
    assert report.consumed == timedelta(minutes=10)
    assert round(report.consumed_fraction * 100, 1) == 23.1
    assert report.remaining == timedelta(minutes=33.2)
    assert report.per_incident == {3: timedelta(minutes=10)}
    assert report.incident_consumed == timedelta(minutes=10)
    assert report.incident_fraction == pytest.approx(10 / 43.2)
    assert report.burn_rate == 0.0  # it is over
    assert report.projected_exhaustion is None
    assert not report.exhausted


def test_full_outage_burns_at_1000_and_exhausts_in_about_43_minutes() -> None:
    report = account(slo=SLO_30D, impacts=[imp(0, None)], now=NOW)
    assert report.burn_rate == pytest.approx(1000)
    assert report.projected_exhaustion == NOW + timedelta(minutes=43.2)
    assert round((report.projected_exhaustion - NOW) / timedelta(minutes=1)) == 43


def test_partial_ongoing_impact_burns_at_fraction_over_error_fraction() -> None:
    slo = Slo(target=99.95, window="28d")  # 20.16-minute budget
    report = account(slo=slo, impacts=[imp(10, None, 0.4, incident=8)], now=NOW, incident_id=8)
    assert report.burn_rate == pytest.approx(0.4 / 0.0005)
    assert report.consumed == timedelta(minutes=4)
    assert report.incident_consumed == timedelta(minutes=4)
    # 16.16 minutes left, drained at 0.4 bad minutes per minute.
    assert report.projected_exhaustion == NOW + timedelta(minutes=16.16 / 0.4)


def test_earlier_incidents_in_the_window_count_against_the_remaining_budget() -> None:
    impacts = [
        imp(60 * 24 * 10, 60 * 24 * 10 - 20, incident=1),  # ten days ago: 20 bad minutes
        imp(60 * 24 * 40, 60 * 24 * 40 - 30, incident=2),  # forty days ago: out of the window
        imp(5, None, 0.5, incident=3),  # ongoing: 2.5 bad minutes so far
    ]
    report = account(slo=SLO_30D, impacts=impacts, now=NOW, incident_id=3)
    assert report.per_incident == {1: timedelta(minutes=20), 3: timedelta(minutes=2.5)}
    assert report.consumed == timedelta(minutes=22.5)
    assert report.remaining == timedelta(minutes=20.7)
    assert report.incident_consumed == timedelta(minutes=2.5)
    assert report.burn_rate == pytest.approx(500)
    assert report.projected_exhaustion == NOW + timedelta(minutes=41.4)
    assert report.window_start == NOW - timedelta(days=30)


def test_an_impact_straddling_the_window_start_counts_only_inside() -> None:
    start = NOW - timedelta(days=30, minutes=10)
    impacts = [Impact(start=start, end=start + timedelta(minutes=30), incident_id=1)]
    assert account(slo=SLO_30D, impacts=impacts, now=NOW).consumed == timedelta(minutes=20)


def test_overspent_budget_goes_negative_and_projects_nothing() -> None:
    report = account(slo=SLO_30D, impacts=[imp(60, None)], now=NOW)
    assert report.remaining == timedelta(minutes=43.2 - 60)
    assert report.remaining < timedelta(0)
    assert report.consumed_fraction == pytest.approx(60 / 43.2)
    assert report.exhausted
    assert report.burn_rate == pytest.approx(1000)
    assert report.projected_exhaustion is None


def test_drills_neither_consume_nor_burn() -> None:
    impacts = [imp(30, None, incident=4, drill=True), imp(50, 40, 0.5, incident=5)]
    report = account(slo=SLO_30D, impacts=impacts, now=NOW, incident_id=4)
    assert report.consumed == timedelta(minutes=5)
    assert report.per_incident == {5: timedelta(minutes=5)}
    assert report.incident_consumed == timedelta(0)
    assert report.burn_rate == 0.0
    assert report.projected_exhaustion is None


def test_overlapping_incidents_burn_at_the_worst_not_the_sum() -> None:
    impacts = [imp(20, None, 0.3, incident=1), imp(10, None, 0.6, incident=2)]
    report = account(slo=SLO_30D, impacts=impacts, now=NOW)
    assert report.burn_rate == pytest.approx(600)
    assert report.consumed == timedelta(minutes=10 * 0.3 + 10 * 0.6)
    assert sum(report.per_incident.values(), timedelta(0)) == report.consumed


def test_an_impact_with_a_future_end_is_still_burning() -> None:
    report = account(slo=SLO_30D, impacts=[imp(10, -10, 0.5)], now=NOW)
    assert report.consumed == timedelta(minutes=5)
    assert report.burn_rate == pytest.approx(500)


def test_no_incident_asked_means_no_incident_figures() -> None:
    report = account(slo=SLO_30D, impacts=[], now=NOW)
    assert report.consumed == timedelta(0)
    assert report.consumed_fraction == 0.0
    assert report.remaining == report.budget
    assert report.per_incident == {}
    assert report.incident_consumed is None
    assert report.incident_fraction is None


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        account(slo=SLO_30D, impacts=[], now=NOW.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (0.1, 0.3, []),
        (0.4, 0.6, [0.5]),
        (0.4, 0.5, [0.5]),  # reaching a threshold counts
        (0.5, 0.7, []),  # already announced
        (0.3, 1.2, [0.5, 1.0]),
        (0.9, 1.0, [1.0]),
        (1.2, 0.3, []),  # going down announces nothing
        (0.6, 0.6, []),
    ],
)
def test_crossed_thresholds(before: float, after: float, expected: list[float]) -> None:
    assert crossed(before=before, after=after) == expected


def test_crossed_custom_thresholds_come_back_sorted() -> None:
    assert crossed(before=0.0, after=0.3, thresholds=(0.25, 0.1, 0.5)) == [0.1, 0.25]

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from bot.budget.slo import Slo, SloError, load_openslo
from bot.validation import describe


def minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


# The reference table: minutes of full outage for a time-based SLO.
@pytest.mark.parametrize(
    ("target", "window", "expected"),
    [
        (99.9, "7d", 10.08),
        (99.9, "28d", 40.32),
        (99.9, "30d", 43.2),
        (99.95, "7d", 5.04),
        (99.95, "28d", 20.16),
        (99.95, "30d", 21.6),
        (99.99, "7d", 1.01),
        (99.99, "28d", 4.03),
        (99.99, "30d", 4.32),
    ],
)
def test_budget_matches_the_reference_table(target: float, window: str, expected: float) -> None:
    slo = Slo(target=target, window=window)
    assert round(minutes(slo.budget), 2) == expected


def test_budgets_are_exact_not_float_noise() -> None:
    assert Slo(target=99.9, window="30d").budget == timedelta(minutes=43, seconds=12)
    assert Slo(target=99.95, window="28d").budget == timedelta(minutes=20, seconds=9.6)
    assert Slo(target=99.99, window="7d").budget == timedelta(seconds=60.48)
    assert Slo(target=99.9, window="7d").error_fraction == 0.001


def test_defaults_and_serialisation() -> None:
    slo = Slo(target="99.95%", window="28d")
    assert slo.target == 99.95
    assert slo.method == "time"
    assert slo.window == timedelta(days=28)
    assert slo.model_dump(mode="json") == {
        "target": 99.95,
        "window": "28d",
        "method": "time",
        "valid_requests": None,
    }


def test_request_budget_from_the_workbook() -> None:
    # 3M requests at 99.9% over 4 weeks: 3,000 errors.
    slo = Slo(target=99.9, window="28d", method="requests", valid_requests=3_000_000)
    assert slo.budget_requests == 3000
    assert Slo(target=99.9, window="28d", method="requests").budget_requests is None
    # The time budget still holds, as the evenly-spread equivalent.
    assert slo.budget == timedelta(minutes=40.32)


def problems(**fields: object) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as info:
        Slo.model_validate(fields)
    return describe(info.value)


@pytest.mark.parametrize(
    ("target", "words"),
    [
        (100, "must be below 100"),
        (100.5, "must be below 100"),
        (0, "above 0"),
        (-5, "above 0"),
        (0.999, "looks like a fraction"),
        (float("nan"), "not a number"),
    ],
)
def test_invalid_targets_name_the_field_and_reason(target: float, words: str) -> None:
    [problem] = problems(target=target, window="28d")
    assert problem["field"] == "target"
    assert words in problem["message"]


@pytest.mark.parametrize(
    ("window", "shown"),
    [("36h", "1d12h"), ("12h", "12h"), ("91d", "91d"), ("0s", "0s"), ("1d12h", "1d12h")],
)
def test_invalid_windows_name_the_field_and_reason(window: str, shown: str) -> None:
    [problem] = problems(target=99.9, window=window)
    assert problem["field"] == "window"
    assert "whole number of days from 1d to 90d" in problem["message"]
    assert f"got {shown}" in problem["message"]


@pytest.mark.parametrize("window", ["1d", "90d", "7d"])
def test_window_bounds_are_inclusive(window: str) -> None:
    assert Slo(target=99.9, window=window).window.days == int(window[:-1])


def test_other_mistakes() -> None:
    assert problems(target=99.9, window="soon")[0]["field"] == "window"
    assert problems(target=99.9, window="7d", method="events")[0]["field"] == "method"
    assert problems(target=99.9, window="7d", objective=99)[0]["field"] == "objective"
    [problem] = problems(target=99.9, window="7d", valid_requests=1000)
    assert problem["field"] == "valid_requests"
    assert 'only to method: "requests"' in problem["message"]
    [problem] = problems(target=99.9, window="7d", method="requests", valid_requests=0)
    assert problem["field"] == "valid_requests"
    assert {p["field"] for p in problems()} == {"target", "window"}


OPENSLO = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: ranker-availability
spec:
  service: ranker
  indicatorRef: ranker-errors
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: Good responses
      target: 0.999
"""


def test_openslo_occurrences_is_request_based() -> None:
    slo = load_openslo(OPENSLO)
    assert slo == Slo(target=99.9, window="28d", method="requests")


@pytest.mark.parametrize(
    ("replace", "expected"),
    [
        (("Occurrences", "Timeslices"), Slo(target=99.9, window="28d")),
        (("Occurrences", "RatioTimeslices"), Slo(target=99.9, window="28d")),
        (
            ("target: 0.999", "targetPercent: 99.95"),
            Slo(target=99.95, window="28d", method="requests"),
        ),
        (("28d", "4w"), Slo(target=99.9, window="28d", method="requests")),
        (("28d", "1M"), Slo(target=99.9, window="30d", method="requests")),
        (("      isRolling: true\n", ""), Slo(target=99.9, window="28d", method="requests")),
    ],
)
def test_openslo_variants(replace: tuple[str, str], expected: Slo) -> None:
    assert load_openslo(OPENSLO.replace(*replace)) == expected


def test_openslo_picks_the_slo_among_other_documents() -> None:
    service = "apiVersion: openslo/v1\nkind: Service\nmetadata:\n  name: ranker\nspec: {}\n"
    other = OPENSLO.replace("ranker-availability", "ranker-latency").replace("0.999", "0.99")
    assert load_openslo(f"{service}---\n{OPENSLO}").target == 99.9
    assert load_openslo(f"{OPENSLO}---\n{other}", name="ranker-latency").target == 99.0
    with pytest.raises(SloError, match=r"several SLOs .*'ranker-availability', 'ranker-latency'"):
        load_openslo(f"{OPENSLO}---\n{other}")
    with pytest.raises(SloError, match="no kind: SLO document is named 'nope'"):
        load_openslo(OPENSLO, name="nope")
    with pytest.raises(SloError, match="none of the 2 documents is of kind SLO"):
        load_openslo(f"{service}---\n{service}")


def test_openslo_picks_an_objective_by_display_name() -> None:
    two = OPENSLO + "    - displayName: Fast responses\n      targetPercent: 95\n"
    assert load_openslo(two, objective="Fast responses").target == 95
    with pytest.raises(SloError) as info:
        load_openslo(two)
    assert info.value.place == "spec.objectives"
    assert "2 objectives ('Good responses', 'Fast responses')" in info.value.reason
    with pytest.raises(SloError, match="no objective has displayName 'Slow'"):
        load_openslo(two, objective="Slow")


@pytest.mark.parametrize(
    ("replace", "place", "reason"),
    [
        (
            ("openslo/v1", "openslo/v1alpha"),
            "apiVersion",
            "expected 'openslo/v1', got 'openslo/v1alpha'",
        ),
        (("kind: SLO", "kind: SLI"), "kind", "expected 'SLO', got 'SLI'"),
        (
            ("target: 0.999", "target: 99.9"),
            "spec.objectives[0].target",
            "not a fraction like 0.999",
        ),
        (("target: 0.999", "target: 0"), "spec.objectives[0].target", "not a fraction"),
        (("target: 0.999", "target: '0.999'"), "spec.objectives[0].target", "expected a number"),
        (
            ("target: 0.999", "targetPercent: 100"),
            "spec.objectives[0].targetPercent",
            "not a percentage",
        ),
        (
            ("target: 0.999", "targetPercent: 0.5"),
            "spec.objectives[0].targetPercent",
            "looks like a fraction",
        ),
        (
            ("target: 0.999", "target: 0.999\n      targetPercent: 99.9"),
            "spec.objectives[0]",
            "not both",
        ),
        (("target: 0.999", "op: lt"), "spec.objectives[0]", "neither target nor targetPercent"),
        (
            ("isRolling: true", "isRolling: false"),
            "spec.timeWindow[0]",
            "calendar-aligned windows are not supported",
        ),
        (
            ("isRolling: true", "calendar: {startTime: '2024-01-01 00:00:00', timeZone: UTC}"),
            "spec.timeWindow[0]",
            "rolling",
        ),
        (
            ("28d", "2 weeks"),
            "spec.timeWindow[0].duration",
            "'2 weeks' is not a duration shorthand",
        ),
        (("28d", "12h"), "spec.timeWindow[0].duration", "whole number of days from 1d to 90d"),
        (("28d", "1Y"), "spec.timeWindow[0].duration", "(got 365d)"),
        (
            ("Occurrences", "Events"),
            "spec.budgetingMethod",
            "expected one of Occurrences, Timeslices, RatioTimeslices, got 'Events'",
        ),
        (("  budgetingMethod: Occurrences\n", ""), "spec.budgetingMethod", "got None"),
        (
            ("    - duration: 28d\n      isRolling: true\n", ""),
            "spec.timeWindow",
            "exactly one time window",
        ),
        (
            ("  objectives:\n    - displayName: Good responses\n      target: 0.999\n", ""),
            "spec.objectives",
            "at least one objective",
        ),
    ],
)
def test_openslo_errors_name_the_place_and_reason(
    replace: tuple[str, str], place: str, reason: str
) -> None:
    text = OPENSLO.replace(*replace)
    assert text != OPENSLO
    with pytest.raises(SloError) as info:
        load_openslo(text)
    assert info.value.place == place
    assert reason in info.value.reason
    assert str(info.value) == f"{place}: {info.value.reason}"


@pytest.mark.parametrize(
    ("text", "place", "reason"),
    [
        ("", "(document)", "empty"),
        ("spec: [", "(document)", "not valid YAML"),
        ("- a list", "(document)", "expected a mapping"),
        ("apiVersion: openslo/v1\nkind: SLO\nspec: 3\n", "spec", "expected a mapping, got int"),
    ],
)
def test_openslo_unreadable_documents(text: str, place: str, reason: str) -> None:
    with pytest.raises(SloError) as info:
        load_openslo(text)
    assert (info.value.place, reason in info.value.reason) == (place, True)

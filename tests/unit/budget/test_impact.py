from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.budget.impact import Impact, Segment, clip, merge

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def imp(
    start: float,
    end: float | None,
    fraction: float = 1.0,
    *,
    incident: int = 1,
    drill: bool = False,
) -> Impact:
    return Impact(
        start=at(start),
        end=None if end is None else at(end),
        fraction=fraction,
        incident_id=incident,
        drill=drill,
    )


def spans(segments: list[Segment]) -> list[tuple[float, float, float, int]]:
    """Segments as (start minute, end minute, fraction, incident) for readable assertions."""
    return [
        (
            (s.start - T0) / timedelta(minutes=1),
            (s.end - T0) / timedelta(minutes=1),
            s.fraction,
            s.incident_id,
        )
        for s in segments
    ]


def total(segments: list[Segment]) -> timedelta:
    return sum((s.bad for s in segments), timedelta(0))


# Impact itself


@pytest.mark.parametrize("fraction", [0, -0.1, 1.01, float("nan")])
def test_fraction_must_be_in_zero_one(fraction: float) -> None:
    with pytest.raises(ValueError, match="must be above 0 and at most 1"):
        imp(0, 10, fraction)


def test_impact_rejects_backwards_and_naive_times() -> None:
    with pytest.raises(ValueError, match=r"ends .* before it starts"):
        imp(10, 5)
    with pytest.raises(ValueError, match="naive"):
        Impact(start=datetime(2024, 5, 1), end=None, incident_id=1)
    with pytest.raises(TypeError):
        Impact(at(0), None, 1.0, 1)  # type: ignore[call-arg]  # keyword-only


# clip


def test_clip_cuts_at_the_window_start_and_at_now() -> None:
    impacts = [imp(-30, 10, incident=1), imp(50, 80, incident=2), imp(70, None, 0.4, incident=3)]
    clipped = clip(impacts, window_start=at(0), now=at(60))
    assert [(i.start, i.end, i.incident_id) for i in clipped] == [
        (at(0), at(10), 1),
        (at(50), at(60), 2),
    ]


def test_clip_ends_ongoing_impacts_at_now_and_keeps_their_fraction() -> None:
    [clipped] = clip([imp(20, None, 0.4, incident=7)], window_start=at(0), now=at(45))
    assert (clipped.start, clipped.end, clipped.fraction, clipped.incident_id) == (
        at(20),
        at(45),
        0.4,
        7,
    )


def test_clip_drops_what_lies_outside_and_keeps_drills() -> None:
    impacts = [
        imp(-60, -10),  # ended before the window
        imp(-60, 0),  # ends exactly at the window start: nothing inside
        imp(90, 100),  # not begun by now
        imp(60, None),  # begins exactly at now: nothing yet
        imp(10, 20, drill=True),
    ]
    clipped = clip(impacts, window_start=at(0), now=at(60))
    assert [(i.start, i.end, i.drill) for i in clipped] == [(at(10), at(20), True)]


# merge


def test_disjoint_impacts_stay_apart() -> None:
    segments = merge([imp(30, 40, 0.5, incident=2), imp(0, 10, incident=1)])
    assert spans(segments) == [(0, 10, 1.0, 1), (30, 40, 0.5, 2)]
    assert total(segments) == timedelta(minutes=15)


def test_nested_impact_at_a_lower_fraction_adds_nothing() -> None:
    segments = merge([imp(0, 60, 1.0, incident=1), imp(10, 20, 0.3, incident=2)])
    assert spans(segments) == [(0, 60, 1.0, 1)]
    assert total(segments) == timedelta(minutes=60)


def test_nested_impact_at_a_higher_fraction_takes_over_while_it_lasts() -> None:
    segments = merge([imp(0, 60, 0.2, incident=1), imp(10, 20, 1.0, incident=2)])
    assert spans(segments) == [(0, 10, 0.2, 1), (10, 20, 1.0, 2), (20, 60, 0.2, 1)]
    assert total(segments) == timedelta(minutes=2 + 10 + 8)


def test_chained_overlaps_count_each_minute_once() -> None:
    impacts = [imp(0, 20, incident=1), imp(10, 30, incident=2), imp(25, 40, incident=3)]
    segments = merge(impacts)
    assert total(segments) == timedelta(minutes=40)  # wall-clock 0..40, not 20+20+15
    # The incident already burning keeps the shared time; the later ones get what they add.
    assert spans(segments) == [(0, 20, 1.0, 1), (20, 30, 1.0, 2), (30, 40, 1.0, 3)]


def test_partial_fractions_overlap_at_the_highest_not_the_sum() -> None:
    segments = merge([imp(0, 30, 0.4, incident=1), imp(10, 40, 0.5, incident=2)])
    assert spans(segments) == [(0, 10, 0.4, 1), (10, 40, 0.5, 2)]
    assert total(segments) == timedelta(minutes=4 + 15)
    wall_clock = timedelta(minutes=40)
    assert total(segments) <= wall_clock * 0.5


def test_same_start_same_fraction_goes_to_the_lowest_incident_id() -> None:
    segments = merge([imp(0, 20, 0.5, incident=9), imp(0, 30, 0.5, incident=4)])
    assert spans(segments) == [(0, 30, 0.5, 4)]
    assert total(segments) == timedelta(minutes=15)


def test_overlapping_alerts_of_one_incident_count_once() -> None:
    segments = merge([imp(0, 20, incident=1), imp(5, 25, incident=1), imp(5, 25, incident=1)])
    assert spans(segments) == [(0, 25, 1.0, 1)]


def test_touching_impacts_do_not_overlap() -> None:
    segments = merge([imp(0, 10, incident=1), imp(10, 20, incident=2)])
    assert spans(segments) == [(0, 10, 1.0, 1), (10, 20, 1.0, 2)]
    assert total(segments) == timedelta(minutes=20)


def test_drills_are_excluded_before_merging() -> None:
    impacts = [imp(0, 30, 1.0, incident=5, drill=True), imp(10, 20, 0.5, incident=6)]
    segments = merge(impacts)
    assert spans(segments) == [(10, 20, 0.5, 6)]
    assert merge([imp(0, 30, drill=True)]) == []


def test_merge_needs_closed_impacts_and_skips_empty_ones() -> None:
    with pytest.raises(ValueError, match="clip"):
        merge([imp(0, None)])
    assert merge([]) == []
    assert merge([imp(5, 5)]) == []


def test_segment_bad_minutes() -> None:
    segment = Segment(start=at(0), end=at(20), fraction=0.5, incident_id=1)
    assert segment.duration == timedelta(minutes=20)
    assert segment.bad == timedelta(minutes=10)
